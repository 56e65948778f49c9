"""The chat's refusals: `ChatError` (an action the person can fix, with a chat.protocol code and a French
message, turned into an `error` frame by the consumer and into a form error by the views) and
`ConnectionRefused` (a websocket that must not open, with its close code)."""

from __future__ import annotations

from typing import Any

from chat import protocol


class ChatError(Exception):
    """A refused action the person can understand: `code` (chat.protocol) and a French `message`."""

    def __init__(self, code: str, message: str, **refs: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.refs = refs

    def frame(self, **more_refs: Any) -> dict:
        return protocol.error_frame(self.code, self.message, **{**self.refs, **more_refs})


class ConnectionRefused(Exception):
    """A websocket connection that must not open; `code` is the close code (chat.protocol)."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code
