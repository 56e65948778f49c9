"""Parts of the dashboard and the directory list served from the cache (directory.fragments): a panel
cached for one reader is never served to a reader it was not meant for, a change shows at once, and the
number of queries does not grow with the data, whether a panel comes from the cache or not."""

from __future__ import annotations

import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from directory import content_versions, fragments
from directory.models import Association
from parrainage import services as parrainage_services
from tests.factories import AssociationFactory, Role, RoleSpec, make_person, region, theme

pytestmark = pytest.mark.django_db

LIST_URL = reverse("directory:association-list")
CJSE = "controle-judiciaire-socio-educatif-cjse"
COMMISSION_PANEL = 'id="titre-commission"'
ALL_SCOPES = (content_versions.REFERENCE_SCOPE, content_versions.ASSOCIATIONS_SCOPE, content_versions.DASHBOARD_FORUM,
              content_versions.DASHBOARD_CMS, content_versions.DASHBOARD_PARRAINAGE)


def page(client, person, url: str = "/", params=None) -> str:
    client.force_login(person)
    response = client.get(url, params or {})
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def queries(client, url: str, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    return len(captured.captured_queries)


@pytest.fixture
def newcomer(db):
    filleul = AssociationFactory(name="Association Landaise nouvellement adhérente")
    return make_person("nouvelle.test", association=filleul, roles=[RoleSpec(Role.DIRECTOR)])


def test_a_dashboard_panel_cached_for_one_role_is_never_served_to_another(client, staff, director, member, newcomer,
                                                                         association):
    parrainage_services.start_parrainage(association, newcomer.association)
    readers = [staff, director, member, newcomer]
    # Twice each, in turn: the second round is served from the cache.
    pages = [{reader.username: page(client, reader) for reader in readers} for _round in range(2)]

    for seen in pages:
        # The staff's commission panel, and only theirs.
        assert COMMISSION_PANEL in seen[staff.username]
        assert all(COMMISSION_PANEL not in seen[reader.username] for reader in (director, member, newcomer))
        # Each one's own roles panel (a link to their own page in the directory), nobody else's.
        for reader in readers:
            own = reverse("directory:person-detail", kwargs={"username": reader.username})
            assert own in seen[reader.username]
            assert all(reverse("directory:person-detail", kwargs={"username": other.username})
                       not in seen[reader.username] for other in readers if other != reader)
        # Parrainage: the filleul's director sees her parrain, the parrain's people their filleul.
        assert "Votre association est parrainée par" in seen[newcomer.username]
        assert "Votre association est parrainée par" not in seen[director.username]
        assert "Votre association parraine" in seen[director.username]
        assert "Votre association parraine" not in seen[newcomer.username]


def test_a_newly_admitted_association_shows_on_every_dashboard_at_once(client, director, member):
    page(client, director)
    page(client, member)

    AssociationFactory(name="Association Tout Juste Admise", admitted_on="2099-01-01")

    assert "Association Tout Juste Admise" in page(client, director)
    assert "Association Tout Juste Admise" in page(client, member)


def _grow(count: int, prefix: str) -> None:
    associations = [AssociationFactory(name=f"{prefix} {i:03d}", themes=[theme(CJSE)], admitted_on="2020-01-01")
                    for i in range(count)]
    for i, association in enumerate(associations):
        make_person(f"{prefix.lower()}.{i}", association=association,
                    roles=[RoleSpec(Role.DIRECTOR), RoleSpec(Role.DICA, region=region("sud-ouest"))])
    for parrain, filleul in zip(associations[::2], associations[1::2], strict=False):
        parrainage_services.start_parrainage(parrain, filleul)


def _cold_and_warm(client, url: str, params=None) -> tuple[int, int]:
    """Queries with every cached part rendered again (cold), then served from the cache (warm)."""
    fragments.content_changed(*ALL_SCOPES)
    cold = queries(client, url, params)
    return cold, queries(client, url, params)


@pytest.mark.parametrize("who", ["staff", "director"])
def test_the_dashboards_queries_do_not_grow_with_the_data(client, request, who, django_assert_max_num_queries):
    client.force_login(request.getfixturevalue(who))
    client.get("/")  # the first view of a process learns the sections' keys
    _grow(2, "Petit")
    small = _cold_and_warm(client, "/")
    _grow(30, "Grand")
    large = _cold_and_warm(client, "/")

    assert small == large
    assert large[1] < large[0]  # the cache saves queries
    with django_assert_max_num_queries(14):
        client.get("/")


def test_the_lists_queries_do_not_grow_with_the_data(client, director, django_assert_max_num_queries):
    client.force_login(director)
    _grow(2, "Petit")
    small = _cold_and_warm(client, LIST_URL)
    _grow(45, "Grand")
    large = _cold_and_warm(client, LIST_URL)
    filtered = _cold_and_warm(client, LIST_URL, {"region": "sud-ouest", "theme": CJSE, "q": "grand", "page": "2"})

    assert small == large == filtered
    assert large[1] < large[0]
    with django_assert_max_num_queries(14):  # LIST_MAX_QUERIES in test_views.py
        client.get(LIST_URL, {"cour": "agen"})
    with django_assert_max_num_queries(7):  # served from the cache: session, user, profile (2), count, badges (2)
        client.get(LIST_URL, {"cour": "agen"})


def test_the_filter_form_shows_each_readers_own_filters(client, director):
    page(client, director, LIST_URL, {"region": "sud-ouest"})

    content = page(client, director, LIST_URL, {"region": "nord-est"})

    form = content.split('class="filters"', 1)[1].split("</form>", 1)[0]
    assert '<option value="nord-est" selected>' in form
    assert '<option value="sud-ouest" selected>' not in form


def test_the_list_shows_a_new_association_at_once(client, director):
    first = page(client, director, LIST_URL)
    assert "Association Aaa Toute Neuve" not in first

    AssociationFactory(name="Association Aaa Toute Neuve")

    assert "Association Aaa Toute Neuve" in page(client, director, LIST_URL)


def test_a_director_never_gets_the_list_the_staff_sees(client, staff, director):
    # Federal staff also see candidate associations; members see member and former ones only.
    AssociationFactory(name="Association Aaa Candidate", status=Association.Status.CANDIDATE)

    assert "Association Aaa Candidate" in page(client, staff, LIST_URL)
    assert "Association Aaa Candidate" not in page(client, director, LIST_URL)
    assert "Association Aaa Candidate" in page(client, staff, LIST_URL)
