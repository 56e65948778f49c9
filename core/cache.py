"""The default cache: django-redis, where an unreachable Redis is an empty cache, never a server error.

Everything the site keeps in the cache can be lost: Wagtail's site root paths, cached search
audiences, the access version, chat presence, rate-limit counters, the membership form's double-post
guard. With a plain Redis backend, a Redis outage turned every page that touches one of those into a
500 (the home page, /ressources/, /recherche/: tests/faults/test_redis_down.py found them). django-redis'
IGNORE_EXCEPTIONS option (settings.CACHES) makes the outage a cache miss: reads miss, writes and
deletions are dropped. This module adds only what that option does not do:

- `add` answers True, as on an empty cache (django-redis answers None, which reads as "already
  there"): guards built on it let the request through (the membership form's double-post guard would
  otherwise refuse every applicant) and rate limits (core/ratelimit.py) fail open;
- `incr` raises ValueError as for a missing key (Django's contract; django-redis answers None);
- `touch` answers False (django-redis 7.0 lets its connection errors through);
- after a failure, Redis is left alone for RETRY_AFTER_S seconds (per process, `RestingConnection`),
  so that a Redis that does not answer at all (a host gone, packets dropped) costs one connection
  timeout, not one per cache call. django-redis tries every call again.

The connection and socket timeouts themselves are in settings.CACHES (OPTIONS). django-redis also
absorbs the errors of commands Redis refuses (ResponseError) while IGNORE_EXCEPTIONS is on.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django_redis.cache import CONNECTION_INTERRUPTED, RedisCache, omit_exception
from redis.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_AFTER_S = 2.0

# Per Redis address, the monotonic time before which it is not asked again. Shared by the threads
# of the process (each thread has its own cache object, but django-redis' pools are per process).
_resting_until: dict[str, float] = {}
_lock = threading.Lock()


class RestingConnection(Connection):
    """A redis-py connection that refuses at once, for RETRY_AFTER_S seconds, after failing to reach
    or hear from its server."""

    def _address(self) -> str:
        return f"{self.host}:{self.port}/{self.db}"

    def _rest(self, error: Exception) -> None:
        with _lock:
            first = time.monotonic() >= _resting_until.get(self._address(), 0.0)
            _resting_until[self._address()] = time.monotonic() + RETRY_AFTER_S
        if first:
            logger.warning("Cache Redis injoignable (%s) : le site continue sans cache.", error)

    def connect_check_health(self, *args: Any, **kwargs: Any) -> None:
        if self._sock is None and time.monotonic() < _resting_until.get(self._address(), 0.0):
            raise RedisConnectionError(f"Redis {self._address()} laissé au repos après un échec.")
        try:
            super().connect_check_health(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError) as error:
            self._rest(error)
            raise

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().read_response(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError) as error:
            self._rest(error)
            raise


class FailOpenRedisCache(RedisCache):
    """settings.CACHES backend `core.cache.FailOpenRedisCache`: django-redis' RedisCache (same LOCATION
    and OPTIONS, IGNORE_EXCEPTIONS on) with the empty-cache answers above."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS", {}))
        options["CONNECTION_POOL_KWARGS"] = {"connection_class": RestingConnection,
                                             **options.get("CONNECTION_POOL_KWARGS", {})}
        super().__init__(server, {**params, "OPTIONS": options})

    @omit_exception(return_value=True)
    def add(self, *args: Any, **kwargs: Any) -> bool:
        return self.client.add(*args, **kwargs)

    def incr(self, key: Any, *args: Any, **kwargs: Any) -> int:
        value = self._incr(key, *args, **kwargs)
        if value is CONNECTION_INTERRUPTED:
            raise ValueError(f"Key '{key}' not found.")
        return value

    @omit_exception(return_value=CONNECTION_INTERRUPTED)
    def _incr(self, *args: Any, **kwargs: Any) -> Any:
        return self.client.incr(*args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> bool:
        try:
            return super().touch(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError):
            return False
