"""The websocket protocol's vocabulary: close codes, error codes and the frames the server sends.

chat/PROTOCOL.md documents every frame, field and code listed here; keep the two in step.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

from core import markup

# --- close codes ---------------------------------------------------------------------------------
# Sent before the handshake is accepted (a refusal) or on an open connection (access withdrawn).
CLOSE_NOT_AUTHENTICATED = 4401  # not logged in, account inactive, or no longer a member of the network
CLOSE_FORBIDDEN = 4403  # a member of the network, but not of this room (or no longer)
CLOSE_NOT_FOUND = 4404  # no such room, or no such websocket address at all
# The session the connection opened with is over: logged out (that session), password changed or reset,
# account deactivated or deleted (every session of the person). After IIS's HTTP 440 "login time-out".
CLOSE_SESSION_ENDED = 4440
# The channel layer (Redis) cannot be reached: the live feed is cut. The client reconnects with backoff
# and resumes from the database, which holds every acknowledged message (chat/layer_watch.py). Not the
# standard 1013 ("try again later"): servers may send only 1000 and 3000-4999 (daphne enforces it).
CLOSE_UNAVAILABLE = 4503

# --- error codes (error frames; the connection stays open) -------------------------------------
INVALID_JSON = "invalid_json"
FRAME_TOO_LARGE = "frame_too_large"
BINARY_FRAME = "binary_frame"
INVALID_FRAME = "invalid_frame"
UNKNOWN_TYPE = "unknown_type"
INVALID_CLIENT_ID = "invalid_client_id"
EMPTY_MESSAGE = "empty_message"
MESSAGE_TOO_LONG = "message_too_long"
INVALID_TEXT = "invalid_text"
RATE_LIMITED = "rate_limited"
NOT_FOUND = "message_not_found"
FORBIDDEN = "forbidden"
ALREADY_DELETED = "message_deleted"
REASON_REQUIRED = "reason_required"
LIVE_UNAVAILABLE = "live_unavailable"  # sent just before closing with CLOSE_UNAVAILABLE

ERROR_CODES = frozenset({
    INVALID_JSON, FRAME_TOO_LARGE, BINARY_FRAME, INVALID_FRAME, UNKNOWN_TYPE, INVALID_CLIENT_ID, EMPTY_MESSAGE,
    MESSAGE_TOO_LONG, INVALID_TEXT, RATE_LIMITED, NOT_FOUND, FORBIDDEN, ALREADY_DELETED, REASON_REQUIRED,
    LIVE_UNAVAILABLE,
})

CLIENT_ID_MAX_LENGTH = 64
MODERATION_REASON_MAX_LENGTH = 500


def encode(frame: dict[str, Any]) -> str:
    """Frames are compact JSON text, UTF-8 as is (no \\u escapes for accented letters)."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def error_frame(code: str, message: str, **refs: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": str(message)}
    frame.update({key: value for key, value in refs.items() if value is not None})
    return frame


def person(user) -> dict[str, Any]:
    """How frames name a person (presence, typing)."""
    return {"id": user.pk, "username": user.get_username(), "name": display_name(user)}


def display_name(user) -> str:
    if user is None:
        return _("Ancien membre")
    return user.get_full_name() or user.get_username()


def message_frame(message, *, author=None) -> dict[str, Any]:
    """The `message` frame of a saved message (`author` saves a query when the caller has it)."""
    author = author if author is not None else message.author
    deleted = message.deleted_at is not None
    return {
        "type": "message",
        "id": message.pk,
        "room": message.room_id,
        "seq": message.seq,
        "client_id": message.client_id,
        "author": author.get_username() if author is not None else None,
        "author_id": message.author_id,
        "author_name": display_name(author),
        "body": "" if deleted else message.body,
        "html": "" if deleted else markup.render(message.body, markup.PLAIN),
        "created": message.created_at.isoformat(),
        "edited": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": deleted,
        "moderated": message.moderated,
    }


def edit_frame(message) -> dict[str, Any]:
    return {
        "type": "edit",
        "id": message.pk,
        "room": message.room_id,
        "seq": message.seq,
        "body": message.body,
        "html": markup.render(message.body, markup.PLAIN),
        "edited": message.edited_at.isoformat(),
    }


def delete_frame(message) -> dict[str, Any]:
    return {"type": "delete", "id": message.pk, "room": message.room_id, "seq": message.seq,
            "moderated": message.moderated}
