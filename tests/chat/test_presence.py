"""Presence through chat.presence: who is online in a room, person by person."""

from __future__ import annotations

from chat import presence


def test_presence_counts_people_not_connections(alice, bruno, region_room):
    online, came = presence.presence_join(region_room.pk, "canal-1", alice)
    online, came_again = presence.presence_join(region_room.pk, "canal-2", alice)
    presence.presence_join(region_room.pk, "canal-3", bruno)

    assert (came, came_again) == (True, False)
    assert presence.presence_leave(region_room.pk, "canal-1", alice.pk) is False
    assert presence.presence_leave(region_room.pk, "canal-2", alice.pk) is True
    assert [person["username"] for person in presence.online_people(region_room.pk)] == ["bruno.intervenant"]
