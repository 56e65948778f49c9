"""Read markers through chat.reading: they move forward only, and unread counts follow them."""

from __future__ import annotations

from chat import messages, reading, selectors


def post(user, room, client_id, body="Bonjour"):
    return messages.post_message(user, room.pk, client_id, body)


def test_unread_counts_follow_the_read_marker(alice, bruno, region_room, direct_room):
    for number in range(3):
        post(alice, region_room, f"r-{number}")
    last = post(alice, direct_room, "d-0").frame["id"]
    post(bruno, direct_room, "own")  # one's own messages are never unread

    assert selectors.unread_counts(bruno) == {region_room.pk: 3, direct_room.pk: 1}
    assert reading.mark_read(bruno, direct_room.pk, last) == {"up_to": last, "unread": 0, "unread_total": 3}


def test_the_read_marker_never_goes_back_nor_past_the_last_message(alice, bruno, region_room):
    first = post(alice, region_room, "r-1").frame["id"]
    reading.mark_read(bruno, region_room.pk, 10**12)
    post(alice, region_room, "r-2")

    reading.mark_read(bruno, region_room.pk, first - 1)

    assert selectors.unread_counts(bruno) == {region_room.pk: 1}


def test_deleted_messages_are_not_unread(alice, bruno, region_room):
    message_id = post(alice, region_room, "r-1").frame["id"]
    messages.delete_message(alice, region_room.pk, message_id)

    assert selectors.unread_total(bruno) == 0
