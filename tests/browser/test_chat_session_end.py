"""Logging out in another tab ends the chat of the first one: it says so in French and stops (issue 16,
item 3; chat/PROTOCOL.md, close code 4440)."""

import pytest
from playwright.sync_api import expect

from chat import rooms
from tests.browser.steps import log_in
from tests.factories import AssociationFactory, Role, RoleSpec, make_person, region

pytestmark = pytest.mark.browser


@pytest.fixture
def conversation(live_url):
    association = AssociationFactory(name="ACJS 33 – Contrôle Judiciaire de la Gironde", region=region("sud-ouest"))
    sophie = make_person("sophie.labat", association=association, roles=[RoleSpec(Role.DIRECTOR)],
                         first_name="Sophie", last_name="Labat")
    philippe = make_person("philippe.garnier", association=association, roles=[RoleSpec(Role.MEMBER)],
                           first_name="Philippe", last_name="Garnier")
    return rooms.open_direct_room(sophie, philippe)


def test_logging_out_in_another_tab_disconnects_the_chat_and_says_so(live_url, page, conversation, screenshot):
    log_in(page, live_url, "sophie.labat")
    page.goto(f"{live_url}/discussions/{conversation.pk}/")
    status = page.locator("[data-chat-status]")
    expect(status).to_contain_text("Connecté")
    sockets = []
    page.on("websocket", lambda socket: sockets.append(socket.url))

    other_tab = page.context.new_page()
    try:
        other_tab.goto(f"{live_url}/discussions/")
        other_tab.locator("details:has(form[action='/compte/deconnexion/']) > summary").first.click()
        other_tab.get_by_role("button", name="Se déconnecter").click()
        expect(other_tab).to_have_url(f"{live_url}/")
    finally:
        other_tab.close()

    expect(status).to_have_text("Vous êtes déconnecté·e : reconnectez-vous pour continuer la discussion.")
    expect(page.get_by_label("Votre message")).to_be_disabled()
    screenshot(page, "discussion-deconnectee")
    page.wait_for_timeout(3_000)
    assert sockets == [], "la page a tenté de se reconnecter après la fin de sa session"
    expect(status).to_have_text("Vous êtes déconnecté·e : reconnectez-vous pour continuer la discussion.")
