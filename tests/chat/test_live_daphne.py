"""Real daphne on a loopback port, real websocket clients: the chat end to end, and nothing lost when
the server process is killed and restarted in the middle of an exchange.

Each test runs over the in-memory channel layer and, when Redis answers on 127.0.0.1:6379, over the
Redis layer (database 12, a key prefix of its own); without Redis that variant is skipped with the reason.
"""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import Client

from chat.models import ChatMessage
from tests.chat.live import ChatClient, DaphneServer, redis_answers, started_servers

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LAYERS = [
    pytest.param("memory", id="couche-memoire"),
    pytest.param("redis", id="couche-redis", marks=pytest.mark.skipif(
        not redis_answers(), reason="Redis ne répond pas sur 127.0.0.1:6379 : variante Redis non testée.")),
]


def cookie_of(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


@pytest.fixture
def server_factory(request):
    name = request.node.name.replace("/", "_")
    with started_servers(lambda layer: DaphneServer(layer=layer, name=name)) as make:
        yield make


@pytest.mark.parametrize("layer", LAYERS)
def test_two_real_clients_exchange_messages_through_daphne(server_factory, layer, alice, bruno, direct_room):
    server = server_factory(layer)
    alice_cookie, bruno_cookie = cookie_of(alice), cookie_of(bruno)

    @async_to_sync
    async def exchange():
        a = ChatClient("alice", alice.username, server, direct_room.pk, alice_cookie)
        b = ChatClient("bruno", bruno.username, server, direct_room.pk, bruno_cookie)
        await a.connect()
        await b.connect()
        for number in range(5):
            await a.send(f"a-{number}", f"Question {number} de la filleule")
            await a.wait_for(lambda n=number: f"a-{n}" in a.acked)
            await b.wait_for(lambda n=number: a.acked[f"a-{n}"] in b.timeline)
            await b.send(f"b-{number}", f"Réponse {number} du parrain")
            await b.wait_for(lambda n=number: f"b-{n}" in b.acked)
            await a.wait_for(lambda n=number: b.acked[f"b-{n}"] in a.timeline)
        await a.close()
        await b.close()
        return a, b

    a, b = exchange()

    bodies = [a.timeline[message_id]["body"] for message_id in a.ordered_ids()]
    assert bodies == [text for n in range(5) for text in (f"Question {n} de la filleule", f"Réponse {n} du parrain")]
    assert a.ordered_ids() == b.ordered_ids()
    assert ChatMessage.objects.filter(room=direct_room).count() == 10


@pytest.mark.parametrize("layer", LAYERS)
def test_nothing_is_lost_when_the_server_is_killed_and_restarted(server_factory, layer, alice, bruno, region_room):
    server = server_factory(layer)
    alice_cookie, bruno_cookie = cookie_of(alice), cookie_of(bruno)

    @async_to_sync
    async def exchange():
        a = ChatClient("alice", alice.username, server, region_room.pk, alice_cookie)
        b = ChatClient("bruno", bruno.username, server, region_room.pk, bruno_cookie)
        await a.connect()
        await b.connect()
        # 1. A calm exchange, every message acknowledged.
        for number in range(6):
            await a.send(f"a-calme-{number}", f"Alice, message {number}")
            await b.send(f"b-calme-{number}", f"Bruno, message {number}")
        await a.wait_for(lambda: not a.outbox)
        await b.wait_for(lambda: not b.outbox)
        # 2. A burst from both sides; the server dies (SIGKILL) while frames are in flight.
        for number in range(25):
            await a.send(f"a-rafale-{number}", f"Alice, rafale {number}")
            await b.send(f"b-rafale-{number}", f"Bruno, rafale {number}")
            if number == 8:
                await asyncio.sleep(0.01)
                server.kill()
        await asyncio.sleep(0.2)
        assert not a.connected and not b.connected
        in_flight = len(a.outbox) + len(b.outbox)
        # 3. A new server process on the same port; the clients reconnect, resume and re-send.
        await asyncio.get_running_loop().run_in_executor(None, server.start)
        await a.connect()
        await b.connect()
        for number in range(4):
            await a.send(f"a-apres-{number}", f"Alice, après {number}")
            await b.send(f"b-apres-{number}", f"Bruno, après {number}")
        await a.wait_for(lambda: not a.outbox, timeout=30)
        await b.wait_for(lambda: not b.outbox, timeout=30)
        total = ChatMessage.objects.filter(room=region_room)
        count = await asyncio.get_running_loop().run_in_executor(None, total.count)
        # 4. Both sides catch up on what the other sent last.
        await a.wait_for(lambda: len(a.timeline) >= count)
        await b.wait_for(lambda: len(b.timeline) >= count)
        await a.close()
        await b.close()
        return a, b, in_flight

    a, b, in_flight = exchange()

    sent = {**{f"a-{kind}-{n}": "alice.directrice" for kind, size in (("calme", 6), ("rafale", 25), ("apres", 4))
               for n in range(size)},
            **{f"b-{kind}-{n}": "bruno.intervenant" for kind, size in (("calme", 6), ("rafale", 25), ("apres", 4))
               for n in range(size)}}
    acknowledged = {**a.acked, **b.acked}
    rows = list(ChatMessage.objects.filter(room=region_room).values_list("id", "client_id", "seq").order_by("id"))

    assert set(acknowledged) == set(sent)  # every message sent was acknowledged in the end…
    assert sorted(client_id for _, client_id, _ in rows) == sorted(sent)  # …and saved exactly once
    for client in (a, b):
        # …and each side holds every acknowledged message exactly once, in the same order, without gap.
        assert sorted(client.timeline) == sorted(acknowledged.values())
        assert sorted(client.by_seq) == list(range(1, len(rows) + 1))
        assert client.ordered_ids() == [message_id for message_id, _, _ in rows]
        assert client.connections == 2
    assert in_flight > 0, "le serveur aurait dû être tué avec des messages en vol"
