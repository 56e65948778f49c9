"""Who is online in a room, kept in the cache (no database)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from chat import protocol

# --- presence --------------------------------------------------------------------------------------
# Per room, a cache entry maps each open connection (channel name) to its person and an expiry. A
# connection refreshes its entry every CHAT_PRESENCE_REFRESH_SECONDS; entries of crashed servers
# expire after CHAT_PRESENCE_TTL_SECONDS. Calls run in the database thread, one at a time per process.


def _presence_key(room_id: int) -> str:
    return f"chat:presence:{room_id}"


def _live_entries(room_id: int, now: float) -> dict[str, list]:
    entries = cache.get(_presence_key(room_id)) or {}
    return {channel: entry for channel, entry in entries.items() if entry[3] > now}


def _online(entries: dict[str, list]) -> list[dict]:
    people = {entry[0]: {"id": entry[0], "username": entry[1], "name": entry[2]} for entry in entries.values()}
    return sorted(people.values(), key=lambda person: person["name"].lower())


def presence_join(room_id: int, channel_name: str, user) -> tuple[list[dict], bool]:
    """Record the connection; returns (who is online, whether the person just came online)."""
    now = time.time()
    entries = _live_entries(room_id, now)
    already = any(entry[0] == user.pk for entry in entries.values())
    entries[channel_name] = [user.pk, user.get_username(), protocol.display_name(user),
                             now + settings.CHAT_PRESENCE_TTL_SECONDS]
    cache.set(_presence_key(room_id), entries, timeout=settings.CHAT_PRESENCE_TTL_SECONDS * 2)
    return _online(entries), not already


def presence_refresh(room_id: int, channel_name: str, user) -> None:
    presence_join(room_id, channel_name, user)


def presence_leave(room_id: int, channel_name: str, user_id: int) -> bool:
    """Forget the connection; returns whether the person has no other connection to the room."""
    now = time.time()
    entries = _live_entries(room_id, now)
    entries.pop(channel_name, None)
    cache.set(_presence_key(room_id), entries, timeout=settings.CHAT_PRESENCE_TTL_SECONDS * 2)
    return not any(entry[0] == user_id for entry in entries.values())


def online_people(room_id: int) -> list[dict]:
    return _online(_live_entries(room_id, time.time()))
