"""A plain member logs in, finds a guide by theme in the resources and downloads its document."""

import re

import pytest
from playwright.sync_api import expect

from search import indexing
from tests.browser.steps import log_in
from tests.factories import AssociationFactory, Role, RoleSpec, make_person, theme
from tests.factories.cms import add_document, add_guide, document_block, heading, paragraph

pytestmark = pytest.mark.browser

DOCUMENT_TITLE = "Trame de budget prévisionnel d'un service de contrôle judiciaire"


@pytest.fixture
def resources(live_url):
    association = AssociationFactory(name="Horizon Justice Rhône", city="Lyon", departement="69")
    make_person("intervenant", association=association, roles=[RoleSpec(Role.MEMBER)],
                job_title="Intervenant socio-judiciaire")
    document = add_document(DOCUMENT_TITLE, filename="trame-budget-previsionnel.pdf", kind="trame",
                            themes=[theme("financement")])
    add_guide("Guide du financement des associations socio-judiciaires", themes=[theme("financement")],
              summary="Frais de justice, subventions, appels à projets.",
              blocks=[paragraph("Les mesures socio-judiciaires sont financées de plusieurs façons."),
                      heading("Construire le budget d'un service"), document_block(document)])
    add_guide("Guide de réflexion éthique", themes=[theme("ethique")], summary="Repères pour l'équipe.")
    return document


def test_a_member_finds_a_guide_by_theme_and_downloads_its_document(live_url, page, resources, screenshot):
    log_in(page, live_url, "intervenant", then="/ressources/")
    expect(page).to_have_url(re.compile(r"/ressources/$"))
    expect(page.get_by_role("link", name="Guide de réflexion éthique")).to_be_visible()

    page.locator("#id_theme").select_option("financement")
    page.locator("form:has(#id_theme) [type=submit]").click()
    expect(page).to_have_url(re.compile(r"[?&]theme=financement"))
    expect(page.get_by_role("link", name="Guide de réflexion éthique")).to_have_count(0)
    page.get_by_role("link", name="Guide du financement des associations socio-judiciaires").click()

    expect(page).to_have_url(re.compile(r"/ressources/guide-du-financement-des-associations-socio-judiciaires/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Guide du financement des associations socio-judiciaires")
    expect(page.get_by_role("link", name="Construire le budget d'un service")).to_be_visible()  # table of contents
    link = page.get_by_role("link", name=f"Télécharger : {DOCUMENT_TITLE}")
    screenshot(page, "ressources-guide-financement")

    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    # The stored name may carry a suffix when the media folder already holds a file of that name.
    assert download.suggested_filename == resources.filename
    assert download.suggested_filename.startswith("trame-budget-previsionnel") and resources.filename.endswith(".pdf")
    with open(download.path(), "rb") as handle:
        data = handle.read()
    assert data.startswith(b"%PDF-1.4")
    assert len(data) == resources.file_size

    response = page.context.request.get(f"{live_url}{link.get_attribute('href')}")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-length"] == str(resources.file_size)
    assert "private" in response.headers["cache-control"]


def test_the_header_search_suggests_a_guide_and_opens_it_from_the_keyboard(live_url, page, resources, screenshot):
    indexing.rebuild()
    log_in(page, live_url, "intervenant")
    box = page.get_by_role("combobox", name="Rechercher dans Passerelles")

    box.press_sequentially("financ")

    listbox = page.get_by_role("listbox", name="Suggestions")
    option = listbox.get_by_role("option", name=re.compile("Guide du financement"))
    expect(option).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    screenshot(page, "recherche-suggestions")
    position = int(option.get_attribute("id").rsplit("-", 1)[1])  # options are numbered from 0
    for _ in range(position + 1):
        box.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", option.get_attribute("id"))
    box.press("Enter")

    expect(page).to_have_url(re.compile(r"/ressources/guide-du-financement-des-associations-socio-judiciaires/$"))

    # Escape closes the list; Enter then sends the search itself.
    box = page.get_by_role("combobox", name="Rechercher dans Passerelles")
    box.press_sequentially("éthique")
    expect(page.get_by_role("listbox", name="Suggestions").get_by_role("option").first).to_be_visible()
    box.press("Escape")
    expect(page.get_by_role("listbox", name="Suggestions")).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/recherche/\?q=(%C3%A9|é)thique$"))
