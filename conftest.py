"""Shared fixtures: one person per role, built through the directory services."""

import os
import uuid

import pytest

from forum import services as forum_services
from forum.models import ForumSpace
from tests.factories import AssociationFactory, Role, RoleSpec, WorkingGroupFactory, make_person, region


def pytest_configure(config):
    """On Redis, each pytest-xdist worker keeps its cache and channel-layer keys under a prefix of its own.

    The workers share one Redis but not one database: without this, one worker's access version bump
    (directory.access.changed) or chat broadcast to room 3 reaches the other worker's room 3."""
    from django.conf import settings

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not getattr(settings, "REDIS_URL", ""):
        return
    prefix = f"{settings.REDIS_KEY_PREFIX or 'test'}-{worker}-{uuid.uuid4().hex[:8]}"
    settings.CACHES["default"]["KEY_PREFIX"] = prefix
    settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = prefix
    from django.core.cache import caches

    caches.__dict__.pop("settings", None)  # read again if it was read before this hook


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
def forum_tree(working_group) -> dict:
    """The real forum tree, working group "Éthique" included, built by the forum's own service: each
    space's forum by its key (`theme:financement`, `direction`, `wg:ethique`…)."""
    forum_services.ensure_forum_tree()
    return {space.key: space.forum for space in ForumSpace.objects.select_related("forum")}


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
    # Rate-limit counters (core/ratelimit.py) live in the cache, which outlives a test: the suite logs
    # in, fails logins, posts and searches hundreds of times from one address. Each test counts from
    # zero under a namespace of its own (a flush would also empty a Redis shared with other runs).
    settings.RATE_LIMIT_NAMESPACE = f"test-{uuid.uuid4().hex[:12]}"
