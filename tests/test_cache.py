"""core.cache: with Redis unreachable the cache is an empty cache that forgets every write, so that pages,
rate limits and guards keep working (tests/faults/test_redis_down.py kills a real Redis under daphne)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCacheClient

from core import cache as fail_open
from core import ratelimit

CLOSED = "redis://127.0.0.1:9/0"  # the discard port: nothing listens, the connection is refused at once


@pytest.fixture
def redis_down(settings):
    fail_open._resting_until.clear()
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "core.cache.FailOpenRedisCache",
                                                      "LOCATION": CLOSED, "KEY_PREFIX": "test-cache"}}
    yield
    fail_open._resting_until.clear()


def test_reads_miss_and_writes_are_dropped_without_an_error(redis_down):
    cache.set("clé", "valeur")
    assert cache.get("clé") is None
    assert cache.get("clé", "défaut") == "défaut"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("clé") is False
    assert cache.get_or_set("calculé", lambda: 42) == 42
    cache.set_many({"a": 1, "b": 2})
    assert cache.get_many(["a", "b"]) == {}
    assert cache.delete("clé") is False
    cache.delete_many(["a", "b"])
    assert cache.touch("clé") is False


def test_add_succeeds_and_incr_finds_no_key_as_on_an_empty_cache(redis_down):
    assert cache.add("garde", "1") is True
    with pytest.raises(ValueError):
        cache.incr("compteur")


def test_rate_limits_fail_open(redis_down):
    rate = ratelimit.Rate(name="panne", limit=2, window=60)
    verdicts = [ratelimit.attempt(rate, "quelqu'un") for _ in range(5)]
    assert all(verdict.allowed for verdict in verdicts)


def test_after_a_failure_redis_is_left_alone_for_a_moment(redis_down, monkeypatch):
    calls = []
    original = RedisCacheClient.get

    def counting_get(self, key, default):
        calls.append(key)
        return original(self, key, default)

    monkeypatch.setattr(RedisCacheClient, "get", counting_get)
    for _ in range(5):
        assert cache.get("clé") is None
    assert len(calls) == 1  # one refused connection, then the cache rests (RETRY_AFTER_S)
