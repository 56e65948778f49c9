"""Chromium reports no Content-Security-Policy violation on the main pages (core/security.py).

Each page is opened with a listener for `securitypolicyviolation` events installed before any of
its scripts, and the console is watched for "Content Security Policy" errors: a refused inline
script, style, eval or foreign source would show in either. The pages are also used a little (the
search suggestions, the forum editor's "add a file" button, the chat's websocket, the Wagtail date
picker), since scripts may build markup after the load.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from chat import rooms as chat_rooms
from forum import services as forum_services
from forum.models import ForumSpace
from tests.browser.steps import log_in
from tests.factories import AssociationFactory, Role, RoleSpec, make_person, theme
from tests.factories.cms import add_document, add_event, add_guide, document_block, paragraph

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "") + " "
                              + (event.sourceFile || "") + ":" + event.lineNumber + " " + (event.sample || ""));
});
"""


class Watcher:
    """CSP violations and script errors of one page, from the page itself and from the console."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console.append(f"erreur de script : {error}"))

    def _on_console(self, message) -> None:
        if message.type == "error" and ("Content Security Policy" in message.text or "Refused to" in message.text):
            self.console.append(message.text)

    def problems(self) -> list[str]:
        self.page.wait_for_timeout(300)  # late scripts (suggestions, websocket frames)
        in_page = self.page.evaluate("window.__cspViolations || []")
        found = [f"{self.page.url} : {item}" for item in in_page + self.console]
        self.console.clear()
        self.page.evaluate("window.__cspViolations = []")
        return found


@pytest.fixture
def site(live_url):
    association = AssociationFactory(name="Association Girondine de Médiation")
    make_person("directrice.csp", association=association, roles=[RoleSpec(Role.DIRECTOR)],
                first_name="Claire", last_name="Vasseur")
    make_person("equipe.csp", roles=[RoleSpec(Role.FEDERAL_STAFF)], is_staff=True, first_name="Mathilde",
                last_name="Roux")
    make_person("admin.csp", roles=[RoleSpec(Role.FEDERAL_STAFF)], is_staff=True, is_superuser=True,
                first_name="Hélène", last_name="Admin")
    forum_services.ensure_forum_tree()
    chat_rooms.ensure_shared_rooms()
    document = add_document("Trame de rapport", themes=[theme("financement")])
    guide = add_guide("Guide du financement", themes=[theme("financement")], summary="Subventions.",
                      blocks=[paragraph("Les mesures sont financées de plusieurs façons."), document_block(document)])
    event = add_event("Journée régionale de la médiation")
    return {"forum": ForumSpace.objects.select_related("forum").get(key="direction").forum, "guide": guide,
            "event": event}


def test_public_pages_raise_no_violation(live_url, page, site):
    watcher = Watcher(page)
    for path in ["/", "/compte/connexion/", "/adhesion/", "/compte/mot-de-passe/reinitialisation/"]:
        page.goto(f"{live_url}{path}")
        assert watcher.problems() == []


def test_member_pages_raise_no_violation(live_url, page, site):
    watcher = Watcher(page)
    log_in(page, live_url, "directrice.csp")
    assert watcher.problems() == []

    for path in ["/", "/annuaire/", "/annuaire/offre/", "/ressources/", site["guide"].url, "/parrainage/",
                 "/recherche/?q=financement", "/forum/"]:
        page.goto(f"{live_url}{path}")
        assert watcher.problems() == [], path

    # The header's suggestions (search.js builds their list).
    page.locator("#recherche-entete").fill("Association")
    page.wait_for_timeout(600)
    assert watcher.problems() == []


def test_the_forum_editor_and_topic_raise_no_violation(live_url, page, site):
    watcher = Watcher(page)
    log_in(page, live_url, "directrice.csp")
    forum = site["forum"]

    page.goto(f"{live_url}/forum/forum/{forum.slug}-{forum.pk}/topic/create/")
    expect(page.get_by_role("heading", level=1, name="Nouveau sujet")).to_be_visible()
    assert page.evaluate("typeof window.machina === 'object' && typeof window.jQuery === 'function'")
    page.get_by_label(re.compile(r"^Sujet\b")).fill("Un sujet sous politique stricte")
    page.get_by_label(re.compile(r"^Message\b")).fill("Bonjour, ceci est un message.")
    page.get_by_role("button", name="Publier le sujet").click()
    expect(page.get_by_role("heading", level=1, name="Un sujet sous politique stricte")).to_be_visible()
    assert watcher.problems() == []


def test_a_chat_room_connects_its_websocket_without_violation(live_url, page, site):
    watcher = Watcher(page)
    log_in(page, live_url, "directrice.csp")

    page.goto(f"{live_url}/discussions/")
    page.locator("main a[href^='/discussions/']").first.click()
    ws_url = page.locator("[data-ws-url]").first.get_attribute("data-ws-url")
    assert ws_url
    page.locator("textarea").first.fill("Bonjour à toutes et tous")
    page.locator("textarea").first.press("Enter")
    expect(page.locator("main")).to_contain_text("Bonjour à toutes et tous")
    assert watcher.problems() == []


def test_the_admin_areas_raise_no_violation(live_url, page, site):
    watcher = Watcher(page)
    log_in(page, live_url, "equipe.csp")

    for path in ["/cms-admin/", "/cms-admin/pages/", f"/cms-admin/pages/{site['guide'].pk}/edit/",
                 "/cms-admin/documents/", "/cms-admin/documents/add/", "/cms-admin/images/", "/admin/",
                 "/admin/password_change/"]:
        response = page.goto(f"{live_url}{path}")
        assert response.status == 200, path
        assert watcher.problems() == [], path


def test_wagtails_inline_panels_and_choosers_work_under_the_policy(live_url, page, site):
    """The workflow editor and site settings: an InlinePanel of task choosers and a page chooser, all
    started by inline scripts (nonced by core/security.py)."""
    watcher = Watcher(page)
    log_in(page, live_url, "admin.csp")

    assert page.goto(f"{live_url}/cms-admin/workflows/add/").status == 200
    page.locator("#id_workflow_tasks-ADD").click()
    expect(page.locator("#id_workflow_tasks-0-task-chooser, [id^='id_workflow_tasks-0-task']").first).to_be_attached()
    assert watcher.problems() == []

    assert page.goto(f"{live_url}/cms-admin/sites/new/").status == 200
    page.get_by_role("button", name="Choisir une page racine").click()
    expect(page.locator(".modal-content").first).to_be_visible()
    assert watcher.problems() == []


def test_the_wagtail_date_picker_works_under_the_policy(live_url, page, site):
    watcher = Watcher(page)
    log_in(page, live_url, "equipe.csp")

    page.goto(f"{live_url}/cms-admin/pages/{site['event'].pk}/edit/")
    page.locator("#id_starts_at").click()
    expect(page.locator(".xdsoft_datetimepicker:visible")).to_have_count(1)
    assert watcher.problems() == []
