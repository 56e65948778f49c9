"""The chat when its channel layer cannot be reached (Redis down), with a layer the tests break at will.

Nothing acknowledged is lost and nobody waits forever: a message saved while its broadcast fails is
acknowledged to its sender, who is then told and disconnected (4503) like every other connection of the
process (chat/layer_watch.py); connections are refused meanwhile; the page without JavaScript still
posts. tests/faults/test_redis_down.py plays the same with a real Redis killed under a real daphne.
"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer
from channels.testing import WebsocketCommunicator
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from chat import protocol
from chat.models import ChatMessage
from config.asgi import application
from tests.chat.conftest import ORIGIN, session_cookie_of

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TIMEOUT = 5


class BreakableLayer(InMemoryChannelLayer):
    """The in-memory layer, except that the operations named in `broken` fail as redis-py does."""

    broken: set[str] = set()

    def _check(self, operation: str) -> None:
        if operation in self.broken:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    async def send(self, channel, message):
        self._check("send")
        return await super().send(channel, message)

    async def group_add(self, group, channel):
        self._check("group_add")
        return await super().group_add(group, channel)

    async def group_send(self, group, message):
        self._check("group_send")
        return await super().group_send(group, message)


EVERYTHING = {"send", "group_add", "group_send"}


@pytest.fixture(autouse=True)
def breakable_layer(settings, monkeypatch):
    monkeypatch.setitem(connections.settings[DEFAULT_DB_ALIAS], "CONN_MAX_AGE", 0)
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.BreakableLayer"}}
    BreakableLayer.broken = set()
    yield BreakableLayer
    BreakableLayer.broken = set()


async def open_socket(room, headers: list) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application, f"/ws/discussions/{room.pk}/", headers=headers)
    connected, detail = await socket.connect(timeout=TIMEOUT)
    assert connected, detail
    assert (await socket.receive_json_from(TIMEOUT))["type"] == "ready"
    assert (await socket.receive_json_from(TIMEOUT))["type"] == "presence"
    # A ping answered: the connection's set-up (its presence broadcast) is over.
    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from(TIMEOUT))["type"] == "pong"
    return socket


async def frames_until_closed(socket) -> tuple[list[dict], int | None]:
    frames = []
    while True:
        output = await socket.receive_output(TIMEOUT)
        if output["type"] == "websocket.close":
            return frames, output.get("code")
        frames.append(json.loads(output["text"]))


def test_a_message_saved_while_its_broadcast_fails_is_acknowledged_then_the_connection_closes(
        settings, alice, region_room):
    settings.CHAT_LAYER_CHECK_SECONDS = 0  # only the failed broadcast may notice
    headers = [ORIGIN, session_cookie_of(alice)]

    @async_to_sync
    async def scenario():
        socket = await open_socket(region_room, headers)
        BreakableLayer.broken = EVERYTHING
        await socket.send_json_to({"type": "send", "client_id": "c-1", "body": "Sauvé malgré la panne."})
        result = await frames_until_closed(socket)
        await socket.disconnect(code=protocol.CLOSE_UNAVAILABLE)
        return result

    frames, code = scenario()

    saved = ChatMessage.objects.get(room=region_room, client_id="c-1")
    assert [(frame["type"], frame.get("id") or frame.get("code")) for frame in frames] == [
        ("message", saved.pk), ("error", protocol.LIVE_UNAVAILABLE)]
    assert code == protocol.CLOSE_UNAVAILABLE


def test_an_idle_connection_is_told_and_closed_when_the_layer_stops_answering(settings, bruno, region_room):
    settings.CHAT_LAYER_CHECK_SECONDS = 0.1
    headers = [ORIGIN, session_cookie_of(bruno)]

    @async_to_sync
    async def scenario():
        idle = await open_socket(region_room, headers)
        BreakableLayer.broken = EVERYTHING
        result = await frames_until_closed(idle)
        await idle.disconnect(code=protocol.CLOSE_UNAVAILABLE)
        return result

    frames, code = scenario()

    assert [frame.get("code") for frame in frames] == [protocol.LIVE_UNAVAILABLE]
    assert code == protocol.CLOSE_UNAVAILABLE


def test_connections_are_refused_with_4503_while_the_layer_is_down(alice, region_room, breakable_layer):
    breakable_layer.broken = {"group_add"}
    headers = [ORIGIN, session_cookie_of(alice)]

    @async_to_sync
    async def connect():
        socket = WebsocketCommunicator(application, f"/ws/discussions/{region_room.pk}/", headers=headers)
        return await socket.connect(timeout=TIMEOUT)

    assert connect() == (False, protocol.CLOSE_UNAVAILABLE)


def test_the_page_without_javascript_still_posts_while_the_layer_is_down(alice, region_room, breakable_layer):
    breakable_layer.broken = EVERYTHING
    client = Client()
    client.force_login(alice)

    response = client.post(f"/discussions/{region_room.pk}/envoyer/",
                           {"client_id": "form-1", "body": "Par le formulaire."})

    assert response.status_code == 302
    assert ChatMessage.objects.filter(room=region_room, client_id="form-1").count() == 1
