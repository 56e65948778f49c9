"""A director opens a topic in the directors' forum through the real forms; a president cannot see
that forum, neither in the index nor at its address (a 404 page)."""

import re

import pytest
from playwright.sync_api import expect

from forum import services
from forum.models import ForumSpace
from tests.browser.conftest import ACTION_TIMEOUT_MS, NAVIGATION_TIMEOUT_MS
from tests.browser.steps import log_in
from tests.factories import AssociationFactory, Role, RoleSpec, make_person

pytestmark = pytest.mark.browser

DIRECTORS_FORUM = "Entre directeurs et directrices"
SUBJECT = "Recruter un chef de service : vos retours d'expérience"
CONTENT = "Bonjour à toutes et tous, nous recrutons un chef de service. Comment avez-vous organisé les entretiens ?"


@pytest.fixture
def network(live_url):
    association = AssociationFactory(name="Association Girondine de Médiation")
    make_person("directrice.forum", association=association, roles=[RoleSpec(Role.DIRECTOR)],
                first_name="Claire", last_name="Vasseur", job_title="Directrice")
    make_person("president.forum", association=association, roles=[RoleSpec(Role.PRESIDENT)],
                first_name="Bernard", last_name="Lemaire", job_title="Président")
    services.ensure_forum_tree()
    return ForumSpace.objects.select_related("forum").get(key="direction").forum


def test_a_director_opens_a_topic_that_a_president_cannot_see(live_url, browser, page, network, screenshot):
    directors_forum = network
    log_in(page, live_url, "directrice.forum")

    page.goto(f"{live_url}/forum/")
    expect(page.get_by_role("heading", level=1, name="Forum")).to_be_visible()
    screenshot(page, "forum-index-directrice")
    page.get_by_role("link", name=DIRECTORS_FORUM, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=DIRECTORS_FORUM)).to_be_visible()

    page.get_by_role("link", name="Nouveau sujet").first.click()
    expect(page.get_by_role("heading", level=1, name="Nouveau sujet")).to_be_visible()
    page.get_by_label(re.compile(r"^Sujet\b")).fill(SUBJECT)
    page.get_by_label(re.compile(r"^Message\b")).fill(CONTENT)
    screenshot(page, "forum-nouveau-sujet")
    page.get_by_role("button", name="Publier le sujet").click()

    expect(page.get_by_role("heading", level=1, name=SUBJECT)).to_be_visible()
    expect(page.locator("article.post").first).to_contain_text(CONTENT)
    expect(page.locator("article.post").first.get_by_role("heading", name="Claire Vasseur")).to_be_visible()
    screenshot(page, "forum-sujet-cree")

    page.get_by_role("link", name=DIRECTORS_FORUM, exact=True).first.click()
    expect(page.get_by_role("rowheader").filter(has_text=SUBJECT)).to_be_visible()
    screenshot(page, "forum-directeurs-liste")

    # The president, in a browser of their own.
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    president_page = context.new_page()
    try:
        log_in(president_page, live_url, "president.forum")
        president_page.goto(f"{live_url}/forum/")
        expect(president_page.get_by_role("heading", level=1, name="Forum")).to_be_visible()
        expect(president_page.get_by_text(DIRECTORS_FORUM)).to_have_count(0)
        expect(president_page.get_by_text(SUBJECT)).to_have_count(0)
        screenshot(president_page, "forum-index-president")

        response = president_page.goto(f"{live_url}/forum/forum/{directors_forum.slug}-{directors_forum.pk}/")
        assert response.status == 404
        # The harness serves with DEBUG (static files), so this is Django's technical 404 page; in
        # production it is templates/404.html ("Page introuvable"). Either way, no title leaks.
        expect(president_page.get_by_role("heading", level=1)).to_have_text(
            re.compile(r"Page introuvable|Page not found"))
        expect(president_page.get_by_text(DIRECTORS_FORUM)).to_have_count(0)
        screenshot(president_page, "forum-directeurs-404-president")
    finally:
        context.close()


def test_a_director_mentions_a_colleague_with_the_keyboard(live_url, page, network, screenshot):
    make_person("maelle.colin", association=AssociationFactory(name="Association Landaise de Contrôle Judiciaire"),
                roles=[RoleSpec(Role.DIRECTOR)], first_name="Maëlle", last_name="Colin")
    make_person("mael.coste", association=AssociationFactory(name="Association Basque de Médiation"),
                roles=[RoleSpec(Role.DIRECTOR)], first_name="Maël", last_name="Coste")
    log_in(page, live_url, "directrice.forum")
    page.goto(f"{live_url}/forum/")
    page.get_by_role("link", name=DIRECTORS_FORUM, exact=True).click()
    page.get_by_role("link", name="Nouveau sujet").first.click()
    editor = page.get_by_label(re.compile(r"^Message\b"))
    # The script (deferred) is ready once it has put its hint under the editor: typing before would be lost.
    expect(page.get_by_text("Pour mentionner un membre, tapez @")).to_be_visible()

    editor.press_sequentially("Merci à @Mae")

    options = page.get_by_role("listbox", name="Membres à mentionner").get_by_role("option")
    expect(options).to_have_count(2)
    expect(page.get_by_role("status").filter(has_text="2 membres trouvés")).to_be_attached()
    first = options.nth(0)
    expect(first).to_have_attribute("aria-selected", "true")
    expect(editor).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    screenshot(page, "forum-mention-suggestions")
    second_name = options.nth(1).inner_text()

    editor.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    editor.press("Enter")

    chosen = "@mael.coste " if "mael.coste" in second_name else "@maelle.colin "
    expect(editor).to_have_value(f"Merci à {chosen}")
    expect(editor).to_be_focused()
    expect(page.get_by_role("listbox", name="Membres à mentionner")).to_be_hidden()

    # Escape closes the list, and it stays closed while the same mention is typed on.
    editor.press_sequentially("et @Mae")
    expect(options).to_have_count(2)
    editor.press("Escape")
    expect(page.get_by_role("listbox", name="Membres à mentionner")).to_be_hidden()
    expect(editor).to_have_value(f"Merci à {chosen}et @Mae")
