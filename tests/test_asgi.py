"""config.asgi serves HTTP through Django and members-only websockets through Channels."""

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator, WebsocketCommunicator
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client

from config.asgi import application

# Transactional: the ASGI stack reads sessions and users from threads other than the test's.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


@pytest.fixture(autouse=True)
def _no_persistent_connections(monkeypatch):
    # Django runs each ASGI request in a thread of its own: with CONN_MAX_AGE > 0 (production's value)
    # those threads' connections would outlive the test, and PostgreSQL could not drop the test database.
    monkeypatch.setitem(connections.settings[DEFAULT_DB_ALIAS], "CONN_MAX_AGE", 0)


def session_cookie_of(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    session_id = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_id}".encode())


@async_to_sync
async def http_get(path: str) -> dict:
    communicator = HttpCommunicator(application, "GET", path, headers=[(b"host", b"127.0.0.1")])
    try:
        return await communicator.get_response(timeout=10)
    finally:
        await communicator.wait(timeout=10)


@async_to_sync
async def websocket_connect(path: str, headers: list) -> tuple[bool, int | str | None]:
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, detail = await communicator.connect(timeout=10)
    if connected:
        await communicator.disconnect()
    return connected, detail


@async_to_sync
async def websocket_ping(path: str, headers: list) -> dict:
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, detail = await communicator.connect(timeout=10)
    assert connected, f"connexion refusée ({detail})"
    try:
        await communicator.send_json_to({"type": "ping"})
        return await communicator.receive_json_from(timeout=10)
    finally:
        await communicator.disconnect()


def test_http_home_page_answers_200():
    response = http_get("/")

    assert response["status"] == 200
    assert b"Passerelles" in response["body"]


def test_http_members_only_page_redirects_anonymous_visitors_to_login():
    response = http_get("/annuaire/")

    assert response["status"] == 302
    headers = {name.lower(): value for name, value in response["headers"]}
    assert headers[b"location"].startswith(b"/compte/connexion/")


def test_anonymous_websocket_is_closed_with_4401():
    connected, code = websocket_connect("/ws/ping/", headers=[ORIGIN])

    assert (connected, code) == (False, 4401)


def test_member_websocket_connects_and_answers_pong(member):
    pong = websocket_ping("/ws/ping/", headers=[ORIGIN, session_cookie_of(member)])

    assert pong == {"type": "pong"}


def test_websocket_from_a_foreign_origin_is_refused(member):
    foreign = (b"origin", b"https://site-malveillant.example")

    connected, _code = websocket_connect("/ws/ping/", headers=[foreign, session_cookie_of(member)])

    assert connected is False


def test_websocket_without_origin_is_refused(member):
    connected, _code = websocket_connect("/ws/ping/", headers=[session_cookie_of(member)])

    assert connected is False

