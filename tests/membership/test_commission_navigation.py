"""The way to the membership commission's pages: the account menu and a dashboard panel, shown only
to the people who may examine applications (membership commission and federal staff)."""

import html

import pytest
from django.urls import reverse

from tests.factories import AssociationFactory, Role, RoleSpec, make_person
from tests.membership.support import submitted

pytestmark = pytest.mark.django_db

COMMISSION_URL = reverse("parrainage:commission")
OVERVIEW_URL = reverse("parrainage:overview")
PANEL_TITLE = "Commission d'adhésion"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def examiner(association):
    return make_person("commission.test", association=association, roles=[RoleSpec(Role.MEMBERSHIP_COMMISSION)])


@pytest.fixture
def candidate_examiner(db):
    # The commission role counts only inside a member association.
    candidate = AssociationFactory(name="Association encore candidate", status="candidate")
    return make_person("commission.candidate", association=candidate, roles=[RoleSpec(Role.MEMBERSHIP_COMMISSION)])


def page(client, request, who: str, url: str) -> str:
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def links_in(content: str) -> set[str]:
    return {url for url in (COMMISSION_URL, OVERVIEW_URL) if f'href="{url}"' in content}


@pytest.mark.parametrize("url", ["/", "/annuaire/"])
@pytest.mark.parametrize(("who", "sees"), [
    ("examiner", True),
    ("staff", True),
    ("member", False),
    ("director", False),
    ("president", False),
    ("dica", False),
])
def test_only_examiners_find_the_commission_pages_in_their_account_menu(client, request, who, sees, url):
    content = page(client, request, who, url)
    menu = content.split('class="user-menu__list"', 1)[1].split("</ul>", 1)[0]
    assert links_in(menu) == ({COMMISSION_URL, OVERVIEW_URL} if sees else set())


@pytest.mark.parametrize(("who", "sees"), [
    ("examiner", True),
    ("staff", True),
    ("member", False),
    ("director", False),
    ("president", False),
    ("dica", False),
])
def test_only_examiners_get_the_commission_panel_on_their_dashboard(client, request, who, sees):
    content = page(client, request, who, "/")
    assert (PANEL_TITLE in content) is sees


def test_a_commission_member_of_a_candidate_association_sees_no_link(client, candidate_examiner):
    client.force_login(candidate_examiner)
    response = client.get(reverse("password_change"))  # a page every account reaches, with the menu
    assert response.status_code == 200
    content = html.unescape(response.content.decode())
    assert 'class="user-menu__list"' in content
    assert links_in(content) == set()


def test_a_visitor_sees_no_link(client, request):
    assert links_in(page(client, request, "anonymous", "/")) == set()


def test_the_dashboard_panel_counts_the_applications_to_handle(client, examiner):
    submitted()
    submitted(name="Deuxième association", siret="44306184100047")
    client.force_login(examiner)
    content = html.unescape(client.get("/").content.decode())
    panel = content.split('id="titre-commission"', 1)[1].split("</section>", 1)[0]
    assert "2 à traiter" in panel
    assert "attend un parrain" in panel or "attendent un parrain" in panel
