"""The access module's lists agree with its yes/no answers, person by person (docs/access.md)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from machina.core.loading import get_class

from chat import memberships as chat_memberships
from chat import rooms as chat_rooms
from chat.errors import ConnectionRefused
from chat.models import ChatMembership, ChatRoom
from directory import access
from directory.models import Association
from directory.roles import Role
from forum import services as forum_services
from forum.overrides.forum_permission.handler import PermissionHandler as OurPermissionHandler
from tests.factories import AssociationFactory, RoleSpec, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(director, president, member, dica, staff, candidate_person, association, working_group):
    former = AssociationFactory(name="Association ancienne", status=Association.Status.FORMER)
    everyone = {
        "director": director, "president": president, "member": member, "dica": dica, "staff": staff,
        "candidate": candidate_person,
        "commission": make_person("commission", association=association,
                                  roles=[RoleSpec(Role.MEMBERSHIP_COMMISSION)]),
        "wg_member": make_person("membre.gt", association=association,
                                 roles=[RoleSpec(Role.WORKING_GROUP_MEMBER, working_group=working_group)]),
        "former": make_person("ancien", association=former, roles=[RoleSpec(Role.MEMBER)]),
        "no_association": make_person("sans.association"),
        "inactive": make_person("inactif", association=association, roles=[RoleSpec(Role.MEMBER)]),
    }
    everyone["inactive"].is_active = False  # as /admin/ does: groups stay, the account is off
    everyone["inactive"].save(update_fields=["is_active"])
    for person in everyone.values():
        person.refresh_from_db()
        access.forget(person)
    return everyone


def test_members_are_the_people_the_access_module_calls_members(people):
    assert set(access.members()) == {p for p in people.values() if access.is_member(p)}


def test_role_holders_are_the_members_holding_the_role(people):
    assert list(access.role_holders(Role.DIRECTOR)) == [people["director"]]
    assert set(access.role_holders(Role.MEMBER)) == set(access.members())


@pytest.mark.parametrize("viewer", ["director", "staff", "commission", "candidate", "no_association", "inactive"])
def test_visible_people_are_those_whose_page_the_viewer_may_open(people, viewer):
    viewer = people[viewer]
    expected = {p for p in people.values() if access.can_view_person(viewer, p)}
    assert set(access.visible_people(viewer)) == expected
    assert set(access.visible_people(AnonymousUser())) == set()


def test_the_directory_lists_active_people_of_an_association_and_the_federal_team(people):
    listed = set(access.directory_people())
    assert people["staff"] in listed and people["director"] in listed and people["former"] in listed
    assert people["no_association"] not in listed and people["inactive"] not in listed


@pytest.mark.parametrize("status", [*Association.Status.values, None])
def test_a_listing_is_shown_to_whoever_may_see_associations_of_its_status(people, status):
    audience = set(access.listing_audience(status))
    for name, viewer in people.items():
        sees = bool(audience & access.audience_keys(viewer))
        expected = access.is_member(viewer) and (
            status is None or status in access.visible_association_statuses(viewer))
        assert sees is expected, (name, status)


def test_the_forum_permission_handler_is_the_one_machinas_views_use():
    handler = access.forum_permission_handler()
    assert isinstance(handler, OurPermissionHandler)
    assert type(handler) is get_class("forum_permission.handler", "PermissionHandler")


def test_readable_forums_are_those_machina_lets_the_person_read(people):
    forum_services.ensure_forum_tree()
    forums = list(get_class("forum.models", "Forum").objects.all())
    for name, person in people.items():
        handler = access.forum_permission_handler()
        one_by_one = {forum.pk for forum in forums if handler.can_read_forum(forum, person)}
        assert access.readable_forum_ids_among(person, forums) == one_by_one, name
        readable = set(access.readable_forums(person).values_list("pk", flat=True))
        assert readable == set(access.readable_forum_ids(person).values_list("pk", flat=True))
        if person.is_active:  # machina's list questions leave the account's state to the caller
            assert readable <= one_by_one, name  # machina's tree rule may hide more, never less


def test_rooms_open_to_a_person_are_those_the_chat_lets_them_join(people):
    chat_rooms.ensure_shared_rooms()
    chat_rooms.open_direct_room(people["director"], people["member"])
    rooms = list(ChatRoom.objects.all())
    assert ChatMembership.objects.exists()
    for name, person in people.items():
        may_open = set()
        for room in rooms:
            try:
                chat_memberships.check_access(person, room.pk)
            except ConnectionRefused:
                continue
            may_open.add(room.pk)
        assert set(access.chat_rooms_open_to(person, ChatRoom.objects.all()).values_list("pk", flat=True)) \
            == may_open, name


def test_templates_ask_the_access_module_for_roles(people):
    template = Template('{% load access_tags %}{% if user|opens_site_admin %}admin{% endif %}'
                        '{% if user|is_federal_staff %} staff{% endif %}'
                        '{% if user|is_network_member %} member{% endif %}'
                        '{% if user|has_role:"director" %} director{% endif %}')
    assert template.render(Context({"user": people["staff"]})) == "admin staff member"
    assert template.render(Context({"user": people["director"]})) == " member director"
    assert template.render(Context({"user": people["candidate"]})) == ""
    assert template.render(Context({"user": AnonymousUser()})) == ""
