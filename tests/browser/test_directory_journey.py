"""A director logs in through the real login form and filters the directory by region."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.steps import log_in
from tests.factories import AssociationFactory, Role, RoleSpec, make_person, region

pytestmark = pytest.mark.browser


@pytest.fixture
def network(live_url):
    own = AssociationFactory(name="Association Girondine de Médiation", region=region("sud-ouest"))
    AssociationFactory(name="Association Messine d'Enquêtes Sociales", region=region("nord-est"), city="Metz",
                       departement="57")
    make_person("directrice.navigateur", association=own, roles=[RoleSpec(Role.DIRECTOR)], job_title="Directrice")
    return own


def test_a_director_logs_in_and_filters_the_directory_by_region(live_url, page, network, screenshot):
    log_in(page, live_url, "directrice.navigateur")

    assert any(cookie["name"] == "sessionid" for cookie in page.context.cookies())

    page.goto(f"{live_url}/annuaire/")
    expect(page).to_have_url(re.compile(r"/annuaire/$"))
    expect(page.get_by_role("link", name="Association Messine d'Enquêtes Sociales")).to_be_visible()
    page.locator("#id_region").select_option("sud-ouest")
    page.locator("form:has(#id_region) [type=submit]").first.click()

    expect(page).to_have_url(re.compile(r"[?&]region=sud-ouest"))
    expect(page.get_by_role("link", name="Association Girondine de Médiation")).to_be_visible()
    expect(page.get_by_text("Association Messine d'Enquêtes Sociales")).to_have_count(0)
    screenshot(page, "annuaire-filtre-region")
