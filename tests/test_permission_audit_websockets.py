"""Permission audit (issue 8, item 4b): every websocket route × every room kind × every role.

Through the whole ASGI stack (config.asgi.application: origin check, session auth, routing) with
Channels' WebsocketCommunicator, as tests/chat/test_consumers.py does. Who may connect is what
directory.access says (is_member, can_join_chat_room); a refused connection closes with the
protocol's code (chat/PROTOCOL.md): 4401 outside the network, 4403 outside the room, 4404 no room.
A connection let in reads the room: asked to resume from the start, it gets the room's message.
Any other address is refused with 4404 (issue 16, item 8). A new route in chat/routing.py without a rule
here fails `test_every_websocket_route_is_audited`.

No socket outlives its session (issue 16, item 3): as each role, a socket open when its session logs out
closes with 4440 and its cookie opens nothing more, while another session of the same person stays open
until the password changes; then it closes too (`test_no_socket_outlives_its_session`).
"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
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

# Route → how the audit builds its addresses and decides the answer (see the tests below); "" is the
# catch-all that refuses every other address with 4404.
AUDITED_ROUTES = {"ws/discussions/<int:room_id>/", "ws/ping/", ""}
UNKNOWN_ADDRESSES = ("/ws/discussions/-1/", "/ws/discussions/abc/", "/ws/inconnu/")


@pytest.fixture(autouse=True)
def _no_persistent_connections(monkeypatch):
    # Consumers use the database from worker threads: no connection may outlive the test.
    monkeypatch.setitem(connections.settings[DEFAULT_DB_ALIAS], "CONN_MAX_AGE", 0)


def _headers(user) -> list:
    if user is None:
        return [ORIGIN]
    return _headers_of(_logged_in(user))


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _headers_of(client: Client) -> list:
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
        for path in UNKNOWN_ADDRESSES:
            connected, code, _frames = attempt(path, headers, resume=False)
            if (connected, code) != (False, protocol.CLOSE_NOT_FOUND):
                problems.append(f"{role:<10} {path} → {connected, code}, attendu 4404")
    assert not problems, "\n".join(problems)


async def _outcome(socket, frame: dict | None = None) -> tuple[object, str]:
    """Send `frame` (if any), then read until the server closes or falls silent: (close code or
    "ouvert", every text read)."""
    if frame is not None:
        await socket.send_json_to(frame)
    texts = []
    while not await socket.receive_nothing(0.5):
        output = await socket.receive_output(TIMEOUT)
        if output["type"] == "websocket.close":
            return output.get("code"), " ".join(texts).lower()
        texts.append(output.get("text", ""))
    return "ouvert", " ".join(texts).lower()


@async_to_sync
async def _session_probe(user, path: str):
    """Two sessions of `user` with a socket each; the first logs out, then the password changes."""
    laptop, phone = await database_sync_to_async(_logged_in)(user), await database_sync_to_async(_logged_in)(user)
    laptop_headers, phone_headers = _headers_of(laptop), _headers_of(phone)
    on_laptop = WebsocketCommunicator(application, path, headers=laptop_headers)
    on_phone = WebsocketCommunicator(application, path, headers=phone_headers)
    assert (await on_laptop.connect(timeout=TIMEOUT))[0] and (await on_phone.connect(timeout=TIMEOUT))[0]
    await _outcome(on_laptop)
    await _outcome(on_phone)
    await database_sync_to_async(laptop.post)("/compte/deconnexion/")
    after_logout = await _outcome(on_laptop, {"type": "resume", "after": 0})
    replay = WebsocketCommunicator(application, path, headers=laptop_headers)
    reopened = await replay.connect(timeout=TIMEOUT)
    if reopened[0]:
        await replay.disconnect()
    other_device = await _outcome(on_phone, {"type": "ping"})

    def change_password():
        user.set_password("Audit-nouveau-mot-de-passe-2026")
        user.save()

    await database_sync_to_async(change_password)()
    after_password = await _outcome(on_phone, {"type": "resume", "after": 0})
    if after_logout[0] == "ouvert":
        await on_laptop.disconnect()
    if after_password[0] == "ouvert":
        await on_phone.disconnect()
    return after_logout, reopened, other_device, after_password


def test_no_socket_outlives_its_session(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    world = build_world()
    problems = []
    for role in ROLES:
        user = world.user(role)
        if user is None or not access.is_member(user):
            continue
        room_key, room = next(
            (key, room) for key, room in world.rooms.items()
            if access.can_join_chat_room(user, kind=room.kind, key=room.key,
                                         is_participant=ChatMembership.objects.filter(room=room, user=user).exists()))
        path = f"/ws/discussions/{room.pk}/"
        marker = f"audmark{room_key}msg"
        after_logout, reopened, other_device, after_password = _session_probe(user, path)
        if after_logout[0] != protocol.CLOSE_SESSION_ENDED or marker in after_logout[1]:
            problems.append(f"{role:<10} {path} après déconnexion → {after_logout[0]}"
                            + (" et relit l'historique" if marker in after_logout[1] else ""))
        if reopened != (False, protocol.CLOSE_NOT_AUTHENTICATED):
            problems.append(f"{role:<10} {path} rouvert avec le cookie de la session terminée → {reopened}")
        if other_device[0] != "ouvert" or "pong" not in other_device[1]:
            problems.append(f"{role:<10} {path} l'autre appareil est fermé par la déconnexion → {other_device[0]}")
        if after_password[0] != protocol.CLOSE_SESSION_ENDED or marker in after_password[1]:
            problems.append(f"{role:<10} {path} après changement de mot de passe → {after_password[0]}"
                            + (" et relit l'historique" if marker in after_password[1] else ""))
    assert not problems, "\n".join(problems)
