"""Permission audit (issue 8, item 4b): every websocket route × every room kind × every role.

Through the whole ASGI stack (config.asgi.application: origin check, session auth, routing) with
Channels' WebsocketCommunicator, as tests/chat/test_consumers.py does. Who may connect is what
directory.access says (is_member, can_join_chat_room); a refused connection closes with the
protocol's code (chat/PROTOCOL.md): 4401 outside the network, 4403 outside the room, 4404 no room.
A connection let in reads the room: asked to resume from the start, it gets the room's message.
A new route in chat/routing.py without a rule here fails `test_every_websocket_route_is_audited`.
"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client

from chat import protocol
from chat.models import ChatMembership
from chat.routing import websocket_urlpatterns
from config.asgi import application
from directory import access
from tests.factories.audit_world import ROLES, build_world

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
TIMEOUT = 5
MISSING_ROOM = 987654

# Route → how the audit builds its addresses and decides the answer (see the tests below).
AUDITED_ROUTES = {"ws/discussions/<int:room_id>/", "ws/ping/"}


@pytest.fixture(autouse=True)
def _no_persistent_connections(monkeypatch):
    # Consumers use the database from worker threads: no connection may outlive the test.
    monkeypatch.setitem(connections.settings[DEFAULT_DB_ALIAS], "CONN_MAX_AGE", 0)


def _headers(user) -> list:
    if user is None:
        return [ORIGIN]
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return [ORIGIN, (b"cookie", cookie.encode())]


@async_to_sync
async def attempt(path: str, headers: list, *, resume: bool) -> tuple[bool, object, str]:
    """Connect; if let in, ask for the whole history. Returns (connected, close code, frames read)."""
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await socket.connect(timeout=TIMEOUT)
    frames = []
    if connected:
        if resume:
            await socket.send_json_to({"type": "resume", "after": 0})
            while True:
                frame = await socket.receive_json_from(TIMEOUT)
                frames.append(frame)
                if frame["type"] == "resumed":
                    break
        await socket.disconnect()
    return connected, code, str(frames).lower()


def test_every_websocket_route_is_audited():
    routes = {str(pattern.pattern) for pattern in websocket_urlpatterns}
    assert routes == AUDITED_ROUTES, (
        "a websocket route was added or removed: audit it here with the rule of directory.access that decides")


def test_who_may_connect_to_each_room_kind_and_to_ping(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    world = build_world()
    problems = []

    def expected_for_room(user, room) -> object:
        """True (let in) or the close code the protocol promises."""
        if user is None or not access.is_member(user):
            return protocol.CLOSE_NOT_AUTHENTICATED
        if room is None:
            return protocol.CLOSE_NOT_FOUND
        participant = ChatMembership.objects.filter(room=room, user=user).exists()
        if access.can_join_chat_room(user, kind=room.kind, key=room.key, is_participant=participant):
            return True
        return protocol.CLOSE_FORBIDDEN

    rooms = [*world.rooms.items(), ("inexistant", None)]
    for role in ROLES:
        user = world.user(role)
        headers = _headers(user)
        for key, room in rooms:
            path = f"/ws/discussions/{room.pk if room else MISSING_ROOM}/"
            expected = expected_for_room(user, room)
            connected, code, frames = attempt(path, headers, resume=expected is True)
            outcome = True if connected else code
            if outcome != expected:
                problems.append(f"{role:<10} {path} ({key}) → {outcome}, attendu {expected}")
            marker = f"audmark{key}msg"
            if connected and expected is True and marker not in frames:
                problems.append(f"{role:<10} {path} ({key}) → admis mais ne lit pas le salon")
            if connected and expected is not True and marker in frames:
                problems.append(f"{role:<10} {path} ({key}) → lit un salon qui ne lui est pas ouvert")
        member = user is not None and access.is_member(user)
        connected, code, _frames = attempt("/ws/ping/", headers, resume=False)
        outcome = True if connected else code
        if outcome != (True if member else protocol.CLOSE_NOT_AUTHENTICATED):
            problems.append(f"{role:<10} /ws/ping/ → {outcome}")
    assert not problems, "\n".join(problems)
