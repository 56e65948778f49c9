"""Fixtures of the fault tests: private servers that are always killed at the end, pass or fail."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.test import Client

from tests.chat.live import started_servers
from tests.faults.servers import FaultDaphne, RedisServer, redis_server_binary


def cookies_of(user) -> dict[str, str]:
    """The session cookie of `user`, logged in through the test database the servers share."""
    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def _name_of(request) -> str:
    return request.node.name.replace("/", "_").replace("[", "-").replace("]", "")


@pytest.fixture
def private_redis(request) -> Iterator[RedisServer]:
    """A redis-server of this test's own, on a free loopback port (never the shared one on 6379)."""
    if redis_server_binary() is None:
        pytest.skip("redis-server introuvable / redis-server not found: installez redis-server "
                    "(apt-get install redis-server) pour ce test de panne.")
    server = RedisServer(_name_of(request))
    request.addfinalizer(server.cleanup)
    server.start()
    yield server


@pytest.fixture
def daphne_factory(request) -> Iterator[Callable[..., FaultDaphne]]:
    """Start daphne subprocesses on the given services; every one is killed at the end of the test."""
    with started_servers(lambda **kwargs: FaultDaphne(name=_name_of(request), **kwargs)) as make:
        yield make
