"""Redis killed under a running site, then started again on the same port.

A private redis-server (tests.faults.servers.RedisServer, never the shared one on 6379) is the cache
and the channel layer of a real daphne started on the test database. Killed with SIGKILL:

- pages keep answering 200: the cache is an empty cache while Redis is away (core/cache.py), rate
  limits fail open (core/ratelimit.py goes through that cache), sessions are in the database;
- open chat connections are told (`error` frame `live_unavailable`) and closed with 4503 instead of
  staying open deaf; new ones are refused at once, never left hanging (chat/layer_watch.py);
- a message sent in the meantime is saved and acknowledged, or kept by its client and sent again:
  nothing the server acknowledged is lost, and once Redis is back every client resumes all of it and
  new messages flow live again.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import redis
import websockets
from asgiref.sync import async_to_sync
from websockets.asyncio.client import connect as ws_connect

from chat import protocol
from chat import rooms as chat_rooms
from chat.models import ChatMessage, ChatRoom
from directory import access
from directory.access import ChatRoomKind
from tests.chat.live import ChatClient
from tests.factories import DEFAULT_PASSWORD, region
from tests.faults.conftest import cookie_header, cookies_of
from tests.faults.servers import Visitor, port_is_closed

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# What a member opens every day: every one of them touches the cache (Wagtail's site root paths, search
# audiences and the access version, chat presence and unread counts, rate-limit counters).
MEMBER_PAGES = ["/", "/forum/", "/discussions/", "/annuaire/", "/ressources/", "/recherche/?q=convention",
                "/recherche/?q=convention&format=json"]
# A page must answer within this even with Redis gone (no waiting on a dead connection).
PAGE_DEADLINE_S = 5.0
# Open connections must learn of the outage within this (CHAT_LAYER_CHECK_SECONDS is 2 s).
CUT_DEADLINE_S = 10.0


def region_room() -> ChatRoom:
    chat_rooms.ensure_shared_rooms()
    return ChatRoom.objects.get(key=access.chat_room_key(ChatRoomKind.REGION, region("sud-ouest").pk))


def assert_pages_answer(visitor: Visitor, paths: list[str], moment: str) -> None:
    for path in paths:
        answer = visitor.get(path, timeout=PAGE_DEADLINE_S * 2)
        assert answer.status == 200, f"{moment} : {path} → {answer.status}\n{answer.body[:500]}"
        assert answer.seconds < PAGE_DEADLINE_S, f"{moment} : {path} a mis {answer.seconds:.1f} s"


def test_pages_logins_and_searches_keep_answering_while_redis_is_down(private_redis, daphne_factory, member):
    server = daphne_factory(redis_url=private_redis.url)
    visitor = Visitor(server.port, cookies_of(member))
    assert_pages_answer(visitor, MEMBER_PAGES, "Redis en marche")
    assert redis.Redis.from_url(private_redis.url).dbsize() > 0, "le site devrait se servir de ce Redis"

    private_redis.kill()
    assert port_is_closed(private_redis.port)

    assert_pages_answer(visitor, MEMBER_PAGES, "Redis arrêté")
    # Logging in counts failures per account and address in the cache: the limit fails open.
    newcomer = Visitor(server.port)
    login = newcomer.post("/compte/connexion/", {"username": member.username, "password": DEFAULT_PASSWORD},
                          csrf_from="/compte/connexion/")
    assert (login.status, login.location) == (302, "/"), login.body[:500]
    assert_pages_answer(newcomer, ["/", "/discussions/"], "Redis arrêté, après connexion")
    # The search rate limit fails open too: more searches than SEARCH_RATE_LIMIT (30 a minute) pass.
    for number in range(35):
        answer = visitor.get(f"/recherche/?q=convention{number}&format=json")
        assert answer.status == 200, f"recherche n° {number} : {answer.status}"

    private_redis.start()
    # Back in use once its short rest is over (core/cache.py: RETRY_AFTER_S).
    deadline = time.monotonic() + 10
    while redis.Redis.from_url(private_redis.url).dbsize() == 0:
        assert time.monotonic() < deadline, "le cache Redis n'est pas réutilisé après son retour"
        assert_pages_answer(visitor, ["/"], "Redis revenu")
        time.sleep(0.2)
    assert_pages_answer(visitor, MEMBER_PAGES, "Redis revenu")


def test_chat_clients_are_cut_then_resume_every_acknowledged_message_when_redis_comes_back(
        private_redis, daphne_factory, director, member):
    room = region_room()
    server = daphne_factory(redis_url=private_redis.url)
    director_cookies, member_cookies = cookies_of(director), cookies_of(member)

    @async_to_sync
    async def story():
        loop = asyncio.get_running_loop()
        a = ChatClient("directrice", director.username, server, room.pk, cookie_header(director_cookies))
        b = ChatClient("intervenante", member.username, server, room.pk, cookie_header(member_cookies))
        await a.connect()
        await b.connect()
        # 1. Redis up: messages flow both ways.
        await a.send("a-avant", "Bonjour, réunion régionale jeudi ?")
        await b.send("b-avant", "Oui, à 14 h.")
        await a.wait_for(lambda: len(a.timeline) == 2)
        await b.wait_for(lambda: len(b.timeline) == 2)

        # 2. Redis dies. A message leaves at once on the still open connection.
        private_redis.kill()
        killed_at = time.monotonic()
        await a.send("a-pendant", "Redis vient de tomber : ce message ne doit pas se perdre.")
        await a.wait_for(lambda: not a.connected and not b.connected, timeout=CUT_DEADLINE_S)
        cut_after = time.monotonic() - killed_at
        closes = {a.name: a.ws.close_code, b.name: b.ws.close_code}
        told = {client.name: [e["code"] for e in client.errors] for client in (a, b)}

        # 3. While Redis is down: a new connection is refused at once, never left hanging…
        started = time.monotonic()
        with pytest.raises(websockets.exceptions.InvalidHandshake):
            async with ws_connect(server.ws_url(f"/ws/discussions/{room.pk}/"), origin=server.base_url,
                                  additional_headers={"Cookie": cookie_header(member_cookies)}, open_timeout=5):
                pass
        refused_after = time.monotonic() - started
        # …the page without JavaScript still posts (saved, then its broadcast fails quietly)…
        visitor = Visitor(server.port, member_cookies)
        posted = await loop.run_in_executor(None, lambda: visitor.post(
            f"/discussions/{room.pk}/envoyer/", {"client_id": "b-formulaire", "body": "Envoyé par le formulaire."},
            csrf_from=f"/discussions/{room.pk}/"))
        # …and what a client writes offline waits in its outbox.
        await a.send("a-hors-ligne", "Écrit hors ligne, parti au retour.")

        # 4. Redis is back on the same port: both reconnect, resume, send their outbox again.
        private_redis.start()
        await a.connect(timeout=30)
        await b.connect(timeout=30)
        await a.wait_for(lambda: not a.outbox, timeout=15)
        # 5. New messages flow live again, to a connection that is not resuming.
        await b.send("b-apres", "Tout est revenu.")
        await b.wait_for(lambda: not b.outbox, timeout=15)
        await a.wait_for(lambda: b.acked["b-apres"] in a.timeline, timeout=15)
        total = await loop.run_in_executor(None, ChatMessage.objects.filter(room=room).count)
        await a.wait_for(lambda: len(a.timeline) >= total)
        await b.wait_for(lambda: len(b.timeline) >= total)
        await a.close()
        await b.close()
        return a, b, closes, told, cut_after, refused_after, posted

    a, b, closes, told, cut_after, refused_after, posted = story()

    # The outage was said and the connections closed with 4503, quickly; a new one was refused at once.
    assert closes == {"directrice": protocol.CLOSE_UNAVAILABLE, "intervenante": protocol.CLOSE_UNAVAILABLE}
    assert all(protocol.LIVE_UNAVAILABLE in codes for codes in told.values()), told
    assert cut_after < CUT_DEADLINE_S and refused_after < 5, (cut_after, refused_after)
    assert posted.status == 302, f"{posted.status} : {posted.body[:500]}"
    # Nothing lost, nothing twice: every message is saved once, acknowledged, and held by both sides in
    # the room's order without a gap.
    rows = list(ChatMessage.objects.filter(room=room).order_by("seq").values_list("id", "client_id", "seq"))
    assert sorted(client_id for _, client_id, _ in rows) == sorted(
        ["a-avant", "b-avant", "a-pendant", "b-formulaire", "a-hors-ligne", "b-apres"])
    assert set(a.acked) == {"a-avant", "a-pendant", "a-hors-ligne"}
    assert set(b.acked) == {"b-avant", "b-apres"}
    for client in (a, b):
        assert client.ordered_ids() == [message_id for message_id, _, _ in rows]
        assert sorted(client.by_seq) == list(range(1, len(rows) + 1))
        assert client.connections == 2


def test_the_server_says_so_rather_than_answering_nothing_when_a_frame_cannot_be_broadcast(
        private_redis, daphne_factory, director):
    """The sender of a message saved while its broadcast failed gets its acknowledgement first."""
    room = region_room()
    server = daphne_factory(redis_url=private_redis.url, extra_env={"CHAT_LAYER_CHECK_SECONDS": "0"})
    cookie = cookie_header(cookies_of(director))

    @async_to_sync
    async def send_once_redis_is_gone():
        frames = []
        async with ws_connect(server.ws_url(f"/ws/discussions/{room.pk}/"), origin=server.base_url,
                              additional_headers={"Cookie": cookie},
                              open_timeout=10) as ws:
            # Frames are handled one at a time, after the connection's set-up: once the pong is back, the
            # only broadcast of this connection left to fail is the message's. (Its arrival is announced
            # by the process's batched presence frame, which fails on its own and is only logged.)
            await ws.send(json.dumps({"type": "ping"}))
            while not frames or frames[-1]["type"] != "pong":
                frames.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=10)))
            frames.clear()
            private_redis.kill()
            await ws.send(json.dumps({"type": "send", "client_id": "seul", "body": "Sauvé malgré tout."}))
            with pytest.raises(websockets.exceptions.ConnectionClosed):
                while True:
                    frames.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=10)))
            return frames, ws.close_code

    frames, close_code = send_once_redis_is_gone()

    saved = ChatMessage.objects.get(room=room, client_id="seul")
    frames = [frame for frame in frames if frame["type"] != "presence"]
    assert [frame["type"] for frame in frames] == ["message", "error"], frames
    assert (frames[0]["id"], frames[0]["client_id"]) == (saved.pk, "seul")
    assert frames[1]["code"] == protocol.LIVE_UNAVAILABLE
    assert close_code == protocol.CLOSE_UNAVAILABLE
