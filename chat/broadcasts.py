"""Channel-layer groups and broadcasts: from async code (`broadcast`, awaited once the service call
has returned, hence committed) or from sync code after commit (`broadcast_on_commit`)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import weakref
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from chat import protocol
from chat.layer_watch import LAYER_ERRORS

logger = logging.getLogger(__name__)


# --- groups and broadcasts ------------------------------------------------------------------------


def room_group(room_id: int) -> str:
    return f"chat-room-{room_id}"


def user_group(user_id: int) -> str:
    return f"chat-user-{user_id}"


def session_group(session_key: str) -> str:
    """Every connection opened with one session. The key is a credential: the group (a Redis key with
    channels_redis) is named after a digest of it, never the key itself."""
    return "chat-session-" + hashlib.sha256(session_key.encode()).hexdigest()[:32]


class PresenceBatch:
    """Joins and departures of one process's connections, sent to each room as one `presence` frame
    (`joined`, `left`: lists of people) every CHAT_PRESENCE_BATCH_SECONDS. One frame per person
    arriving would make a reconnect storm of n people cost n² frames (chat/PROTOCOL.md, Presence).
    A person's last change within the interval wins (left then back: only `joined`)."""

    def __init__(self, layer, interval: float):
        self.layer = layer
        self.interval = interval
        self.pending: dict[int, dict[int, tuple[str, dict]]] = {}
        self.task: asyncio.Task | None = None

    def note(self, room_id: int, change: str, person: dict) -> None:
        self.pending.setdefault(room_id, {})[person["id"]] = (change, person)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        # Changes noted while a frame is on its way wait for the next turn of this loop, not for a next note().
        while self.pending:
            await asyncio.sleep(self.interval)
            pending, self.pending = self.pending, {}
            await self._send(pending)

    async def _send(self, pending: dict[int, dict[int, tuple[str, dict]]]) -> None:
        for room_id, changes in pending.items():
            frame = {"type": "presence",
                     "joined": [person for change, person in changes.values() if change == "joined"],
                     "left": [person for change, person in changes.values() if change == "left"]}
            try:
                await self.layer.group_send(room_group(room_id), {"type": "chat.frame", "text": protocol.encode(frame),
                                                                  "exclude": None})
            except LAYER_ERRORS as error:
                # Best effort: the process's watch closes its connections when the layer is lost.
                logger.warning("Présence non diffusée au salon %s (%s).", room_id, error)


_presence_batches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PresenceBatch] = weakref.WeakKeyDictionary()


def presence_changed(room_id: int, change: str, person: dict) -> None:
    """Queue a `joined` or `left` for the room's next presence frame (from async code)."""
    layer = get_channel_layer()
    loop = asyncio.get_running_loop()
    batch = _presence_batches.get(loop)
    if batch is None or batch.layer is not layer:
        batch = _presence_batches[loop] = PresenceBatch(layer, settings.CHAT_PRESENCE_BATCH_SECONDS)
    batch.note(room_id, change, person)


async def broadcast(room_id: int, frame: dict, *, exclude_channel: str | None = None) -> None:
    """Send a frame to every open connection of the room. The JSON is encoded once, here."""
    await get_channel_layer().group_send(
        room_group(room_id), {"type": "chat.frame", "text": protocol.encode(frame), "exclude": exclude_channel}
    )


def _send_now(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    def send() -> None:
        try:
            async_to_sync(layer.group_send)(group, message)
        except LAYER_ERRORS as error:
            # The change is committed; only its live delivery failed. The room's open connections are
            # being closed by their process's watch (chat/layer_watch.py) and resume what they missed.
            # Raising here would turn a saved message into a 500 and skip the other on_commit callbacks
            # (search indexing among them): tests/faults/test_redis_down.py.
            logger.warning("Diffusion impossible vers %s (couche de canaux injoignable : %s).", group, error)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        send()
        return
    # An event loop runs in this very thread (Playwright's sync API in browser tests, for one):
    # async_to_sync refuses to run here, so the message leaves from a short-lived thread.
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    sender.join(timeout=10)


def broadcast_on_commit(room_id: int, frame: dict) -> None:
    """From sync code (views, commands): broadcast once the current transaction has committed."""
    message = {"type": "chat.frame", "text": protocol.encode(frame), "exclude": None}
    transaction.on_commit(lambda: _send_now(room_group(room_id), message))


def on_sessions_ended(ended) -> None:
    """The chat's handler of directory.sessions (registered in ChatConfig.ready), called after commit.
    A logout closes that session's connections at once (they close whatever they find, since the session
    row may not be deleted yet); a password change, a reset or a deactivation makes every connection of
    the person check its session and its access again, and those whose session no longer holds close
    (chat/PROTOCOL.md, close code 4440)."""
    if ended.session_key:
        _send_now(session_group(ended.session_key), {"type": "chat.session_ended"})
    else:
        _send_now(user_group(ended.user_id), {"type": "chat.access_changed"})


def notify_access_changed_on_commit(user_ids: Iterable[int]) -> None:
    """After commit, make each person's open connections re-check the room they are in."""
    for user_id in set(user_ids):
        transaction.on_commit(
            lambda user_id=user_id: _send_now(user_group(user_id), {"type": "chat.access_changed"})
        )
