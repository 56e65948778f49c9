"""Chat fixtures: a small network with one person per situation, and websocket helpers."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from chat import rooms
from chat.models import ChatRoom
from directory import access
from directory.access import ChatRoomKind
from tests.factories import AssociationFactory, Role, RoleSpec, WorkingGroupFactory, make_person, region, theme
from tests.isolation import own_cache_prefix

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    # Rate-limit counters and presence live in the cache.
    own_cache_prefix(settings, "chat-test")


@pytest.fixture
def south_west(db):
    return AssociationFactory(name="Association Landaise de Médiation", region=region("sud-ouest"),
                              city="Mont-de-Marsan", departement="40")


@pytest.fixture
def north_east(db):
    return AssociationFactory(name="Association Messine d'Enquêtes", region=region("nord-est"), city="Metz",
                              departement="57")


@pytest.fixture
def ethics(db):
    return WorkingGroupFactory(name="Éthique", slug="ethique")


@pytest.fixture
def alice(south_west):
    """A director in the Sud-Ouest who follows médiation pénale."""
    return make_person("alice.directrice", association=south_west, roles=[RoleSpec(Role.DIRECTOR)],
                       expertise=[theme("mediation-penale")], first_name="Alice", last_name="Lamarque")


@pytest.fixture
def bruno(south_west):
    """A field worker of the same association (same region)."""
    return make_person("bruno.intervenant", association=south_west, roles=[RoleSpec(Role.MEMBER)],
                       first_name="Bruno", last_name="Etcheverry")


@pytest.fixture
def chloe(north_east, ethics):
    """A director in the Nord-Est, member of the Éthique working group."""
    return make_person("chloe.directrice", association=north_east,
                       roles=[RoleSpec(Role.DIRECTOR), RoleSpec(Role.WORKING_GROUP_MEMBER, working_group=ethics)],
                       first_name="Chloé", last_name="Muller")


@pytest.fixture
def federal_staff(db):
    return make_person("mathilde.equipe", roles=[RoleSpec(Role.FEDERAL_STAFF)], is_staff=True,
                       first_name="Mathilde", last_name="Roux")


@pytest.fixture
def outsider(db):
    """A person of a candidate association: not (yet) a member of the network."""
    candidate = AssociationFactory(name="Association candidate des Landes", status="candidate")
    return make_person("paul.candidat", association=candidate, roles=[RoleSpec(Role.DIRECTOR)])


def shared_room(kind: str, scope) -> ChatRoom:
    rooms.ensure_shared_rooms()
    return ChatRoom.objects.get(key=access.chat_room_key(kind, scope))


@pytest.fixture
def region_room(db) -> ChatRoom:
    return shared_room(ChatRoomKind.REGION, region("sud-ouest").pk)


@pytest.fixture
def other_region_room(db) -> ChatRoom:
    return shared_room(ChatRoomKind.REGION, region("nord-est").pk)


@pytest.fixture
def ethics_room(ethics) -> ChatRoom:
    return shared_room(ChatRoomKind.WORKING_GROUP, ethics.slug)


@pytest.fixture
def mediation_room(db) -> ChatRoom:
    return shared_room(ChatRoomKind.THEME, "mediation-penale")


@pytest.fixture
def direct_room(alice, bruno) -> ChatRoom:
    return rooms.open_direct_room(alice, bruno)


def session_cookie_of(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode())
