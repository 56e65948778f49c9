"""Whose directory page a member may open (issue 16, item 1), and every place that shows a person agreeing.

The rule (docs/access.md, "Whose page a person may open"): a person shows where their association
shows. People of a candidate association are seen by federal staff and the membership commission
only, as the association itself; people of former member associations stay visible to members, as
their association; an inactive account and an account outside the directory (a technical superuser
with neither association nor federal role) show to federal staff only. Everyone sees their own page.
"""

import html

import pytest
from django.urls import reverse

from directory import access
from directory.models import Association, User
from search import indexing
from tests.factories import AssociationFactory, RoleSpec, make_person
from tests.factories import Role as RoleEnum

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def commission(association):
    return make_person("commission.test", association=association, roles=[RoleSpec(RoleEnum.MEMBERSHIP_COMMISSION)])


@pytest.fixture
def technical_admin(db):
    """A superuser made by `createsuperuser`: no association, no federal role, not in the directory."""
    return make_person("technique.test", is_superuser=True, is_staff=True)


@pytest.fixture
def former_person(db):
    former = AssociationFactory(name="Association ancienne", status=Association.Status.FORMER)
    return make_person("ancien.test", association=former, roles=[RoleSpec(RoleEnum.MEMBER)])


def test_a_member_gets_404_for_the_director_of_a_candidate_association(client, member, candidate_person):
    client.force_login(member)
    response = client.get(candidate_person.get_absolute_url())
    assert response.status_code == 404
    assert candidate_person.email not in text(response)


@pytest.mark.parametrize("viewer", ["staff", "commission"])
def test_staff_and_the_commission_see_a_candidate_person_and_their_association(
        request, client, viewer, candidate_person):
    client.force_login(request.getfixturevalue(viewer))
    response = client.get(candidate_person.get_absolute_url())
    assert response.status_code == 200
    assert response.context["detail"].association_visible is True
    assert candidate_person.association.get_absolute_url() in text(response)


def test_people_of_a_former_member_association_stay_visible_to_members(client, member, former_person):
    client.force_login(member)
    assert client.get(former_person.get_absolute_url()).status_code == 200


def test_an_account_outside_the_directory_shows_to_staff_and_to_itself_only(
        client, member, staff, technical_admin):
    client.force_login(member)
    assert client.get(technical_admin.get_absolute_url()).status_code == 404
    client.force_login(staff)
    assert client.get(technical_admin.get_absolute_url()).status_code == 200
    client.force_login(technical_admin)
    assert client.get(technical_admin.get_absolute_url()).status_code == 200


def test_everyone_in_the_network_sees_their_own_page(client, member, staff):
    for person in (member, staff):
        assert access.can_view_person(person, person)
        client.force_login(person)
        assert client.get(person.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("viewer", ["member", "staff", "commission"])
def test_lists_search_and_mentions_show_exactly_the_people_whose_page_one_may_open(
        request, client, viewer, member, director, staff, commission, candidate_person, technical_admin,
        former_person, settings):
    settings.SEARCH_RATE_LIMIT = 0
    viewer = request.getfixturevalue(viewer)
    inactive = make_person("inactif.test", association=member.association, roles=[RoleSpec(RoleEnum.MEMBER)])
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    indexing.rebuild()
    client.force_login(viewer)
    people = [director, staff, candidate_person, technical_admin, former_person, User.objects.get(pk=inactive.pk)]
    visible = set(access.visible_people(viewer))
    for person in people:
        may = access.can_view_person(viewer, person)
        assert (person in visible) is may, person
        page = client.get(person.get_absolute_url())
        assert page.status_code == (200 if may else 404), person
        mentions = client.get(reverse("exchange:mention-search"), {"q": person.username}).json()
        if not may:
            assert mentions == [], person
        found = client.get(reverse("search:search"), {"q": person.get_full_name(), "format": "json"})
        if not may:
            assert person.get_absolute_url() not in found.content.decode(), person
    # The guard: the rule does let people through.
    assert access.can_view_person(viewer, director)
    assert client.get(reverse("exchange:mention-search"), {"q": director.username}).json() != []
