"""The websocket Origin check compares scheme, host and port (issue 16, item 8), and unknown websocket
addresses are refused cleanly with 4404 instead of a 500 (core/origins.py, chat/routing.py).

Through the whole ASGI application with Channels' WebsocketCommunicator, on /ws/ping/ (the origin check
runs before any route); a real daphne behind real headers is in tests/chat/test_live_sessions.py.
"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client

from chat import protocol
from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SITE = "https://passerelles.example.org"


@pytest.fixture(autouse=True)
def _no_persistent_connections(monkeypatch):
    monkeypatch.setitem(connections.settings[DEFAULT_DB_ALIAS], "CONN_MAX_AGE", 0)


@pytest.fixture
def cookie(member):
    client = Client()
    client.force_login(member)
    name = django_settings.SESSION_COOKIE_NAME
    return (b"cookie", f"{name}={client.cookies[name].value}".encode())


@pytest.fixture
def production_like(settings):
    settings.ALLOWED_HOSTS = ["passerelles.example.org"]
    settings.SITE_URL = SITE
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.federation.example"]


@async_to_sync
async def handshake(path: str, headers: list, scheme: str = "ws") -> tuple[bool, object]:
    socket = WebsocketCommunicator(application, path, headers=headers)
    socket.scope["scheme"] = scheme  # what daphne sets: wss over TLS, X-Forwarded-Proto with --proxy-headers
    connected, code = await socket.connect(timeout=5)
    if connected:
        await socket.disconnect()
    return connected, code


@pytest.mark.parametrize(("origin", "host", "scheme"), [
    (SITE, "passerelles.example.org", "https"),  # behind nginx: X-Forwarded-Proto https, Host without port
    (SITE, "passerelles.example.org", "wss"),
    (SITE + ":443", "passerelles.example.org", "https"),
    (SITE, None, "ws"),  # SITE_URL's origin, whatever reached the server
    ("https://annuaire.federation.example", "passerelles.example.org", "https"),  # CSRF_TRUSTED_ORIGINS
])
def test_the_sites_own_origin_is_accepted(production_like, cookie, origin, host, scheme):
    headers = [(b"origin", origin.encode()), cookie] + ([(b"host", host.encode())] if host else [])

    assert handshake("/ws/ping/", headers, scheme) == (True, None)


@pytest.mark.parametrize(("origin", "host", "scheme"), [
    ("http://passerelles.example.org", "passerelles.example.org", "https"),  # http page, https site
    ("https://passerelles.example.org:8443", "passerelles.example.org", "https"),  # another port
    ("http://passerelles.example.org:443", "passerelles.example.org", "https"),
    ("https://passerelles.example.org.evil.example", "passerelles.example.org", "https"),
    ("https://evil.example", "evil.example", "https"),  # a host outside ALLOWED_HOSTS
    ("http://annuaire.federation.example", "passerelles.example.org", "https"),  # trusted only over https
    ("null", "passerelles.example.org", "https"),
    ("https://user@passerelles.example.org", "passerelles.example.org", "https"),
    ("https://passerelles.example.org:99999", "passerelles.example.org", "https"),
])
def test_another_scheme_port_or_host_is_refused(production_like, cookie, origin, host, scheme):
    headers = [(b"origin", origin.encode()), (b"host", host.encode()), cookie]

    assert handshake("/ws/ping/", headers, scheme) == (False, 1000)


def test_the_handshakes_own_origin_needs_its_scheme_and_port(settings, cookie):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.SITE_URL = SITE
    host = (b"host", b"127.0.0.1:8123")

    assert handshake("/ws/ping/", [(b"origin", b"http://127.0.0.1:8123"), host, cookie]) == (True, None)
    assert handshake("/ws/ping/", [(b"origin", b"https://127.0.0.1:8123"), host, cookie]) == (False, 1000)
    assert handshake("/ws/ping/", [(b"origin", b"http://127.0.0.1:8124"), host, cookie]) == (False, 1000)
    assert handshake("/ws/ping/", [(b"origin", b"http://127.0.0.1"), host, cookie]) == (False, 1000)


@pytest.mark.parametrize("path", ["/ws/discussions/-1/", "/ws/discussions/abc/", "/ws/inconnu/", "/autre/", "/"])
def test_an_unknown_websocket_address_is_refused_with_4404(cookie, path):
    headers = [(b"origin", b"http://127.0.0.1:8000"), cookie]

    assert handshake(path, headers) == (False, protocol.CLOSE_NOT_FOUND)
