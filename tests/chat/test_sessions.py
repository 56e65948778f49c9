"""An open chat socket lives only as long as the session it opened with (issue 16, item 3).

Through the whole ASGI stack with Channels' WebsocketCommunicator: logging out closes that session's
sockets, changing or resetting the password and deactivating the account close every socket of the
person, each with 4440 (chat/PROTOCOL.md, close codes); and a frame that arrives once the session is
gone is refused even if the notice never came (the session is checked on every frame).
"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.sessions.models import Session
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test import Client

from chat import messages, protocol
from chat.models import ChatMessage
from config.asgi import application
from tests.chat.conftest import ORIGIN

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TIMEOUT = 5
NEW_PASSWORD = "Un-nouveau-mot-de-passe-2026"


@pytest.fixture(autouse=True)
def _no_persistent_connections(monkeypatch):
    monkeypatch.setitem(connections.settings[DEFAULT_DB_ALIAS], "CONN_MAX_AGE", 0)


def logged_in(user) -> Client:
    """One browser (one device): its own session."""
    client = Client()
    client.force_login(user)
    return client


def headers_of(client: Client) -> list:
    return [ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key_of(client)}".encode())]


def session_key_of(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def open_socket(room, headers) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application, f"/ws/discussions/{room.pk}/", headers=headers)
    connected, detail = await socket.connect(timeout=TIMEOUT)
    assert connected, f"connexion refusée ({detail})"
    assert (await socket.receive_json_from(TIMEOUT))["type"] == "ready"
    assert (await socket.receive_json_from(TIMEOUT))["type"] == "presence"
    return socket


async def close_code(socket, timeout: float = TIMEOUT):
    """The close code the socket receives next, skipping presence and typing frames."""
    while True:
        output = await socket.receive_output(timeout)
        if output["type"] == "websocket.close":
            return output.get("code")
        frame = json.loads(output["text"])
        assert frame["type"] in {"presence", "typing"}, f"trame reçue après la fin de la session : {frame}"


async def still_open(socket) -> bool:
    await socket.send_json_to({"type": "ping"})
    while True:
        output = await socket.receive_output(TIMEOUT)
        if output["type"] == "websocket.close":
            return False
        if json.loads(output["text"])["type"] == "pong":
            return True


def test_logging_out_closes_that_sessions_socket_and_leaves_another_device_open(alice, region_room):
    laptop, phone = logged_in(alice), logged_in(alice)

    @async_to_sync
    async def scenario():
        on_laptop = await open_socket(region_room, headers_of(laptop))
        on_phone = await open_socket(region_room, headers_of(phone))
        response = await database_sync_to_async(laptop.post)("/compte/deconnexion/")
        assert response.status_code == 302
        code = await close_code(on_laptop)
        phone_open = await still_open(on_phone)
        await on_phone.disconnect()
        return code, phone_open

    code, phone_open = scenario()

    assert code == protocol.CLOSE_SESSION_ENDED
    assert phone_open is True


def test_a_stolen_cookie_stops_working_when_its_owner_logs_out(alice, region_room):
    victim = logged_in(alice)
    stolen = headers_of(victim)  # the same session cookie, on the thief's machine

    @async_to_sync
    async def scenario():
        thief = await open_socket(region_room, stolen)
        await database_sync_to_async(victim.post)("/compte/deconnexion/")
        code = await close_code(thief)
        again = WebsocketCommunicator(application, f"/ws/discussions/{region_room.pk}/", headers=stolen)
        reconnected = await again.connect(timeout=TIMEOUT)
        return code, reconnected

    code, reconnected = scenario()

    assert code == protocol.CLOSE_SESSION_ENDED
    assert reconnected == (False, protocol.CLOSE_NOT_AUTHENTICATED)


@pytest.mark.parametrize("frame", [
    {"type": "send", "client_id": "apres-la-fin", "body": "Écrit avec une session terminée"},
    {"type": "resume", "after": 0},
    {"type": "ping"},
])
def test_every_frame_is_refused_once_the_session_is_gone_even_without_the_notice(alice, region_room, frame):
    browser = logged_in(alice)
    messages.post_message(alice, region_room.pk, "avant", "Historique privé")

    @async_to_sync
    async def scenario():
        socket = await open_socket(region_room, headers_of(browser))
        # The session disappears without any signal (expired and swept, deleted by hand): no notice.
        await database_sync_to_async(Session.objects.filter(session_key=session_key_of(browser)).delete)()
        await socket.send_json_to(frame)
        return await close_code(socket)

    assert scenario() == protocol.CLOSE_SESSION_ENDED
    assert not ChatMessage.objects.filter(client_id="apres-la-fin").exists()


def test_changing_the_password_closes_every_socket_of_the_person(alice, region_room):
    alice.set_password("Ancien-mot-de-passe-2026")
    alice.save()
    laptop, phone = logged_in(alice), logged_in(alice)

    @async_to_sync
    async def scenario():
        on_laptop = await open_socket(region_room, headers_of(laptop))
        on_phone = await open_socket(region_room, headers_of(phone))
        response = await database_sync_to_async(laptop.post)("/compte/mot-de-passe/", {
            "old_password": "Ancien-mot-de-passe-2026", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
        })
        assert response.status_code == 302, response.content[:2000]
        codes = (await close_code(on_laptop), await close_code(on_phone))
        # The page that changed the password keeps its session (Django renews its key): it reconnects.
        renewed = await open_socket(region_room, headers_of(laptop))
        await renewed.disconnect()
        return codes

    assert scenario() == (protocol.CLOSE_SESSION_ENDED, protocol.CLOSE_SESSION_ENDED)


def test_a_password_reset_closes_every_socket_of_the_person(alice, region_room):
    browser = logged_in(alice)

    @async_to_sync
    async def scenario():
        socket = await open_socket(region_room, headers_of(browser))

        def reset():
            form = SetPasswordForm(alice, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
            assert form.is_valid(), form.errors
            form.save()  # what the reset link's page (PasswordResetConfirmView) does

        await database_sync_to_async(reset)()
        return await close_code(socket)

    assert scenario() == protocol.CLOSE_SESSION_ENDED


def test_deactivating_the_account_closes_its_sockets_after_commit(alice, region_room):
    browser = logged_in(alice)

    @async_to_sync
    async def scenario():
        socket = await open_socket(region_room, headers_of(browser))

        def deactivate():
            with transaction.atomic():
                alice.is_active = False
                alice.save()

        await database_sync_to_async(deactivate)()
        return await close_code(socket)

    assert scenario() == protocol.CLOSE_SESSION_ENDED


def test_other_changes_to_the_account_leave_its_sockets_open(alice, region_room):
    browser = logged_in(alice)

    @async_to_sync
    async def scenario():
        socket = await open_socket(region_room, headers_of(browser))

        def edit():
            alice.job_title = "Directrice adjointe"
            alice.save()

        await database_sync_to_async(edit)()
        is_open = await still_open(socket)
        await socket.disconnect()
        return is_open

    assert scenario() is True
