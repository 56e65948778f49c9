"""The member dashboard (HomePage for members): CMS panels per role with their empty states, the
directory and forum panels kept, and a number of queries that does not grow with the content."""

import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cms import services
from cms.models import HomePage
from directory.access import CmsAudience
from directory.roles import Role
from tests.factories import RoleSpec, make_person, theme
from tests.factories.cms import add_event, add_guide, add_news

pytestmark = pytest.mark.django_db

FINANCEMENT = "financement"
CA = "vie-associative-et-conseils-dadministration"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def themed_member(association):
    return make_person("lectrice.test", association=association, roles=[RoleSpec(Role.MEMBER)],
                       expertise=[theme(FINANCEMENT), theme(CA)])


def test_the_home_page_is_the_landing_for_visitors(client):
    response = client.get("/")
    assert response.status_code == 200
    assert isinstance(response.context["page"], HomePage)
    assert "Le réseau en chiffres" in text(response)
    assert "no-store" not in response.get("Cache-Control", "")


def test_an_empty_dashboard_shows_every_empty_state(client, member):
    client.force_login(member)
    page = text(client.get("/"))
    assert "Aucun événement à venir pour vous" in page
    assert "Indiquez vos thématiques d'expertise" in page
    assert "Aucune actualité publiée pour le moment" in page
    assert "Aucun message non lu dans vos salons." in page
    # The directory and forum panels are still there.
    assert "Mes rôles" in page and "Parrainage" in page and "Vos prochaines réunions" in page


def test_a_member_with_themes_but_no_guide_gets_the_right_empty_state(client, themed_member):
    client.force_login(themed_member)
    assert "Aucun guide publié dans vos thématiques" in text(client.get("/"))


def test_the_dashboard_lists_guides_in_the_readers_themes_only(client, themed_member):
    add_guide("Guide du financement", themes=[theme(FINANCEMENT)])
    add_guide("Guide de l'hébergement", themes=[theme("hebergement")])
    client.force_login(themed_member)
    page = text(client.get("/"))
    assert "Guide du financement" in page
    assert "Guide de l'hébergement" not in page


def test_events_panel_per_role(client, member, president, staff):
    add_event("Journée CJSE")
    add_event("Atelier des Président·es", audience=CmsAudience.PRESIDENTS)
    add_event("Journée passée", starts_in_days=-30)
    client.force_login(member)
    page = text(client.get("/"))
    assert "Journée CJSE" in page and "Atelier des Président·es" not in page and "Journée passée" not in page
    client.force_login(president)
    page = text(client.get("/"))
    assert "Journée CJSE" in page and "Atelier des Président·es" in page
    client.force_login(staff)
    assert "Atelier des Président·es" in text(client.get("/"))


def test_the_events_panel_shows_the_readers_registration(client, member, association):
    event = add_event("Formation écrits", capacity=1)
    other = make_person("premiere.test", association=association, roles=[RoleSpec(Role.MEMBER)])
    services.register_for_event(event, other)
    services.register_for_event(event, member)
    client.force_login(member)
    assert "Liste d'attente" in text(client.get("/"))


def test_news_panel_lists_the_latest_news(client, member):
    for n in range(5):
        add_news(f"Brève {n}", days_ago=n)
    client.force_login(member)
    page = text(client.get("/"))
    assert "Brève 0" in page and "Brève 2" in page and "Brève 4" not in page


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def _grow(n: int, prefix: str) -> None:
    for i in range(n):
        add_guide(f"{prefix} guide {i}", themes=[theme(FINANCEMENT), theme(CA)])
        add_event(f"{prefix} événement {i}", capacity=3, themes=[theme(FINANCEMENT)])
        add_news(f"{prefix} actualité {i}", days_ago=i)
    add_guide(f"{prefix} guide restreint", audience=CmsAudience.PRESIDENTS, themes=[theme(CA)])


def test_the_dashboard_query_count_does_not_grow_with_content(client, themed_member, django_assert_max_num_queries):
    client.force_login(themed_member)
    _grow(1, "Petit")
    client.get("/")  # warm caches (site root paths)
    small = _queries(client, "/")
    _grow(8, "Grand")
    client.get("/")
    large = _queries(client, "/")
    assert small == large
    with django_assert_max_num_queries(40):
        client.get("/")
