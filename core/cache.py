"""Django's Redis cache, except that an unreachable Redis is an empty cache, never a server error.

Everything the site keeps in the cache can be lost: Wagtail's site root paths, cached search
audiences, the access version, chat presence, rate-limit counters, the membership form's double-post
guard. With Django's own backend, a Redis outage turned every page that touches one of those into a
500 (the home page, /ressources/, /recherche/: tests/faults/test_redis_down.py found them). Here,
while Redis cannot be reached, the cache behaves as an empty cache that forgets every write:

- reads miss (`get` gives the default, `get_many` nothing, `has_key` False);
- `add` succeeds (as on an empty cache), so guards built on it let the request through and rate
  limits (core/ratelimit.py) fail open rather than refusing everyone;
- `incr` raises ValueError as for a missing key, writes and deletions are dropped.

After a failure, Redis is left alone for RETRY_AFTER_S seconds (per process), so that a Redis that
does not answer at all (a host gone, packets dropped) costs one connection timeout, not one per
cache call. The connection and socket timeouts themselves are in settings.CACHES (OPTIONS).
Only connection-level errors are absorbed: a command Redis refuses is still a bug to see.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
RETRY_AFTER_S = 2.0

# Per Redis location, the monotonic time before which it is not asked again. Shared by the threads
# of the process (Django gives each thread its own cache object, hence its own client).
_resting_until: dict[str, float] = {}
_lock = threading.Lock()


class FailOpenRedisCacheClient(RedisCacheClient):
    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._location = ",".join(servers)

    def _call(self, operation: str, fallback: Callable[[], Any], *args: Any) -> Any:
        if time.monotonic() < _resting_until.get(self._location, 0.0):
            return fallback()
        try:
            return getattr(super(), operation)(*args)
        except UNREACHABLE as error:
            with _lock:
                first = time.monotonic() >= _resting_until.get(self._location, 0.0)
                _resting_until[self._location] = time.monotonic() + RETRY_AFTER_S
            if first:
                logger.warning("Cache Redis injoignable (%s) : le site continue sans cache.", error)
            return fallback()

    def add(self, key, value, timeout):
        return self._call("add", lambda: True, key, value, timeout)

    def get(self, key, default):
        return self._call("get", lambda: default, key, default)

    def set(self, key, value, timeout):
        return self._call("set", lambda: None, key, value, timeout)

    def touch(self, key, timeout):
        return self._call("touch", lambda: False, key, timeout)

    def delete(self, key):
        return self._call("delete", lambda: False, key)

    def get_many(self, keys):
        return self._call("get_many", dict, keys)

    def has_key(self, key):
        return self._call("has_key", lambda: False, key)

    def incr(self, key, delta):
        def missing():
            raise ValueError(f"Key '{key}' not found.")

        return self._call("incr", missing, key, delta)

    def set_many(self, data, timeout):
        return self._call("set_many", lambda: None, data, timeout)

    def delete_many(self, keys):
        return self._call("delete_many", lambda: None, keys)

    def clear(self):
        return self._call("clear", lambda: False)


class FailOpenRedisCache(RedisCache):
    """settings.CACHES backend: `core.cache.FailOpenRedisCache` (same LOCATION and OPTIONS as Django's)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = FailOpenRedisCacheClient
