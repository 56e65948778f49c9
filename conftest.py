"""Shared fixtures: one person per role, built through the directory services."""

import uuid

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


@pytest.fixture(autouse=True)
def _own_rate_limit_counters(settings):
    # Rate-limit counters (config/ratelimit.py) live in the cache, which outlives a test: the suite logs
    # in, fails logins, posts and searches hundreds of times from one address. Each test counts from
    # zero under a namespace of its own (a flush would also empty a Redis shared with other runs).
    settings.RATE_LIMIT_NAMESPACE = f"test-{uuid.uuid4().hex[:12]}"
