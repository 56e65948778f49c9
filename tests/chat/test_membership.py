"""Who is in which room: the membership matrix (roles × room kinds), derived from the directory,
and kept in step at once when roles change."""

from __future__ import annotations

import pytest

from chat import memberships, messages, selectors
from chat import rooms as chat_rooms
from chat.errors import ChatError
from chat.models import ChatMembership
from directory import services as directory_services
from tests.factories import Role, RoleSpec, make_person, region, theme

# Declared at module level so pytest-django runs these tests with the other database tests, before
# the transactional ones that leave an emptied database behind (fixtures are pulled in dynamically).
pytestmark = pytest.mark.django_db

ROOMS = ["region_room", "other_region_room", "ethics_room", "mediation_room", "direct_room", "meeting_room"]

# Expected HTTP status of each room page, per person (200: may open it; 403: may not).
MATRIX = {
    "alice": [200, 403, 403, 200, 200, 200],  # Sud-Ouest director following médiation pénale
    "bruno": [200, 403, 403, 403, 200, 403],  # Sud-Ouest field worker
    "chloe": [403, 200, 200, 403, 403, 403],  # Nord-Est director, Éthique working group
    "dica": [200, 200, 403, 403, 403, 403],  # association in the Sud-Ouest, DICA of the Nord-Est
    "referent": [403, 200, 403, 200, 403, 403],  # Nord-Est, referent for médiation pénale
    "federal_staff": [200, 200, 200, 200, 403, 200],  # moderates every shared room; created the meeting room
    "outsider": [403, 403, 403, 403, 403, 403],  # candidate association: not in the network
}
# Whether the room is listed among the person's rooms (members only; staff moderate without joining).
LISTED = {
    "alice": [True, False, False, True, True, True],
    "bruno": [True, False, False, False, True, False],
    "chloe": [False, True, True, False, False, False],
    "dica": [True, True, False, False, False, False],
    "referent": [False, True, False, True, False, False],
    "federal_staff": [False, False, False, False, False, True],
}


@pytest.fixture
def dica(south_west):
    return make_person("denise.dica", association=south_west,
                       roles=[RoleSpec(Role.DIRECTOR), RoleSpec(Role.DICA, region=region("nord-est"))])


@pytest.fixture
def referent(north_east):
    return make_person("remi.referent", association=north_east,
                       roles=[RoleSpec(Role.REFERENT, theme=theme("mediation-penale"))])


@pytest.fixture
def meeting_room(federal_staff, alice):
    return chat_rooms.create_adhoc_room(federal_staff, name="Réunion régionale Sud-Ouest", members=[alice])


@pytest.fixture
def rooms(request):
    return [request.getfixturevalue(name) for name in ROOMS]


@pytest.mark.parametrize("person_name", list(MATRIX))
def test_each_person_opens_exactly_the_rooms_the_directory_gives_them(client, request, rooms, person_name):
    person = request.getfixturevalue(person_name)
    client.force_login(person)

    statuses = [client.get(room.get_absolute_url()).status_code for room in rooms]

    assert statuses == MATRIX[person_name]


@pytest.mark.parametrize("person_name", list(LISTED))
def test_the_room_list_shows_exactly_the_persons_rooms(request, rooms, person_name):
    person = request.getfixturevalue(person_name)

    listed = {entry.room.pk for entry in selectors.rooms_for(person).all}

    assert [room.pk in listed for room in rooms] == LISTED[person_name]


def test_anonymous_visitors_are_sent_to_the_login_page(client, region_room):
    response = client.get(region_room.get_absolute_url())

    assert response.status_code == 302
    assert response["Location"].startswith("/compte/connexion/")


def test_a_room_that_does_not_exist_answers_404(client, alice):
    client.force_login(alice)

    assert client.get("/discussions/999999/").status_code == 404


def test_federal_staff_see_the_rooms_they_moderate_apart_from_their_own(federal_staff, region_room, ethics_room):
    listing = selectors.rooms_for(federal_staff)

    assert {region_room, ethics_room} <= set(listing.moderation)
    assert region_room not in [entry.room for entry in listing.all]


def test_a_new_working_group_member_joins_its_room_at_once(bruno, ethics, ethics_room):
    directory_services.grant_role(bruno, RoleSpec(Role.WORKING_GROUP_MEMBER, working_group=ethics))

    assert ChatMembership.objects.filter(user=bruno, room=ethics_room).exists()


def test_leaving_a_region_leaves_its_room_at_once(alice, north_east, region_room, other_region_room):
    directory_services.move_person(alice, north_east)

    assert not ChatMembership.objects.filter(user=alice, room=region_room).exists()
    assert ChatMembership.objects.filter(user=alice, room=other_region_room).exists()


def test_an_association_leaving_the_network_closes_every_room_of_its_people(client, alice, direct_room, south_west):
    directory_services.set_association_status(south_west, "former")
    client.force_login(alice)

    assert client.get(direct_room.get_absolute_url()).status_code == 403
    assert not ChatMembership.objects.filter(user=alice, room__kind="region").exists()


def test_a_room_created_for_a_region_invites_everyone_taking_part_in_it(federal_staff, alice, bruno, chloe, dica):
    room = chat_rooms.create_adhoc_room(federal_staff, name="Réunion régionale", region=region("sud-ouest"))

    participants = set(room.memberships.values_list("user__username", flat=True))

    assert participants == {"mathilde.equipe", "alice.directrice", "bruno.intervenant", "denise.dica"}


def test_only_federal_staff_create_rooms(alice, bruno):
    with pytest.raises(ChatError):
        chat_rooms.create_adhoc_room(alice, name="Salon sauvage", members=[bruno])


def test_removing_someone_from_an_adhoc_room_takes_the_room_away(client, federal_staff, alice, bruno):
    room = chat_rooms.create_adhoc_room(federal_staff, name="Projet commun", members=[alice, bruno])

    chat_rooms.set_adhoc_room(federal_staff, room, name="Projet commun", description="", members=[federal_staff, alice])
    client.force_login(bruno)

    assert client.get(room.get_absolute_url()).status_code == 403


def test_direct_messages_need_two_members_of_the_network(alice, outsider):
    with pytest.raises(ChatError):
        chat_rooms.open_direct_room(alice, outsider)
    with pytest.raises(ChatError):
        chat_rooms.open_direct_room(alice, alice)


def test_opening_a_direct_conversation_twice_gives_the_same_room(alice, bruno):
    assert chat_rooms.open_direct_room(alice, bruno) == chat_rooms.open_direct_room(bruno, alice)


def test_new_members_do_not_inherit_the_rooms_history_as_unread(alice, bruno, region_room, north_east):
    messages.post_message(alice, region_room.pk, "avant", "Message d'avant votre arrivée")
    newcomer = make_person("nina.nouvelle", association=bruno.association, roles=[RoleSpec(Role.MEMBER)])

    assert selectors.unread_counts(newcomer).get(region_room.pk, 0) == 0
    assert selectors.unread_counts(bruno)[region_room.pk] == 1


def test_sync_of_every_membership_repairs_rows_written_behind_its_back(alice, region_room):
    ChatMembership.objects.filter(user=alice).delete()

    counts = memberships.sync_all_memberships()

    assert counts["added"] >= 2  # her region and her theme
    assert ChatMembership.objects.filter(user=alice, room=region_room).exists()
