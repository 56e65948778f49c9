"""Websocket consumers. Thin: parse a frame, call the chat's services (chat.memberships, chat.messages,
chat.reading, chat.presence, chat.broadcasts) in the database thread, answer.

The protocol (frames, fields, error and close codes) is documented in chat/PROTOCOL.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time

from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer
from django.conf import settings
from django.utils.translation import gettext as _

from chat import broadcasts, memberships, messages, presence, protocol, reading
from chat.errors import ChatError, ConnectionRefused
from chat.layer_watch import LAYER_ERRORS, watch_for
from directory import access, sessions

# Kept for the placeholder ping route (tests/test_asgi.py): 4401 not logged in / not a member.
CLOSE_NOT_MEMBER = protocol.CLOSE_NOT_AUTHENTICATED


def off_database(function):
    """Run a call that needs no database (cache, presence) in the default thread pool: Channels'
    database thread runs one call at a time per process, and these should not queue behind saves."""
    return sync_to_async(function, thread_sensitive=False)


def _bind(user, session) -> sessions.SessionBinding:
    """The session a connection opens with (checked again on every frame), or a refusal with 4401."""
    binding = sessions.binding_of(session, user)
    if binding is None:
        raise ConnectionRefused(protocol.CLOSE_NOT_AUTHENTICATED)
    return binding


class PingConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if not await database_sync_to_async(access.is_member)(user):
            await self.close(code=CLOSE_NOT_MEMBER)
            return
        try:
            self.binding = await database_sync_to_async(_bind)(user, self.scope.get("session"))
        except ConnectionRefused as refusal:
            await self.close(code=refusal.code)
            return
        await self.accept()

    async def receive_json(self, content, **kwargs):
        if not await database_sync_to_async(sessions.is_still_valid)(self.binding):
            await self.close(code=protocol.CLOSE_SESSION_ENDED)
            return
        await self.send_json({"type": "pong"})


class NoRouteConsumer(AsyncWebsocketConsumer):
    """Any other websocket address: refused before the handshake with 4404 (chat/PROTOCOL.md), where
    Channels' router would raise and the server answer 500."""

    async def connect(self):
        await self.close(code=protocol.CLOSE_NOT_FOUND)


class RoomConsumer(AsyncWebsocketConsumer):
    """One connection to one room: /ws/discussions/<room_id>/."""

    grant: memberships.Grant | None = None

    async def connect(self):
        self.user = self.scope.get("user")
        self.room_id = self.scope["url_route"]["kwargs"]["room_id"]
        self.grant = None
        self.binding = None
        self.session_key = ""
        self.heartbeat = None
        self.watch = None
        self.cut = False  # closed because the channel layer was lost
        self.last_typing = 0.0
        session = self.scope.get("session")
        if self.user is None or not getattr(self.user, "is_authenticated", False) or session is None:
            await self.close(code=protocol.CLOSE_NOT_AUTHENTICATED)
            return
        # The groups are joined first, all at once, so that one hop to the database thread then decides
        # everything: the room's grant (from the cache under the access version, or checked), the
        # session's binding, and the session still valid now that a logout's notice can no longer be
        # missed. Frames reaching the groups meanwhile are dropped: self.grant is still None.
        self.session_key = getattr(session, "session_key", None) or ""
        # Every join is finished (succeeded or failed) before any is undone.
        joins = await asyncio.gather(*(self.channel_layer.group_add(group, self.channel_name)
                                       for group in self._groups()), return_exceptions=True)
        failed = [error for error in joins if isinstance(error, BaseException)]
        if failed:
            if not all(isinstance(error, LAYER_ERRORS) for error in failed):
                raise failed[0]
            # Redis cannot be reached: refused for now, the client retries with backoff.
            await self._discard_groups()
            await self.close(code=protocol.CLOSE_UNAVAILABLE)
            return
        try:
            self.binding, grant = await database_sync_to_async(self._open)(session)
        except ConnectionRefused as refusal:
            await self._discard_groups()
            await self.close(code=refusal.code)
            return
        self.grant = grant
        await self.accept()
        self.watch = watch_for(self.channel_layer)
        if self.watch is not None:
            self.watch.add(self)
        await self.send_frame({
            "type": "ready",
            "room": self.room_id,
            "user": protocol.person(self.user),
            "can_moderate": self.grant.can_moderate,
            "max_length": settings.CHAT_MAX_MESSAGE_LENGTH,
            "max_frame_bytes": settings.CHAT_MAX_FRAME_BYTES,
        })
        joined, online, count = await off_database(presence.presence_join)(self.room_id, self.channel_name,
                                                                           self.user)
        await self.send_frame({"type": "presence", "online": online, "count": count})
        self.heartbeat = asyncio.create_task(self.keep_alive())
        self.announce(joined)

    def announce(self, joined: presence.Joined) -> None:
        """Queue this person's arrival, and the departures of people whose connections expired, for
        the room's next presence frame (chat.broadcasts.PresenceBatch)."""
        if joined.came_online:
            broadcasts.presence_changed(self.room_id, "joined", protocol.person(self.user))
        for person in joined.gone:
            broadcasts.presence_changed(self.room_id, "left", person)

    def _open(self, session) -> tuple[sessions.SessionBinding, memberships.Grant]:
        """In the database thread, once the groups are joined: the grant (cached or checked), the
        binding, and the session still valid (a logout between the authentication and the joining of
        the session's group is caught here: 4401)."""
        grant = memberships.check_access_cached(self.user, self.room_id)
        binding = _bind(self.user, session)
        if binding.session_key != self.session_key or not sessions.is_still_valid(binding):
            raise ConnectionRefused(protocol.CLOSE_NOT_AUTHENTICATED)
        return binding, grant

    def _groups(self) -> list[str]:
        """The room's group, the person's (access changes, password changes) and the session's (logout)."""
        groups = [broadcasts.room_group(self.room_id), broadcasts.user_group(self.user.pk)]
        if self.session_key:
            groups.append(broadcasts.session_group(self.session_key))
        return groups

    async def disconnect(self, code):
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        if self.watch is not None:
            self.watch.discard(self)
        if self.grant is None:
            return
        await self.leave_room()

    async def leave_room(self):
        """Stop receiving the room's frames and tell the others if this was the person's last connection."""
        grant, self.grant = self.grant, None
        if grant is None:
            return
        await self._discard_groups()
        went_offline = await off_database(presence.presence_leave)(self.room_id, self.channel_name, self.user.pk)
        if went_offline:
            # Best effort: with the channel layer down, the others' connections are being closed anyway.
            broadcasts.presence_changed(self.room_id, "left", protocol.person(self.user))

    async def _discard_groups(self):
        # Best effort too: the layer forgets this channel locally first; its server, if unreachable,
        # forgets the subscription with the connection.
        for group in self._groups():
            with contextlib.suppress(*LAYER_ERRORS):
                await self.channel_layer.group_discard(group, self.channel_name)

    async def layer_lost(self):
        """The channel layer cannot be reached: this connection would miss the room's frames from now
        on. Say so and close with 4503; the client reconnects with backoff, then resumes from the
        database, which holds every acknowledged message (chat/layer_watch.py, chat/PROTOCOL.md)."""
        if self.cut:
            return
        self.cut = True
        if self.watch is not None:
            self.watch.suspect()  # the process's other connections are probably cut off too
            self.watch.discard(self)
            self.watch = None
        await self.send_error(protocol.LIVE_UNAVAILABLE,
                              _("Discussion en direct momentanément interrompue : reconnexion en cours…"))
        await self.close(code=protocol.CLOSE_UNAVAILABLE)

    async def keep_alive(self):
        """Refresh this connection's presence entry; now and then, re-check access in case an
        access_changed event was lost (the pub/sub layer delivers at most once). Jittered, so that
        connections opened together do not all hit the database at the same moment."""
        interval = settings.CHAT_PRESENCE_REFRESH_SECONDS
        recheck_every = settings.CHAT_ACCESS_RECHECK_SECONDS
        await asyncio.sleep(interval * random.uniform(0.5, 1.0))
        last_check = time.monotonic()
        while True:
            if time.monotonic() - last_check >= recheck_every:
                last_check = time.monotonic()
                if not await self.still_allowed():
                    return
            self.announce(await off_database(presence.presence_refresh)(self.room_id, self.channel_name, self.user))
            await asyncio.sleep(interval * random.uniform(0.9, 1.1))

    # --- frames from the client ------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.grant is None:
            return
        # Every frame, whatever it asks: the session must still log the person in (a logout, a new
        # password or a deactivation whose notice was lost is caught here). One query by primary keys.
        if not await database_sync_to_async(sessions.is_still_valid)(self.binding):
            await self.session_ended()
            return
        if text_data is None:
            await self.send_error(protocol.BINARY_FRAME, _("Seules les trames texte (JSON) sont acceptées."))
            return
        limit = settings.CHAT_MAX_FRAME_BYTES
        if len(text_data) > limit or len(text_data.encode("utf-8", "surrogatepass")) > limit:
            await self.send_error(protocol.FRAME_TOO_LARGE,
                                  _("Trame trop volumineuse (%(limit)d octets au plus).") % {"limit": limit},
                                  max_frame_bytes=limit)
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_error(protocol.INVALID_JSON, _("Trame illisible : un objet JSON est attendu."))
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_error(protocol.INVALID_FRAME,
                                  _("Trame invalide : un objet JSON avec un « type » est attendu."))
            return
        handler = self.HANDLERS.get(content["type"])
        if handler is None:
            await self.send_error(protocol.UNKNOWN_TYPE, _("Type de trame inconnu : %(type)s.")
                                  % {"type": content["type"][:40]})
            return
        try:
            await handler(self, content)
        except ChatError as error:
            await self.send_frame(error.frame(client_id=_str_or_none(content.get("client_id"))))
        except LAYER_ERRORS:
            await self.layer_lost()

    async def broadcast_saved(self, frame: dict):
        """Broadcast the frame of a saved change. If the channel layer fails, this connection still gets
        the frame (for a `message`, the sender's acknowledgement: it is saved) before the error goes up."""
        try:
            await broadcasts.broadcast(self.room_id, frame)
        except LAYER_ERRORS:
            await self.send_frame(frame)
            raise

    async def on_send(self, content):
        posted = await database_sync_to_async(messages.post_message)(
            self.user, self.room_id, content.get("client_id"), content.get("body")
        )
        if posted.created:
            await self.broadcast_saved(posted.frame)
        else:
            # A retry: the others already have it (or get it by resuming); the sender gets its ack again.
            await self.send_frame(posted.frame)

    async def on_resume(self, content):
        after = content.get("after")
        frames, complete = await database_sync_to_async(messages.messages_after)(self.room_id, after)
        for frame in frames:
            await self.send_frame(frame)
        last = frames[-1]["id"] if frames else after
        summary = {"type": "resumed", "after": after, "count": len(frames), "complete": complete, "last_id": last}
        if not complete:
            summary["history_url"] = f"/discussions/{self.room_id}/messages.json?after={last}"
        await self.send_frame(summary)

    async def on_edit(self, content):
        frame = await database_sync_to_async(messages.edit_message)(
            self.user, self.room_id, content.get("id"), content.get("body")
        )
        await self.broadcast_saved(frame)

    async def on_delete(self, content):
        frame = await database_sync_to_async(messages.delete_message)(
            self.user, self.room_id, content.get("id"), content.get("reason", "")
        )
        await self.broadcast_saved(frame)

    async def on_read(self, content):
        result = await database_sync_to_async(reading.mark_read)(self.user, self.room_id, content.get("up_to"))
        await self.send_frame({"type": "read", "room": self.room_id, **result})

    async def on_typing(self, content):
        now = time.monotonic()
        if now - self.last_typing < settings.CHAT_TYPING_INTERVAL_SECONDS:
            return
        self.last_typing = now
        await broadcasts.broadcast(self.room_id, {"type": "typing", "user": protocol.person(self.user)},
                                   exclude_channel=self.channel_name)

    async def on_ping(self, content):
        await self.send_frame({"type": "pong"})

    HANDLERS = {
        "send": on_send,
        "resume": on_resume,
        "edit": on_edit,
        "delete": on_delete,
        "read": on_read,
        "typing": on_typing,
        "ping": on_ping,
    }

    async def dispatch(self, message):
        # Channels' dispatch closes stale database connections before every handler, a hop to the
        # shared database thread for each frame delivered. This consumer reaches the database only
        # through database_sync_to_async, which already does that, so the hop is skipped: a broadcast
        # to 200 connections would otherwise queue 200 hops in front of the next message to save.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- events from the channel layer -----------------------------------------------------------

    async def chat_frame(self, event):
        # Frames still queued for this connection after its access was withdrawn are dropped here.
        if self.grant is None or event.get("exclude") == self.channel_name:
            return
        await self.send(text_data=event["text"])

    async def chat_access_changed(self, event):
        await self.still_allowed()

    async def chat_session_ended(self, event):
        await self.session_ended()

    async def session_ended(self):
        """The session is over (logout): leave the room's group at once and close with 4440."""
        await self.leave_room()
        with contextlib.suppress(Exception):
            await self.close(code=protocol.CLOSE_SESSION_ENDED)

    def _recheck(self) -> memberships.Grant:
        if not sessions.is_still_valid(self.binding):
            raise ConnectionRefused(protocol.CLOSE_SESSION_ENDED)
        return memberships.recheck_access(self.user, self.room_id)

    async def still_allowed(self) -> bool:
        """Re-check the session, then access; if either is gone, leave the room's group at once and close
        the connection (4440 for the session, 4401/4403 for access)."""
        if self.grant is None:
            return False
        try:
            self.grant = await database_sync_to_async(self._recheck)()
        except ConnectionRefused as refusal:
            await self.leave_room()
            with contextlib.suppress(Exception):
                await self.close(code=refusal.code)
            return False
        return True

    # --- helpers -----------------------------------------------------------------------------------

    async def send_frame(self, frame: dict):
        await self.send(text_data=protocol.encode(frame))

    async def send_error(self, code: str, message: str, **refs):
        await self.send_frame(protocol.error_frame(code, message, **refs))


def _str_or_none(value) -> str | None:
    return value if isinstance(value, str) and len(value) <= protocol.CLIENT_ID_MAX_LENGTH else None
