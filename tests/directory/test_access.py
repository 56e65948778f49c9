"""The one rule book: who is a member, which groups and audiences follow from roles."""

import pytest

from directory import access, services
from directory.models import Association
from directory.roles import ROLE_GROUP_NAMES, Role, region_group_name, working_group_group_name
from tests.factories import AssociationFactory, RoleSpec, make_person, region

pytestmark = pytest.mark.django_db


def group_set(user):
    return set(user.groups.values_list("name", flat=True))


def test_anonymous_is_not_a_member():
    from django.contrib.auth.models import AnonymousUser

    assert access.is_member(AnonymousUser()) is False
    assert access.audience_keys(AnonymousUser()) == {"public"}
    assert access.group_keys(AnonymousUser()) == set()


def test_person_of_a_member_association_is_a_member(director):
    assert access.is_member(director) is True


def test_person_of_a_candidate_association_is_not_a_member(candidate_person):
    assert access.is_member(candidate_person) is False
    assert group_set(candidate_person) == set()


def test_inactive_person_is_not_a_member(director):
    director.is_active = False
    director.save()
    access.forget(director)
    assert access.is_member(director) is False


def test_federal_staff_without_association_is_a_member(staff):
    assert access.is_member(staff) is True
    assert access.is_federal_staff(staff) is True


def test_director_groups_are_members_role_and_region(director):
    assert group_set(director) == {
        ROLE_GROUP_NAMES[Role.MEMBER],
        ROLE_GROUP_NAMES[Role.DIRECTOR],
        region_group_name("Sud-Ouest"),
    }


def test_dica_belongs_to_the_region_they_cover(dica):
    assert region_group_name("Nord-Est") in group_set(dica)
    assert f"region:{region('nord-est').pk}" in access.audience_keys(dica)


def test_working_group_member_gets_the_group_of_their_working_group(member, working_group):
    services.grant_role(member, RoleSpec(Role.WORKING_GROUP_MEMBER, working_group=working_group))
    assert working_group_group_name("Éthique") in group_set(member)
    assert "wg:ethique" in access.audience_keys(member)


def test_revoking_a_role_removes_its_group_at_once(president):
    services.revoke_role(president, RoleSpec(Role.PRESIDENT))
    assert ROLE_GROUP_NAMES[Role.PRESIDENT] not in group_set(president)
    assert "role:president" not in access.audience_keys(president)


def test_moving_to_another_region_changes_the_regional_group(director, other_region_association):
    services.move_person(director, other_region_association)
    groups = group_set(director)
    assert region_group_name("Nord-Est") in groups
    assert region_group_name("Sud-Ouest") not in groups


def test_association_leaving_the_network_removes_its_people_access(director, association):
    services.set_association_status(association, Association.Status.FORMER)
    director.refresh_from_db()
    assert access.is_member(director) is False
    assert group_set(director) == set()


def test_sync_leaves_hand_made_groups_alone(director):
    from django.contrib.auth.models import Group

    custom = Group.objects.create(name="Comité de rédaction")
    director.groups.add(custom)
    services.sync_groups(director)
    assert "Comité de rédaction" in group_set(director)


def test_contact_visibility_follows_the_persons_choice(director, member, staff):
    member.contact_visible_to_members = False
    member.save()
    assert access.can_view_contact(director, member) is False
    assert access.can_view_contact(member, member) is True
    assert access.can_view_contact(staff, member) is True
    member.contact_visible_to_members = True
    member.save()
    assert access.can_view_contact(director, member) is True


def test_candidate_associations_are_visible_to_staff_and_commission_only(director, staff):
    candidate = AssociationFactory(name="Candidate", status=Association.Status.CANDIDATE)
    examiner = make_person("examinatrice", association=director.association,
                           roles=[RoleSpec(Role.MEMBERSHIP_COMMISSION)])
    assert access.can_view_association(director, candidate) is False
    assert access.can_view_association(staff, candidate) is True
    assert access.can_view_association(examiner, candidate) is True


def test_profile_is_loaded_with_a_fixed_number_of_queries(director, django_assert_num_queries):
    from directory.models import User

    fresh = User.objects.get(pk=director.pk)
    with django_assert_num_queries(2):  # association with its region, then role assignments
        access.audience_keys(fresh)
        access.group_keys(fresh)
        access.is_member(fresh)
