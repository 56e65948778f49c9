"""Presence through chat.presence: who is online in a room, person by person, kept incrementally."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer
from django.core.cache import caches

from chat import broadcasts, presence
from tests.chat.live import redis_answers


def test_presence_counts_people_not_connections(alice, bruno, region_room):
    joined, _online, _count = presence.presence_join(region_room.pk, "canal-1", alice)
    joined_again, _online, _count = presence.presence_join(region_room.pk, "canal-2", alice)
    _joined, online, count = presence.presence_join(region_room.pk, "canal-3", bruno)

    assert (joined.came_online, joined_again.came_online) == (True, False)
    assert ([person["username"] for person in online], count) == (["alice.directrice", "bruno.intervenant"], 2)
    assert presence.presence_leave(region_room.pk, "canal-1", alice.pk) is False
    assert presence.presence_leave(region_room.pk, "canal-2", alice.pk) is True
    assert presence.presence_leave(region_room.pk, "canal-2", alice.pk) is False  # already gone
    assert [person["username"] for person in presence.online_people(region_room.pk)] == ["bruno.intervenant"]


def test_a_refresh_does_not_count_a_connection_twice(alice, region_room):
    presence.presence_join(region_room.pk, "canal-1", alice)
    refreshed = presence.presence_refresh(region_room.pk, "canal-1", alice)

    assert refreshed.came_online is False
    assert presence.presence_leave(region_room.pk, "canal-1", alice.pk) is True


def test_connections_of_a_crashed_server_expire_and_are_announced_as_left(settings, alice, bruno, region_room):
    settings.CHAT_PRESENCE_TTL_SECONDS = 0.05  # Alice's server dies and never refreshes her entry
    presence.presence_join(region_room.pk, "serveur-mort-1", alice)
    time.sleep(0.1)
    settings.CHAT_PRESENCE_TTL_SECONDS = 90
    joined, online, count = presence.presence_join(region_room.pk, "canal-bruno", bruno)

    assert [person["username"] for person in joined.gone] == ["alice.directrice"]
    assert ([person["username"] for person in online], count) == (["bruno.intervenant"], 1)


def test_the_list_sent_on_connect_is_capped_but_counts_everyone(settings, alice, bruno, region_room):
    settings.CHAT_PRESENCE_LIST_MAX = 1
    presence.presence_join(region_room.pk, "canal-1", bruno)
    _joined, online, count = presence.presence_join(region_room.pk, "canal-2", alice)

    assert ([person["username"] for person in online], count) == (["alice.directrice"], 2)


@pytest.mark.skipif(not redis_answers(), reason="Redis ne répond pas sur 127.0.0.1:6379 : magasin Redis non testé.")
def test_with_redis_presence_lives_in_redis_structures_not_one_rewritten_entry(settings, alice, bruno, region_room):
    settings.CACHES = {**settings.CACHES, "default": {
        "BACKEND": "core.cache.FailOpenRedisCache", "LOCATION": "redis://127.0.0.1:6379/12",
        "KEY_PREFIX": f"presence-test-{region_room.pk}-{id(settings)}", "OPTIONS": {"IGNORE_EXCEPTIONS": True}}}
    backend = caches["default"]
    store = presence._store()
    assert isinstance(store, presence.RedisPresence)
    try:
        presence.presence_join(region_room.pk, "canal-1", alice)
        presence.presence_join(region_room.pk, "canal-2", alice)
        _joined, online, count = presence.presence_join(region_room.pk, "canal-3", bruno)
        client = backend.client.get_client(write=True)
        conns, counts, _people = store._keys(region_room.pk)

        assert count == 2
        assert client.zcard(conns) == 3
        assert client.hget(counts, str(alice.pk)) == b"2"
        assert presence.presence_leave(region_room.pk, "canal-3", bruno.pk) is True
        assert [person["username"] for person in presence.online_people(region_room.pk)] == ["alice.directrice"]
    finally:
        client.delete(*store._keys(region_room.pk))


def test_a_change_noted_while_a_presence_frame_leaves_is_sent_in_the_next_one():
    layer = InMemoryChannelLayer()
    alice, bruno = {"id": 1, "username": "a", "name": "A"}, {"id": 2, "username": "b", "name": "B"}

    @async_to_sync
    async def scenario():
        channel = await layer.new_channel()
        await layer.group_add(broadcasts.room_group(7), channel)
        batch = broadcasts.PresenceBatch(layer, 0.01)
        send = layer.group_send

        async def send_while_bruno_arrives(group, message):
            layer.group_send = send
            batch.note(7, "joined", bruno)  # noted while the first frame is on its way
            await send(group, message)

        layer.group_send = send_while_bruno_arrives
        batch.note(7, "joined", alice)
        first = json.loads((await asyncio.wait_for(layer.receive(channel), 2))["text"])
        second = json.loads((await asyncio.wait_for(layer.receive(channel), 2))["text"])
        return first, second

    first, second = scenario()

    assert (first["joined"], second["joined"]) == ([alice], [bruno])
