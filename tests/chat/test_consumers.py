"""The room consumer through the whole ASGI stack (origin check, session auth, routing), with
Channels' WebsocketCommunicator: refusals, frames, retries, catch-up, limits, access changes."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import DEFAULT_DB_ALIAS, connections

from chat import protocol
from chat.models import ChatMessage
from config.asgi import application
from directory import services as directory_services
from moderation.models import ModerationEntry
from tests.chat.conftest import ORIGIN, session_cookie_of

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TIMEOUT = 5


@pytest.fixture(autouse=True)
def _no_persistent_connections(monkeypatch):
    # Consumers use the database from worker threads: no connection may outlive the test.
    monkeypatch.setitem(connections.settings[DEFAULT_DB_ALIAS], "CONN_MAX_AGE", 0)


def path_of(room) -> str:
    return f"/ws/discussions/{room.pk}/"


async def open_socket(path: str, headers: list) -> WebsocketCommunicator:
    """Connect and consume the greeting (ready, then the presence list)."""
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, detail = await socket.connect(timeout=TIMEOUT)
    assert connected, f"connexion refusée ({detail})"
    assert (await socket.receive_json_from(TIMEOUT))["type"] == "ready"
    assert (await socket.receive_json_from(TIMEOUT))["type"] == "presence"
    return socket


async def next_frame(socket, *types: str, timeout: float = TIMEOUT) -> dict:
    """The next frame of one of `types`, skipping presence and typing frames in between."""
    while True:
        frame = await socket.receive_json_from(timeout)
        if frame["type"] in types:
            return frame
        assert frame["type"] in {"presence", "typing"}, f"trame inattendue : {frame}"


async def nothing_but_presence(socket, timeout: float = 0.3) -> bool:
    while not await socket.receive_nothing(timeout):
        frame = await socket.receive_json_from(TIMEOUT)
        if frame["type"] not in {"presence", "typing"}:
            return False
    return True


def headers_for(user, origin=ORIGIN) -> list:
    return [origin, session_cookie_of(user)] if user is not None else [origin]


@async_to_sync
async def try_connect(path: str, headers: list) -> tuple[bool, object]:
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, detail = await socket.connect(timeout=TIMEOUT)
    if connected:
        await socket.disconnect()
    return connected, detail


# --- refusals ------------------------------------------------------------------------------------


def test_anonymous_connections_are_refused_with_4401(region_room):
    assert try_connect(path_of(region_room), [ORIGIN]) == (False, protocol.CLOSE_NOT_AUTHENTICATED)


def test_people_outside_the_network_are_refused_with_4401(outsider, region_room):
    assert try_connect(path_of(region_room), headers_for(outsider)) == (False, protocol.CLOSE_NOT_AUTHENTICATED)


def test_members_of_the_network_outside_the_room_are_refused_with_4403(chloe, region_room, direct_room):
    assert try_connect(path_of(region_room), headers_for(chloe)) == (False, protocol.CLOSE_FORBIDDEN)
    assert try_connect(path_of(direct_room), headers_for(chloe)) == (False, protocol.CLOSE_FORBIDDEN)


def test_an_unknown_room_is_refused_with_4404(alice):
    assert try_connect("/ws/discussions/987654/", headers_for(alice)) == (False, protocol.CLOSE_NOT_FOUND)


def test_a_foreign_origin_is_refused_before_the_consumer(alice, region_room):
    foreign = (b"origin", b"https://site-malveillant.example")

    connected, _code = try_connect(path_of(region_room), headers_for(alice, origin=foreign))

    assert connected is False


def test_a_connection_without_origin_is_refused(alice, region_room):
    connected, _code = try_connect(path_of(region_room), [session_cookie_of(alice)])

    assert connected is False


def test_federal_staff_may_open_a_shared_room_to_moderate_it(federal_staff, region_room):
    assert try_connect(path_of(region_room), headers_for(federal_staff)) == (True, None)


# --- messages ------------------------------------------------------------------------------------


def test_a_message_reaches_everyone_in_the_room_sender_included_after_being_saved(alice, bruno, region_room):
    alice_headers, bruno_headers = headers_for(alice), headers_for(bruno)

    @async_to_sync
    async def scenario():
        a = await open_socket(path_of(region_room), alice_headers)
        b = await open_socket(path_of(region_room), bruno_headers)
        await a.send_json_to({"type": "send", "client_id": "c-1", "body": "Bonjour la région"})
        ack = await next_frame(a, "message")
        received = await next_frame(b, "message")
        saved = await database_sync_to_async(ChatMessage.objects.filter(pk=received["id"]).exists)()
        await a.disconnect()
        await b.disconnect()
        return ack, received, saved

    ack, received, saved = scenario()

    assert ack == received
    assert saved
    assert {"type", "id", "client_id", "author", "body", "created"} <= received.keys()
    assert (received["client_id"], received["author"], received["body"]) == (
        "c-1", "alice.directrice", "Bonjour la région")


def test_a_retried_send_is_acknowledged_again_without_a_second_message(alice, bruno, region_room):
    alice_headers, bruno_headers = headers_for(alice), headers_for(bruno)

    @async_to_sync
    async def scenario():
        a = await open_socket(path_of(region_room), alice_headers)
        b = await open_socket(path_of(region_room), bruno_headers)
        frame = {"type": "send", "client_id": "retry-1", "body": "Une fois"}
        await a.send_json_to(frame)
        first = await next_frame(a, "message")
        await next_frame(b, "message")
        await a.send_json_to(frame)
        second = await next_frame(a, "message")
        quiet = await nothing_but_presence(b)
        await a.disconnect()
        await b.disconnect()
        return first, second, quiet

    first, second, bruno_got_nothing_more = scenario()

    assert first == second
    assert bruno_got_nothing_more
    assert ChatMessage.objects.filter(client_id="retry-1").count() == 1


def test_a_reconnecting_client_gets_exactly_what_it_missed_in_order(alice, bruno, region_room):
    alice_headers, bruno_headers = headers_for(alice), headers_for(bruno)

    @async_to_sync
    async def scenario():
        a = await open_socket(path_of(region_room), alice_headers)
        b = await open_socket(path_of(region_room), bruno_headers)
        await a.send_json_to({"type": "send", "client_id": "seen", "body": "Vu par Bruno"})
        seen = await next_frame(b, "message")
        await next_frame(a, "message")
        await b.disconnect()
        missed = []
        for number in range(3):
            await a.send_json_to({"type": "send", "client_id": f"missed-{number}", "body": f"Manqué {number}"})
            missed.append((await next_frame(a, "message"))["id"])
        b = await open_socket(path_of(region_room), bruno_headers)
        await b.send_json_to({"type": "resume", "after": seen["id"]})
        replayed = [await next_frame(b, "message") for _ in missed]
        summary = await next_frame(b, "resumed")
        await a.disconnect()
        await b.disconnect()
        return seen, missed, replayed, summary

    seen, missed, replayed, summary = scenario()

    assert [frame["id"] for frame in replayed] == missed
    assert [frame["seq"] for frame in replayed] == [2, 3, 4]
    assert summary == {"type": "resumed", "after": seen["id"], "count": 3, "complete": True, "last_id": missed[-1]}


def test_a_long_absence_is_replayed_in_bounded_batches(settings, alice, region_room):
    settings.CHAT_RESUME_LIMIT = 2
    headers = headers_for(alice)
    from chat import messages

    ids = [messages.post_message(alice, region_room.pk, f"c-{n}", f"Message {n}").frame["id"] for n in range(5)]

    @async_to_sync
    async def scenario():
        a = await open_socket(path_of(region_room), headers)
        await a.send_json_to({"type": "resume", "after": 0})
        batch = [await next_frame(a, "message") for _ in range(2)]
        summary = await next_frame(a, "resumed")
        await a.disconnect()
        return batch, summary

    batch, summary = scenario()

    assert [frame["id"] for frame in batch] == ids[:2]
    assert summary["complete"] is False
    assert summary["history_url"] == f"/discussions/{region_room.pk}/messages.json?after={ids[1]}"


def test_the_rate_limit_answers_with_a_french_error_frame_and_keeps_the_connection(settings, alice, region_room):
    settings.CHAT_RATE_LIMIT = 2
    settings.CHAT_RATE_LIMIT_SECONDS = 60
    headers = headers_for(alice)

    @async_to_sync
    async def scenario():
        a = await open_socket(path_of(region_room), headers)
        for number in range(3):
            await a.send_json_to({"type": "send", "client_id": f"c-{number}", "body": "Vite"})
        frames = [await next_frame(a, "message", "error") for _ in range(3)]
        await a.send_json_to({"type": "ping"})
        pong = await next_frame(a, "pong")
        await a.disconnect()
        return frames, pong

    frames, pong = scenario()

    # Acknowledgements travel through the channel layer, the error comes straight back: any order.
    acks = sorted(frame["client_id"] for frame in frames if frame["type"] == "message")
    [error] = [frame for frame in frames if frame["type"] == "error"]
    assert acks == ["c-0", "c-1"]
    assert (error["code"], error["client_id"]) == (protocol.RATE_LIMITED, "c-2")
    assert error["message"].startswith("Vous envoyez trop de messages")
    assert pong == {"type": "pong"}


@pytest.mark.parametrize("raw, code", [
    ("{pas du json", protocol.INVALID_JSON),
    ("[1, 2]", protocol.INVALID_FRAME),
    ('{"body": "sans type"}', protocol.INVALID_FRAME),
    ('{"type": "inconnu"}', protocol.UNKNOWN_TYPE),
    ('{"type": "send", "client_id": "c", "body": ""}', protocol.EMPTY_MESSAGE),
    ('{"type": "resume", "after": "hier"}', protocol.INVALID_FRAME),
    ('{"type": "edit", "id": "12", "body": "x"}', protocol.INVALID_FRAME),
])
def test_bad_frames_get_an_error_frame_and_the_connection_goes_on(alice, region_room, raw, code):
    headers = headers_for(alice)

    @async_to_sync
    async def scenario():
        a = await open_socket(path_of(region_room), headers)
        await a.send_to(text_data=raw)
        error = await next_frame(a, "error")
        await a.send_json_to({"type": "send", "client_id": "after", "body": "Toujours là"})
        message = await next_frame(a, "message")
        await a.disconnect()
        return error, message

    error, message = scenario()

    assert error["code"] == code and error["message"]
    assert message["body"] == "Toujours là"


def test_oversized_and_binary_frames_get_an_error_frame(settings, alice, region_room):
    settings.CHAT_MAX_FRAME_BYTES = 1024
    headers = headers_for(alice)

    @async_to_sync
    async def scenario():
        a = await open_socket(path_of(region_room), headers)
        await a.send_to(text_data=json.dumps({"type": "send", "client_id": "big", "body": "é" * 600}))
        too_large = await next_frame(a, "error")
        await a.send_to(bytes_data=b"\x00\x01binaire")
        binary = await next_frame(a, "error")
        await a.disconnect()
        return too_large, binary

    too_large, binary = scenario()

    assert (too_large["code"], too_large["max_frame_bytes"]) == (protocol.FRAME_TOO_LARGE, 1024)
    assert binary["code"] == protocol.BINARY_FRAME
    assert not ChatMessage.objects.exists()


# --- edit, delete, read, presence, typing ----------------------------------------------------------


def test_edit_and_delete_of_ones_own_message_are_broadcast(alice, bruno, region_room):
    alice_headers, bruno_headers = headers_for(alice), headers_for(bruno)

    @async_to_sync
    async def scenario():
        a = await open_socket(path_of(region_room), alice_headers)
        b = await open_socket(path_of(region_room), bruno_headers)
        await a.send_json_to({"type": "send", "client_id": "c", "body": "Premier jet"})
        message = await next_frame(b, "message")
        await next_frame(a, "message")
        await a.send_json_to({"type": "edit", "id": message["id"], "body": "Version relue"})
        edit = await next_frame(b, "edit")
        await b.send_json_to({"type": "edit", "id": message["id"], "body": "Pirate"})
        refused = await next_frame(b, "error")
        await a.send_json_to({"type": "delete", "id": message["id"]})
        deleted = await next_frame(b, "delete")
        await a.disconnect()
        await b.disconnect()
        return message, edit, refused, deleted

    message, edit, refused, deleted = scenario()

    assert (edit["id"], edit["body"]) == (message["id"], "Version relue")
    assert (refused["code"], refused["id"]) == (protocol.FORBIDDEN, message["id"])
    assert deleted == {"type": "delete", "id": message["id"], "room": region_room.pk, "seq": message["seq"],
                       "moderated": False}


def test_staff_moderate_over_the_socket_with_a_logged_reason(alice, federal_staff, region_room):
    alice_headers, staff_headers = headers_for(alice), headers_for(federal_staff)

    @async_to_sync
    async def scenario():
        a = await open_socket(path_of(region_room), alice_headers)
        s = await open_socket(path_of(region_room), staff_headers)
        await a.send_json_to({"type": "send", "client_id": "c", "body": "Propos hors charte"})
        await next_frame(a, "message")
        message = await next_frame(s, "message")
        await s.send_json_to({"type": "delete", "id": message["id"]})
        missing_reason = await next_frame(s, "error")
        await s.send_json_to({"type": "delete", "id": message["id"], "reason": "Contraire à la charte"})
        deleted = await next_frame(a, "delete")
        await a.disconnect()
        await s.disconnect()
        return missing_reason, deleted

    missing_reason, deleted = scenario()

    assert missing_reason["code"] == protocol.REASON_REQUIRED
    assert deleted["moderated"] is True
    assert ModerationEntry.objects.get().reason == "Contraire à la charte"


def test_read_frames_move_the_marker_and_answer_the_unread_counts(alice, bruno, region_room):
    alice_headers, bruno_headers = headers_for(alice), headers_for(bruno)

    @async_to_sync
    async def scenario():
        a = await open_socket(path_of(region_room), alice_headers)
        b = await open_socket(path_of(region_room), bruno_headers)
        await a.send_json_to({"type": "send", "client_id": "c", "body": "À lire"})
        message = await next_frame(b, "message")
        await b.send_json_to({"type": "read", "up_to": message["id"]})
        read = await next_frame(b, "read")
        await a.disconnect()
        await b.disconnect()
        return message, read

    message, read = scenario()

    assert read == {"type": "read", "room": region_room.pk, "up_to": message["id"], "unread": 0, "unread_total": 0}


def test_presence_and_typing_reach_the_others(alice, bruno, region_room):
    alice_headers, bruno_headers = headers_for(alice), headers_for(bruno)

    @async_to_sync
    async def scenario():
        a = await open_socket(path_of(region_room), alice_headers)
        b = WebsocketCommunicator(application, path_of(region_room), headers=bruno_headers)
        await b.connect(timeout=TIMEOUT)
        await b.receive_json_from(TIMEOUT)  # ready
        online = await b.receive_json_from(TIMEOUT)
        joined = await a.receive_json_from(TIMEOUT)
        await b.send_json_to({"type": "typing"})
        typing = await a.receive_json_from(TIMEOUT)
        bruno_hears_himself = False
        while not await b.receive_nothing(0.3):
            # (Alice's own "joined" may still be on its way through the layer: presence is idempotent.)
            bruno_hears_himself |= (await b.receive_json_from(TIMEOUT))["type"] == "typing"
        await b.disconnect()
        left = await a.receive_json_from(TIMEOUT)
        await a.disconnect()
        return online, joined, typing, bruno_hears_himself, left

    online, joined, typing, echo, left = scenario()

    assert [person["username"] for person in online["online"]] == ["alice.directrice", "bruno.intervenant"]
    assert online["count"] == 2
    # Joins are batched per process (CHAT_PRESENCE_BATCH_SECONDS): Alice's own may share the frame.
    assert "bruno.intervenant" in [person["username"] for person in joined["joined"]]
    assert (typing["type"], typing["user"]["name"]) == ("typing", "Bruno Etcheverry")
    assert echo is False
    assert [person["username"] for person in left["left"]] == ["bruno.intervenant"]


# --- access changes --------------------------------------------------------------------------------


def test_a_person_leaving_the_region_stops_receiving_without_reconnecting(alice, bruno, north_east, region_room):
    alice_headers, bruno_headers = headers_for(alice), headers_for(bruno)

    @async_to_sync
    async def scenario():
        a = await open_socket(path_of(region_room), alice_headers)
        b = await open_socket(path_of(region_room), bruno_headers)
        await a.send_json_to({"type": "send", "client_id": "before", "body": "Avant le départ"})
        before = await next_frame(b, "message")
        # Bruno's association moves him to the Nord-Est: the directory service, as the admin would.
        await database_sync_to_async(directory_services.move_person)(bruno, north_east)
        closed = None
        while closed is None:
            output = await b.receive_output(TIMEOUT)
            if output["type"] == "websocket.close":
                closed = output
            else:
                assert json.loads(output["text"])["type"] in {"presence", "typing"}
        await a.send_json_to({"type": "send", "client_id": "after", "body": "Après le départ"})
        await next_frame(a, "message")
        after = await b.receive_nothing(0.5)
        await a.disconnect()
        return before, closed, after

    before, closed, nothing_after = scenario()

    assert before["body"] == "Avant le départ"
    assert closed == {"type": "websocket.close", "code": protocol.CLOSE_FORBIDDEN}
    assert nothing_after is True


def test_a_person_whose_association_leaves_the_network_is_closed_with_4401(alice, south_west, region_room):
    headers = headers_for(alice)

    @async_to_sync
    async def scenario():
        a = await open_socket(path_of(region_room), headers)
        await database_sync_to_async(directory_services.set_association_status)(south_west, "former")
        while True:
            output = await a.receive_output(TIMEOUT)
            if output["type"] == "websocket.close":
                return output

    assert scenario() == {"type": "websocket.close", "code": protocol.CLOSE_NOT_AUTHENTICATED}
