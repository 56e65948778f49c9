"""Connection set-up without a database round trip per socket where the cache answers: the room's
grant is kept under the access version (chat.memberships.cached_grant), so a reconnect storm reads the
cache, while a revoked person is still refused (the version changes with their access) and the session
is still checked on every connection."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import protocol
from directory import services as directory_services
from tests.chat.test_consumers import headers_for, path_of, try_connect

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# Tables the room check reads: none of them may be read by a reconnect whose grant is cached.
ACCESS_TABLES = ("chat_chatroom", "chat_chatmembership", "directory_roleassignment", "directory_association")


def _tables_read(captured) -> set[str]:
    return {table for query in captured for table in ACCESS_TABLES if f'"{table}"' in query["sql"]}


def test_a_reconnect_reads_its_grant_from_the_cache_and_still_checks_the_session(alice, region_room):
    headers = headers_for(alice)
    with CaptureQueriesContext(connection) as first:
        assert try_connect(path_of(region_room), headers) == (True, None)
    with CaptureQueriesContext(connection) as again:
        assert try_connect(path_of(region_room), headers) == (True, None)

    assert _tables_read(first.captured_queries) >= {"chat_chatroom", "chat_chatmembership"}
    assert _tables_read(again.captured_queries) == set()
    # What remains: the session and the person (Channels' AuthMiddleware), the session check once joined.
    assert len(again.captured_queries) <= 3
    assert any('"django_session"' in query["sql"] for query in again.captured_queries)


def test_a_person_who_left_the_room_is_refused_although_a_grant_was_cached(alice, north_east, region_room):
    headers = headers_for(alice)
    assert try_connect(path_of(region_room), headers) == (True, None)  # the grant is now cached

    directory_services.move_person(alice, north_east)

    assert try_connect(path_of(region_room), headers) == (False, protocol.CLOSE_FORBIDDEN)


def test_a_deactivated_account_is_refused_although_a_grant_was_cached(alice, region_room):
    headers = headers_for(alice)
    assert try_connect(path_of(region_room), headers) == (True, None)

    alice.is_active = False
    alice.save()

    assert try_connect(path_of(region_room), headers)[0] is False


def test_a_reconnect_makes_three_thread_hops_and_three_queries(alice, region_room, monkeypatch,
                                                               django_assert_num_queries):
    """Each hop to a thread is a switch that costs CPU in a reconnect storm: Channels' authentication
    (session and person), one hop deciding grant, binding and session re-check, one for presence."""
    from asgiref.sync import SyncToAsync, async_to_sync
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    headers = headers_for(alice)
    assert try_connect(path_of(region_room), headers) == (True, None)  # the grant is now cached
    hops = []
    thread_handler = SyncToAsync.thread_handler

    def counted(self, *args, **kwargs):
        hops.append(getattr(self.func, "__name__", repr(self.func)))
        return thread_handler(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "thread_handler", counted)

    @async_to_sync
    async def reconnect():
        socket = WebsocketCommunicator(application, path_of(region_room), headers=headers)
        assert (await socket.connect(timeout=5))[0]
        assert (await socket.receive_json_from(5))["type"] == "ready"
        assert (await socket.receive_json_from(5))["type"] == "presence"
        opened = len(hops)
        await socket.disconnect()
        return opened

    with django_assert_num_queries(3):
        assert reconnect() == 3, hops
