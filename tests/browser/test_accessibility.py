"""axe-core, in Debian's Chromium, finds no serious or critical accessibility violation on the main
pages of each app, as a member of the network sees them (and as a visitor, for the public pages).

axe-core comes from the npm registry (package.json, exact version, package-lock.json) and `make install`
puts it in node_modules/ with `npm ci`; without it these tests are skipped with the reason. No rule is
disabled: every violation found is fixed in templates/ and static/css/ rather than silenced.
Moderate and minor findings are printed too (pytest -s, or a failure's captured output), not asserted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from chat import memberships as chat_memberships
from chat import messages as chat_messages
from chat import rooms as chat_rooms
from directory import lockout
from directory.models import LoginBlock
from forum import services as forum_services
from forum.models import ForumSpace
from parrainage import services as parrainage_services
from search import indexing
from tests.browser.conftest import BASE_DIR
from tests.browser.steps import log_in
from tests.factories import AssociationFactory, Role, RoleSpec, make_person, region, theme
from tests.factories.cms import add_document, add_event, add_guide, add_news, document_block, heading, paragraph
from tests.search.helpers import add_reply, add_topic

pytestmark = pytest.mark.browser

AXE_SCRIPT = BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")
MEMBER = "directrice.accessibilite"
GUIDE_TITLE = "Guide du financement des associations socio-judiciaires"
LOCKED_ACCOUNT = "compte.verrouille"
TOPIC_SUBJECT = "Recruter un chef de service : vos retours d'expérience"


# Session scope: resolved before the package-scoped server and browser, so a skip costs nothing.
@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_SCRIPT.is_file():
        pytest.skip(
            f"axe-core introuvable ({AXE_SCRIPT.relative_to(BASE_DIR)}) : lancez `make install`, "
            "qui l'installe avec `npm ci` quand npm est présent."
        )
    return AXE_SCRIPT.read_text(encoding="utf-8")


@dataclass(frozen=True)
class World:
    association_slug: str
    topic_url: str
    room_url: str
    guide_url: str
    unlock_url: str = ""


@pytest.fixture
def world(live_url) -> World:
    """A small network as seed_demo would show it: associations, people, forum, chat, guides, news."""
    home = AssociationFactory(
        name="ACJS 33 – Contrôle Judiciaire de la Gironde", region=region("sud-ouest"), city="Bordeaux",
        departement="33", postal_code="33000", address="12 rue des Frères Bonie",
        public_email="contact@acjs33.example.org", public_phone="05 56 00 00 00",
        website="https://acjs33.example.org", willing_to_sponsor=True,
        description="Contrôle judiciaire socio-éducatif, enquêtes sociales rapides et médiation pénale en Gironde.",
        themes=[theme("financement"), theme("mediation-penale")])
    AssociationFactory(name="Association Messine d'Enquêtes Sociales", region=region("nord-est"), city="Metz",
                       departement="57")
    AssociationFactory(name="Horizon Justice Rhône", region=region("centre-est"), city="Lyon", departement="69")
    director = make_person(MEMBER, association=home, roles=[RoleSpec(Role.DIRECTOR)], first_name="Claire",
                           last_name="Vasseur", job_title="Directrice", expertise=[theme("mediation-penale")],
                           bio="Directrice depuis 2015, ancienne déléguée du procureur.")
    colleague = make_person("intervenant.accessibilite", association=home, roles=[RoleSpec(Role.MEMBER)],
                            first_name="Bruno", last_name="Etcheverry", job_title="Intervenant socio-judiciaire")

    forum_services.ensure_forum_tree()
    direction = ForumSpace.objects.select_related("forum").get(key="direction").forum
    topic = add_topic(direction, director, TOPIC_SUBJECT,
                      "Bonjour à toutes et tous, nous recrutons un chef de service. Comment avez-vous organisé "
                      "les entretiens ?")
    add_reply(topic, colleague, "Nous avons associé un administrateur au jury, cela a bien aidé.")

    chat_memberships.sync_all_memberships()
    room = chat_rooms.open_direct_room(director, colleague)
    for number, (author, body) in enumerate([
        (colleague, "Bonjour Claire, as-tu la trame de budget ? https://exemple.fr/trame"),
        (director, "Oui, je la dépose dans les ressources cet après-midi."),
    ]):
        chat_messages.post_message(author, room.pk, f"accessibilite-{number}", body, enforce_rate_limit=False)

    document = add_document("Trame de budget prévisionnel d'un service de contrôle judiciaire",
                            filename="trame-budget-previsionnel.pdf", kind="trame", themes=[theme("financement")])
    guide = add_guide(GUIDE_TITLE, themes=[theme("financement")],
                      summary="Frais de justice, subventions, appels à projets.",
                      blocks=[paragraph("Les mesures socio-judiciaires sont financées de plusieurs façons."),
                              heading("Construire le budget d'un service"), document_block(document),
                              heading("Répondre à un appel à projets", level="h3"),
                              paragraph("Les appels à projets départementaux paraissent au printemps.")])
    add_guide("Guide de réflexion éthique", themes=[theme("ethique")], summary="Repères pour l'équipe.")
    add_news("Assemblée générale : le rapport moral est en ligne", days_ago=2)
    add_event("Journée thématique : la médiation pénale", starts_in_days=12)
    parrainage_services.start_parrainage(home, AssociationFactory(
        name="ALME 40 – Médiation et Enquêtes des Landes", region=region("sud-ouest"), city="Mont-de-Marsan",
        departement="40", admitted_on=timezone.localdate() - timedelta(days=30)))
    indexing.rebuild()

    # A locked account (issue 16, item 2) and the link that lifts it: the lock message and the link's page.
    lock = LoginBlock.objects.create(kind=LoginBlock.Kind.ACCOUNT, account=LOCKED_ACCOUNT,
                                     blocked_at=timezone.now(), unlock_sent_at=timezone.now())

    return World(
        unlock_url=reverse("login_unlock", kwargs={"token": lockout.unlock_token(lock)}),
        association_slug=home.slug,
        topic_url=reverse("forum_conversation:topic", kwargs={
            "forum_slug": direction.slug, "forum_pk": direction.pk, "slug": topic.slug, "pk": topic.pk}),
        room_url=reverse("chat:room-detail", kwargs={"pk": room.pk}),
        guide_url=guide.url,
    )


def wrong_password(page) -> None:
    page.locator("#id_username").fill(MEMBER)
    page.locator("#id_password").fill("pas-le-bon-mot-de-passe")
    page.locator("form:has(#id_username) [type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()


def too_many_failures(page) -> None:
    # The (account, address) pair's limit (the browser tests' server lifts the per-address one, conftest.py).
    for _ in range(6):
        page.locator("#id_username").fill("compte.bloque")
        page.locator("#id_password").fill("pas-le-bon-mot-de-passe")
        page.locator("form:has(#id_username) [type=submit]").click()
    expect(page.get_by_role("alert")).to_contain_text("Trop de tentatives de connexion ont échoué")


def locked_account(page) -> None:
    page.locator("#id_username").fill(LOCKED_ACCOUNT)
    page.locator("#id_password").fill("pas-le-bon-mot-de-passe")
    page.locator("form:has(#id_username) [type=submit]").click()
    expect(page.get_by_role("alert")).to_contain_text("Les connexions à ce compte sont suspendues")


def too_many_resets(page) -> None:
    # The per-e-mail limit (3 an hour): the form again, refusing the fourth request.
    form_url = page.url
    for attempt in range(4):
        if attempt:
            page.goto(form_url)
        page.locator("#id_email").fill("personne.bloquee@exemple.org")
        page.get_by_role("button", name="Recevoir le lien").click()
    expect(page.get_by_role("alert")).to_contain_text("Trop de demandes de réinitialisation")


def refused_form(page) -> None:
    page.context.clear_cookies()  # the CSRF cookie gone, as after a long-open page in a strict browser
    page.locator("#id_username").fill(MEMBER)
    page.locator("#id_password").fill("pas-le-bon-mot-de-passe")
    page.locator("form:has(#id_username) [type=submit]").click()
    expect(page.get_by_role("heading", level=1, name="Formulaire refusé")).to_be_visible()


def empty_application(page) -> None:
    page.get_by_role("button", name="Déposer la candidature").click()
    expect(page.get_by_role("heading", name="Certains champs sont à corriger ou à compléter")).to_be_visible()


def open_account_menu(page) -> None:
    page.locator(".user-menu summary").click()
    expect(page.get_by_role("link", name="Ma fiche", exact=True)).to_be_visible()


def open_navigation_menu(page) -> None:
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("navigation", name="Navigation principale").get_by_role("link").first).to_be_visible()


def show_suggestions(page) -> None:
    page.locator("#recherche-entete").fill("financ")
    expect(page.get_by_role("option").first).to_be_visible()


@dataclass(frozen=True)
class Screen:
    name: str
    path: str  # may name a World field between braces
    heading: str | re.Pattern  # the level-1 heading the page must show before it is audited
    logged_in: bool = True
    ready: str | None = None  # a selector to wait for (scripts that change the page once loaded)
    prepare: Callable | None = None  # brings the page to the state to audit (errors shown, menu open…)
    viewport: tuple[int, int] | None = None


SCREENS = [
    Screen("accueil-visiteur", "/", re.compile(r"^Passerelles, l.espace d.échange"), logged_in=False),
    Screen("connexion", "/compte/connexion/", "Connexion à Passerelles", logged_in=False),
    Screen("connexion-erreur", "/compte/connexion/", "Connexion à Passerelles", logged_in=False,
           prepare=wrong_password),
    Screen("connexion-bloquee", "/compte/connexion/", "Connexion à Passerelles", logged_in=False,
           prepare=too_many_failures),
    Screen("connexion-verrouillee", "/compte/connexion/", "Connexion à Passerelles", logged_in=False,
           prepare=locked_account),
    Screen("deverrouillage", "{unlock_url}", "Débloquer votre compte", logged_in=False),
    Screen("reinitialisation-bloquee", "/compte/mot-de-passe/reinitialisation/", "Mot de passe oublié",
           logged_in=False, prepare=too_many_resets),
    Screen("formulaire-refuse", "/compte/connexion/", "Connexion à Passerelles", logged_in=False,
           prepare=refused_form),
    Screen("adhesion", "/adhesion/", "Adhérer à la fédération", logged_in=False),
    Screen("adhesion-erreurs", "/adhesion/", "Adhérer à la fédération", logged_in=False, prepare=empty_application),
    Screen("tableau-de-bord", "/", "Bonjour Claire", prepare=open_account_menu),
    Screen("tableau-de-bord-mobile", "/", "Bonjour Claire", prepare=open_navigation_menu, viewport=(390, 844)),
    Screen("annuaire", "/annuaire/", "Annuaire des associations"),
    Screen("association", "/annuaire/associations/{association_slug}/", "ACJS 33 – Contrôle Judiciaire de la Gironde"),
    Screen("forum", "/forum/", "Forum"),
    Screen("forum-sujet", "{topic_url}", TOPIC_SUBJECT),
    Screen("discussions", "/discussions/", "Discussions"),
    Screen("discussion", "{room_url}", "Bruno Etcheverry", ready="[data-chat-status]:has-text('Connecté')"),
    Screen("ressources", "/ressources/", "Ressources du réseau"),
    Screen("guide", "{guide_url}", GUIDE_TITLE),
    Screen("recherche", "/recherche/?q=financement", "Recherche", prepare=show_suggestions),
]


def run_axe(page, axe_source: str) -> list[dict]:
    # Evaluated through the DevTools protocol rather than add_script_tag, whose inline <script> the
    # site's Content-Security-Policy (script-src 'self') refuses: the page is audited as it is served.
    page.evaluate(f"() => {{ {axe_source}\n}}")
    return page.evaluate("""async () => {
        const results = await axe.run(document, {resultTypes: ["violations"]});
        return results.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html, summary: n.failureSummary})),
        }));
    }""")


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']} : {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"]:
            lines.append(f"    {node['target']}  {node['html'][:160]}")
            for detail in (node["summary"] or "").splitlines():
                lines.append(f"        {detail}")
    return "\n".join(lines)


@pytest.mark.parametrize("screen", SCREENS, ids=[screen.name for screen in SCREENS])
def test_the_page_has_no_serious_accessibility_violation(axe_source, live_url, page, world, screen, screenshot):
    if screen.viewport:
        page.set_viewport_size({"width": screen.viewport[0], "height": screen.viewport[1]})
    if screen.logged_in:
        log_in(page, live_url, MEMBER)
    path = screen.path.format(**vars(world))

    response = page.goto(f"{live_url}{path}")

    assert response is not None and response.status == 200, (path, response and response.status)
    expect(page.get_by_role("heading", level=1, name=screen.heading)).to_be_visible()
    if screen.ready:
        expect(page.locator(screen.ready)).to_be_visible()
    if screen.prepare:
        screen.prepare(page)
    violations = run_axe(page, axe_source)
    screenshot(page, f"accessibilite-{screen.name}")
    print(f"\n{screen.name} ({path}) :\n{describe(violations) or '    aucune violation'}")
    failing = [violation for violation in violations if violation["impact"] in FAILING_IMPACTS]
    assert not failing, f"Violations graves sur {path} :\n{describe(failing)}"
