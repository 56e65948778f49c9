"""Who is online in a room, kept incrementally in the cache (no database).

Per room, three structures, each changed in O(1) (O(log n) for the sorted set) by one connection's
join, refresh or leave, never rewritten whole:

- the room's connections, each with its expiry (refreshed every CHAT_PRESENCE_REFRESH_SECONDS; the
  entries of a crashed server expire after CHAT_PRESENCE_TTL_SECONDS and are pruned by the next
  join or refresh in the room, a few at a time);
- per person, how many live connections they have in the room (several tabs count once);
- per person online, how frames name them (protocol.person), for the list sent on connect.

With Redis (REDIS_URL: django-redis, shared by every server process) these are a sorted set and two
hashes under the cache's key prefix, changed by small Lua scripts, so that the steps of one change are
atomic across processes. Without it (the embedded default: locmem cache, in-memory channel layer,
one process), the same structures live in this process, under the cache's key prefix: exactly what a
per-process locmem cache would share. Redis unreachable: presence fails open (the connection sees
itself only; chat/PROTOCOL.md, When Redis goes away).

These calls do no database work: the consumer runs them in the default thread pool, not in Channels'
database thread.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import caches

from chat import protocol
from chat.layer_watch import LAYER_ERRORS

try:  # django-redis is what REDIS_URL selects (config/settings.py)
    from django_redis.cache import RedisCache
except ImportError:  # pragma: no cover
    RedisCache = None

# Expired connections pruned by one join or refresh at most (the rest by the next ones).
PRUNE_BATCH = 50


@dataclass
class Joined:
    """What a join (or a refresh) tells the caller."""

    came_online: bool  # the person's first live connection to the room
    gone: list[dict] = field(default_factory=list)  # people whose last connection expired (crashed server)


def _sort_key(person: dict) -> tuple[str, int]:
    return (person["name"].lower(), person["id"])


# --- Redis ------------------------------------------------------------------------------------------

_TOUCH = """
local gone = {}
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[5], 'LIMIT', 0, tonumber(ARGV[6]))
for _, member in ipairs(expired) do
  redis.call('ZREM', KEYS[1], member)
  local uid = string.match(member, '^([^|]+)|')
  if redis.call('HINCRBY', KEYS[2], uid, -1) <= 0 then
    redis.call('HDEL', KEYS[2], uid)
    local person = redis.call('HGET', KEYS[3], uid)
    redis.call('HDEL', KEYS[3], uid)
    if person and uid ~= ARGV[2] then table.insert(gone, person) end
  end
end
local came = 0
if redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1]) == 1 then
  if redis.call('HINCRBY', KEYS[2], ARGV[2], 1) == 1 then came = 1 end
end
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[7]) end
table.insert(gone, 1, came)
return gone
"""

_LEAVE = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('HINCRBY', KEYS[2], ARGV[2], -1) <= 0 then
  redis.call('HDEL', KEYS[2], ARGV[2])
  redis.call('HDEL', KEYS[3], ARGV[2])
  return 1
end
return 0
"""


def _key_seconds() -> int:
    """How long a room's structures outlive their last change (whole seconds, as Redis wants them)."""
    return max(60, math.ceil(settings.CHAT_PRESENCE_TTL_SECONDS * 2))


class RedisPresence:
    def __init__(self, backend):
        self.backend = backend
        self._scripts: dict[int, tuple] = {}

    def _client(self):
        client = self.backend.client.get_client(write=True)
        scripts = self._scripts.get(id(client))
        if scripts is None:
            scripts = self._scripts[id(client)] = (client.register_script(_TOUCH), client.register_script(_LEAVE))
        return client, scripts

    def _keys(self, room_id: int) -> list[str]:
        return [self.backend.make_key(f"chat:presence:{room_id}:{part}") for part in ("conns", "counts", "people")]

    def touch(self, room_id: int, channel_name: str, person: dict) -> Joined:
        client, (touch, _leave) = self._client()
        now = time.time()
        result = touch(keys=self._keys(room_id), args=[
            f"{person['id']}|{channel_name}", person["id"], protocol.encode(person),
            now + settings.CHAT_PRESENCE_TTL_SECONDS, now, PRUNE_BATCH, _key_seconds(),
        ], client=client)
        return Joined(came_online=bool(result[0]), gone=[json.loads(raw) for raw in result[1:]])

    def leave(self, room_id: int, channel_name: str, user_id: int) -> bool:
        client, (_touch, leave) = self._client()
        return bool(leave(keys=self._keys(room_id), args=[f"{user_id}|{channel_name}", user_id], client=client))

    def online(self, room_id: int, limit: int) -> tuple[list[dict], int]:
        client, _scripts = self._client()
        people = [json.loads(raw) for raw in client.hvals(self._keys(room_id)[2])]
        people.sort(key=_sort_key)
        return people[:limit], len(people)


# --- one process -------------------------------------------------------------------------------------


class _Room:
    def __init__(self):
        self.connections: dict[str, tuple[int, float]] = {}  # channel -> (user id, expiry)
        self.counts: Counter[int] = Counter()
        self.people: dict[int, dict] = {}


class LocalPresence:
    """The same structures in this process (locmem cache, in-memory layer: one process anyway)."""

    def __init__(self, backend):
        self.backend = backend
        self.rooms: dict[str, _Room] = {}
        self.lock = threading.Lock()

    def _room(self, room_id: int) -> _Room:
        key = self.backend.make_key(f"chat:presence:{room_id}")
        return self.rooms.setdefault(key, _Room())

    def touch(self, room_id: int, channel_name: str, person: dict) -> Joined:
        now = time.time()
        with self.lock:
            room = self._room(room_id)
            gone = []
            expired = [channel for channel, (_uid, expiry) in room.connections.items() if expiry <= now]
            for channel in expired[:PRUNE_BATCH]:
                uid, _expiry = room.connections.pop(channel)
                room.counts[uid] -= 1
                if room.counts[uid] <= 0:
                    del room.counts[uid]
                    left = room.people.pop(uid, None)
                    if left is not None and uid != person["id"]:
                        gone.append(left)
            came = channel_name not in room.connections
            room.connections[channel_name] = (person["id"], now + settings.CHAT_PRESENCE_TTL_SECONDS)
            if came:
                room.counts[person["id"]] += 1
                came = room.counts[person["id"]] == 1
            room.people[person["id"]] = person
            return Joined(came_online=came, gone=gone)

    def leave(self, room_id: int, channel_name: str, user_id: int) -> bool:
        with self.lock:
            room = self._room(room_id)
            if room.connections.pop(channel_name, None) is None:
                return False
            room.counts[user_id] -= 1
            if room.counts[user_id] > 0:
                return False
            del room.counts[user_id]
            room.people.pop(user_id, None)
            return True

    def online(self, room_id: int, limit: int) -> tuple[list[dict], int]:
        with self.lock:
            people = list(self._room(room_id).people.values())
        people.sort(key=_sort_key)
        return people[:limit], len(people)


_stores: dict[int, object] = {}
_stores_lock = threading.Lock()


def _store():
    """The store of the current default cache (tests give each test a cache of its own prefix)."""
    backend = caches["default"]
    # Cache objects are per thread; the store is per process and per cache configuration.
    key = hash((type(backend).__name__, backend.key_prefix, str(getattr(backend, "_server", "")),
                backend.version))
    store = _stores.get(key)
    if store is None:
        with _stores_lock:
            store = _stores.get(key)
            if store is None:
                is_redis = RedisCache is not None and isinstance(backend, RedisCache)
                store = _stores[key] = (RedisPresence if is_redis else LocalPresence)(backend)
    return store


def _fails_open(error: Exception) -> bool:
    return isinstance(error, LAYER_ERRORS)


# --- what the consumer calls ------------------------------------------------------------------------


def presence_join(room_id: int, channel_name: str, user) -> tuple[Joined, list[dict], int]:
    """Record the connection; returns (the join, who is online — at most CHAT_PRESENCE_LIST_MAX people,
    sorted by name —, how many people are online)."""
    person = protocol.person(user)
    store = _store()
    try:
        joined = store.touch(room_id, channel_name, person)
        online, count = store.online(room_id, settings.CHAT_PRESENCE_LIST_MAX)
    except Exception as error:
        if not _fails_open(error):
            raise
        return Joined(came_online=True), [person], 1
    return joined, online, count


def presence_refresh(room_id: int, channel_name: str, user) -> Joined:
    """Keep the connection's entry alive (and prune a few expired ones of the room)."""
    try:
        return _store().touch(room_id, channel_name, protocol.person(user))
    except Exception as error:
        if not _fails_open(error):
            raise
        return Joined(came_online=False)


def presence_leave(room_id: int, channel_name: str, user_id: int) -> bool:
    """Forget the connection; returns whether the person has no other live connection to the room."""
    try:
        return _store().leave(room_id, channel_name, user_id)
    except Exception as error:
        if not _fails_open(error):
            raise
        return True


def online_people(room_id: int, limit: int | None = None) -> list[dict]:
    return _store().online(room_id, limit if limit is not None else 10**9)[0]
