"""Directory services: roles need their scope, coverage implies cours d'appel, parrainage rules."""

import pytest

from directory import services
from directory.models import RoleAssignment
from directory.roles import Role
from tests.factories import AssociationFactory, RoleSpec, juridiction, make_person

pytestmark = pytest.mark.django_db


def test_a_scoped_role_without_its_scope_is_refused(member):
    with pytest.raises(services.DirectoryError, match="région"):
        services.grant_role(member, RoleSpec(Role.DICA))
    assert not RoleAssignment.objects.filter(user=member, role=Role.DICA).exists()


def test_unknown_role_is_refused_and_nothing_is_written(member):
    before = list(RoleAssignment.objects.filter(user=member).values_list("role", flat=True))
    with pytest.raises(services.DirectoryError):
        services.set_roles(member, [RoleSpec(Role.PRESIDENT), RoleSpec("pape")])
    assert list(RoleAssignment.objects.filter(user=member).values_list("role", flat=True)) == before


def test_granting_the_same_role_twice_keeps_one_assignment(member):
    services.grant_role(member, RoleSpec(Role.PRESIDENT))
    services.grant_role(member, RoleSpec(Role.PRESIDENT))
    assert RoleAssignment.objects.filter(user=member, role=Role.PRESIDENT).count() == 1


def test_duplicate_username_is_refused(director):
    with pytest.raises(services.DirectoryError, match="déjà utilisé"):
        make_person(director.username)


def test_coverage_sets_the_cours_of_the_juridictions(association):
    services.set_coverage(association, [juridiction("tj-bordeaux"), juridiction("tj-lille")])
    assert set(association.cours.values_list("slug", flat=True)) == {"bordeaux", "douai"}


def test_size_band_follows_staff_count():
    assert AssociationFactory(staff_count=4).size_band == "small"
    assert AssociationFactory(staff_count=49).size_band == "medium"
    assert AssociationFactory(staff_count=50).size_band == "large"
    assert AssociationFactory(staff_count=150).size_band == "xlarge"


def test_created_person_without_password_cannot_log_in(association, client):
    person = services.create_person(username="sans.mdp", first_name="Sans", last_name="Mdp",
                                    association=association)
    assert person.has_usable_password() is False
    assert client.login(username="sans.mdp", password="") is False
