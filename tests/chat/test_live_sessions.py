"""Real daphne on a loopback port, a browser-like client: the chat socket ends with the session (issue 16,
item 3), and the handshake's checks answer cleanly (item 8).

The client logs out through the real page (POST /compte/deconnexion/ with its session cookie and CSRF
token) while its socket is open: the socket closes with 4440, another device of the same person stays
open until the password is changed through the real page. Over the in-memory channel layer and, when
Redis answers, over channels_redis (tests/chat/live.py).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
import websockets
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import Client
from websockets.asyncio.client import connect as ws_connect

from chat import protocol
from tests.chat.live import DaphneServer, redis_answers, started_servers

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LAYERS = [
    pytest.param("memory", id="couche-memoire"),
    pytest.param("redis", id="couche-redis", marks=pytest.mark.skipif(
        not redis_answers(), reason="Redis ne répond pas sur 127.0.0.1:6379 : variante Redis non testée.")),
]
OLD_PASSWORD = "Ancien-mot-de-passe-2026"
NEW_PASSWORD = "Un-nouveau-mot-de-passe-2026"


@pytest.fixture
def server_factory(request):
    name = request.node.name.replace("/", "_")
    with started_servers(lambda layer: DaphneServer(layer=layer, name=name)) as make:
        yield make


class Browser:
    """One device: a cookie jar and the site's pages over plain HTTP, as a browser sends them."""

    def __init__(self, server: DaphneServer, user):
        self.server = server
        client = Client()
        client.force_login(user)
        self.cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=15)
        headers = {"Cookie": self.cookie_header, "Origin": self.server.base_url,
                   "Referer": self.server.base_url + path}
        body = None
        if form is not None:
            body = urlencode({**form, "csrfmiddlewaretoken": self.cookies.get(settings.CSRF_COOKIE_NAME, "")})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        connection.close()
        return response.status, text

    def post(self, path: str, form: dict | None = None) -> int:
        if settings.CSRF_COOKIE_NAME not in self.cookies:
            status, page = self.request("GET", "/compte/mot-de-passe/")
            assert status == 200 and re.search(r'name="csrfmiddlewaretoken"', page), status
        status, _page = self.request("POST", path, form or {})
        return status

    async def open_socket(self, room_id: int, *, origin: str | None = None, path: str | None = None):
        socket = await ws_connect(
            self.server.ws_url(path or f"/ws/discussions/{room_id}/"),
            origin=origin or self.server.base_url,
            additional_headers={"Cookie": self.cookie_header},
            open_timeout=10,
            ping_interval=None,
        )
        assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "ready"
        return socket


async def closed_with(socket, timeout: float = 10.0) -> int | None:
    """Read until the server closes; the close code it sent."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                frame = json.loads(await socket.recv())
                assert frame["type"] in {"presence", "typing"}, f"trame reçue après la fin de la session : {frame}"
    except websockets.exceptions.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def answers_ping(socket) -> bool:
    try:
        await socket.send(json.dumps({"type": "ping"}))
        async with asyncio.timeout(10):
            while True:
                if json.loads(await socket.recv())["type"] == "pong":
                    return True
    except websockets.exceptions.ConnectionClosed:
        return False


@pytest.mark.parametrize("layer", LAYERS)
def test_logging_out_through_the_page_closes_that_sessions_socket(server_factory, layer, alice, region_room):
    alice.set_password(OLD_PASSWORD)
    alice.save()
    server = server_factory(layer)
    laptop, phone, tablet = Browser(server, alice), Browser(server, alice), Browser(server, alice)

    @async_to_sync
    async def scenario():
        on_laptop = await laptop.open_socket(region_room.pk)
        on_phone = await phone.open_socket(region_room.pk)
        logout = await asyncio.to_thread(laptop.post, "/compte/deconnexion/")
        laptop_code = await closed_with(on_laptop)
        phone_open_after_logout = await answers_ping(on_phone)
        change = await asyncio.to_thread(tablet.post, "/compte/mot-de-passe/", {
            "old_password": OLD_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        phone_code = await closed_with(on_phone)
        return logout, laptop_code, phone_open_after_logout, change, phone_code

    logout, laptop_code, phone_open_after_logout, change, phone_code = scenario()

    assert logout == 302
    assert laptop_code == protocol.CLOSE_SESSION_ENDED
    assert phone_open_after_logout is True
    assert change == 302
    assert phone_code == protocol.CLOSE_SESSION_ENDED


def test_the_handshake_checks_origin_scheme_and_port_and_refuses_unknown_addresses(server_factory, alice,
                                                                                     region_room):
    server = server_factory("memory")
    browser = Browser(server, alice)

    @async_to_sync
    async def attempt(**kwargs) -> object:
        try:
            socket = await browser.open_socket(region_room.pk, **kwargs)
        except websockets.exceptions.InvalidStatus as refused:
            return refused.response.status_code
        await socket.close()
        return "ouvert"

    other_port = server.port + 1 if server.port < 65535 else server.port - 1
    assert attempt() == "ouvert"
    assert attempt(origin=f"https://127.0.0.1:{server.port}") == 403
    assert attempt(origin=f"http://127.0.0.1:{other_port}") == 403
    assert attempt(origin="http://127.0.0.1") == 403
    assert attempt(path="/ws/discussions/-1/") == 403
    assert attempt(path="/ws/inconnu/") == 403
    log = server.log_path.read_text()
    assert "Traceback" not in log and "No route found" not in log, log[-3000:]
