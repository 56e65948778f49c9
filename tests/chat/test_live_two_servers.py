"""Two real daphne processes share rooms through the Redis channel layer and the Redis cache, as two
upstream servers behind nginx would: a message sent to a client of one process reaches a client of the
other, and presence shows the people connected to both.

Needs Redis on 127.0.0.1:6379 (database 12, a key prefix shared by the two processes and no one else);
without it the test is skipped with the reason. The database is the test database (PostgreSQL when
DATABASE_URL names one, the SQLite file otherwise: both processes open it).
"""

from __future__ import annotations

import uuid

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import Client

from chat.models import ChatMessage
from tests.chat.live import ChatClient, DaphneServer, redis_answers, started_servers

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not redis_answers(), reason="Redis ne répond pas sur 127.0.0.1:6379 : deux processus daphne "
                                                   "ne partagent leurs salons que par Redis, test non lancé."),
]


def cookie_of(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def test_a_message_sent_on_one_process_reaches_a_client_of_the_other_and_presence_spans_both(
        request, alice, bruno, region_room):
    prefix = f"passerelles-test-deux-{uuid.uuid4().hex[:8]}"
    with started_servers(lambda name: DaphneServer(layer="redis", name=name, prefix=prefix)) as make:
        server_a, server_b = make(f"{request.node.name}-a"), make(f"{request.node.name}-b")
        alice_cookie, bruno_cookie = cookie_of(alice), cookie_of(bruno)

        @async_to_sync
        async def exchange():
            a = ChatClient("alice", alice.username, server_a, region_room.pk, alice_cookie)
            b = ChatClient("bruno", bruno.username, server_b, region_room.pk, bruno_cookie)
            await a.connect()
            await b.connect()
            # Bruno's list on connect comes from the shared presence: Alice is on the other process.
            online_on_connect = dict(b.online)
            # Alice hears of Bruno's arrival through the other process's presence frame.
            await a.wait_for(lambda: bruno.pk in a.online)
            await a.send("de-a", "Bonjour depuis le premier serveur")
            await b.wait_for(lambda: "de-a" in {frame["client_id"] for frame in b.timeline.values()})
            await b.send("de-b", "Réponse depuis le second serveur")
            await a.wait_for(lambda: "de-b" in {frame["client_id"] for frame in a.timeline.values()})
            # Bruno's own message comes back to him through his process as well (its broadcast may
            # arrive after Alice's copy: two processes, no order between them).
            await b.wait_for(lambda: "de-b" in {frame["client_id"] for frame in b.timeline.values()})
            await b.close()
            await a.wait_for(lambda: bruno.pk not in a.online)
            await a.close()
            return a, b, online_on_connect

        a, b, online_on_connect = exchange()

    assert sorted(online_on_connect.values()) == ["alice.directrice", "bruno.intervenant"]
    assert a.ordered_ids() == b.ordered_ids()
    assert [a.timeline[message_id]["body"] for message_id in a.ordered_ids()] == [
        "Bonjour depuis le premier serveur", "Réponse depuis le second serveur"]
    assert ChatMessage.objects.filter(room=region_room).count() == 2
