"""core.cache (django-redis with IGNORE_EXCEPTIONS): with Redis unreachable the cache is an empty cache that
forgets every write, so that pages, rate limits and guards keep working (tests/faults/test_redis_down.py
kills a real Redis under daphne)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from redis.connection import Connection

from core import cache as fail_open
from core import ratelimit
from tests.manage_process import run_manage

CLOSED = "redis://127.0.0.1:9/0"  # the discard port: nothing listens, the connection is refused at once


@pytest.fixture
def redis_down(settings):
    fail_open._resting_until.clear()
    settings.CACHES = {**settings.CACHES, "default": {
        "BACKEND": "core.cache.FailOpenRedisCache", "LOCATION": CLOSED, "KEY_PREFIX": "test-cache",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2}}}
    yield
    fail_open._resting_until.clear()


def test_reads_miss_and_writes_are_dropped_without_an_error(redis_down):
    cache.set("clé", "valeur")
    assert cache.get("clé") is None
    assert cache.get("clé", "défaut") == "défaut"
    assert cache.get_many(["a", "b"]) == {}
    assert not cache.has_key("clé")
    assert cache.get_or_set("calculé", lambda: 42) == 42
    cache.set_many({"a": 1, "b": 2})
    assert cache.get_many(["a", "b"]) == {}
    assert not cache.delete("clé")
    cache.delete_many(["a", "b"])
    assert not cache.touch("clé")


def test_add_succeeds_and_incr_finds_no_key_as_on_an_empty_cache(redis_down):
    assert cache.add("garde", "1") is True
    with pytest.raises(ValueError):
        cache.incr("compteur")


def test_rate_limits_fail_open(redis_down):
    rate = ratelimit.Rate(name="panne", limit=2, window=60)
    verdicts = [ratelimit.attempt(rate, "quelqu'un") for _ in range(5)]
    assert all(verdict.allowed for verdict in verdicts)


def test_after_a_failure_redis_is_left_alone_for_a_moment(redis_down, monkeypatch):
    attempts = []
    original = Connection._connect

    def counting_connect(self):
        attempts.append(self.port)
        return original(self)

    monkeypatch.setattr(Connection, "_connect", counting_connect)
    for _ in range(5):
        assert cache.get("clé") is None
    assert len(attempts) == 1  # one refused connection, then the cache rests (RETRY_AFTER_S)


def test_a_deployment_with_redis_fails_open_through_django_redis(tmp_path):
    """With REDIS_URL (read by the settings at start, hence a process of its own): django-redis, its
    IGNORE_EXCEPTIONS on, the 2 s socket timeouts, and an unreachable Redis read as a miss."""
    code = ("from django.conf import settings; from django.core.cache import caches; "
            "from django_redis.cache import RedisCache; "
            "options = settings.CACHES['default']['OPTIONS']; "
            "print(isinstance(caches['default'], RedisCache), options['IGNORE_EXCEPTIONS'], "
            "options['SOCKET_CONNECT_TIMEOUT'], options['SOCKET_TIMEOUT'], caches['default'].get('clé', 'raté'))")

    result = run_manage(tmp_path, {"REDIS_URL": CLOSED}, "shell", "-c", code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["True", "True", "2", "2", "raté"]
