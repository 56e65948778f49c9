"""Shared fixtures: one person per role, built through the directory services."""

import pytest

from tests.factories import AssociationFactory, Role, RoleSpec, WorkingGroupFactory, make_person, region


@pytest.fixture
def association(db):
    return AssociationFactory(name="Association Bordelaise de Contrôle Judiciaire", staff_count=30)


@pytest.fixture
def other_region_association(db):
    return AssociationFactory(name="Association Lilloise d'Enquêtes", region=region("nord-est"), city="Lille",
                              departement="59")


@pytest.fixture
def director(association):
    return make_person("directrice.test", association=association, roles=[RoleSpec(Role.DIRECTOR)],
                       job_title="Directrice")


@pytest.fixture
def president(association):
    return make_person("president.test", association=association, roles=[RoleSpec(Role.PRESIDENT)],
                       job_title="Président")


@pytest.fixture
def member(association):
    return make_person("intervenant.test", association=association, roles=[RoleSpec(Role.MEMBER)],
                       job_title="Intervenante socio-judiciaire")


@pytest.fixture
def dica(other_region_association):
    return make_person("dica.test", association=other_region_association,
                       roles=[RoleSpec(Role.DICA, region=region("nord-est"))], job_title="DICA")


@pytest.fixture
def staff(db):
    return make_person("equipe.test", roles=[RoleSpec(Role.FEDERAL_STAFF)], job_title="Conseillère technique",
                       is_staff=True)


@pytest.fixture
def working_group(db):
    return WorkingGroupFactory(name="Éthique", slug="ethique")


@pytest.fixture
def candidate_person(db):
    candidate = AssociationFactory(name="Association candidate", status="candidate")
    return make_person("candidat.test", association=candidate, roles=[RoleSpec(Role.DIRECTOR)])


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # PBKDF2 at production strength would dominate a suite that creates hundreds of people.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
