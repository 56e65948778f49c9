"""A new adherent and their parrain write to each other live, in two Chromium contexts."""

import pytest
from playwright.sync_api import expect

from parrainage import services as parrainage_services
from tests.browser.steps import log_in
from tests.factories import AssociationFactory, Role, RoleSpec, make_person, region

pytestmark = pytest.mark.browser


@pytest.fixture
def sponsorship(live_url):
    sponsor = AssociationFactory(name="ACJS 33 – Contrôle Judiciaire de la Gironde", region=region("sud-ouest"))
    newcomer = AssociationFactory(name="ALME 40 – Médiation et Enquêtes des Landes", region=region("sud-ouest"),
                                  city="Mont-de-Marsan", departement="40")
    parrain = make_person("parrain", association=sponsor, roles=[RoleSpec(Role.DIRECTOR)],
                          first_name="Philippe", last_name="Garnier")
    filleule = make_person("nouvel.adherent", association=newcomer, roles=[RoleSpec(Role.DIRECTOR)],
                           first_name="Sophie", last_name="Labat")
    parrainage_services.start_parrainage(sponsor, newcomer)
    return filleule, parrain


def test_a_new_adherent_and_their_parrain_exchange_direct_messages_live(live_url, browser, page, sponsorship,
                                                                      screenshot):
    other_context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    other_context.set_default_timeout(5_000)
    parrain_page = other_context.new_page()
    try:
        # The new adherent finds her parrain on the chat page and opens the conversation.
        log_in(page, live_url, "nouvel.adherent")
        page.goto(f"{live_url}/discussions/")
        page.get_by_role("button", name="Écrire à Philippe Garnier").click()
        expect(page.get_by_role("heading", level=1, name="Philippe Garnier")).to_be_visible()
        expect(page.locator("[data-chat-status]")).to_contain_text("Connecté")

        # The parrain opens the same conversation from his room list.
        log_in(parrain_page, live_url, "parrain")
        parrain_page.goto(f"{live_url}/discussions/")
        parrain_page.get_by_role("link", name="Sophie Labat").click()
        expect(parrain_page.locator("[data-chat-status]")).to_contain_text("Connecté")
        expect(page.locator("[data-chat-presence]")).to_contain_text("Philippe Garnier")

        # Keyboard only: type, Enter sends; the message appears on both sides without reloading.
        composer = page.get_by_label("Votre message")
        composer.fill("Bonjour Philippe, auriez-vous un modèle de convention ? https://exemple.fr/trame")
        composer.press("Enter")
        expect(parrain_page.locator("#messages")).to_contain_text("auriez-vous un modèle de convention ?")
        expect(parrain_page.locator("#messages a[href='https://exemple.fr/trame']")).to_have_attribute(
            "rel", "nofollow noopener")
        expect(page.locator(".chat-message--pending")).to_have_count(0)
        expect(composer).to_be_focused()
        expect(composer).to_have_value("")

        reply = parrain_page.get_by_label("Votre message")
        reply.fill("Bonjour Sophie, je vous l'envoie : <b>pas de HTML</b> ici.")
        reply.press("Enter")
        expect(page.locator("#messages")).to_contain_text("je vous l'envoie : <b>pas de HTML</b> ici.")
        expect(page.locator("#messages b")).to_have_count(0)
        expect(page.locator("#messages")).to_have_attribute("aria-live", "polite")
        screenshot(page, "discussion-parrainage")

        # She corrects her message in place (keyboard: the form takes focus, Enter saves)…
        own = page.locator(".chat-message--own").first
        own.get_by_role("link", name="Modifier votre message").click()
        editor = own.get_by_label("Modifier votre message")
        expect(editor).to_be_focused()
        editor.fill("Bonjour Philippe, auriez-vous un modèle de convention pour les enquêtes ?")
        editor.press("Enter")
        expect(parrain_page.locator("#messages")).to_contain_text("pour les enquêtes ?")
        expect(parrain_page.locator(".chat-message__edited")).to_have_count(1)
        # …then deletes it; the parrain sees it go.
        page.once("dialog", lambda dialog: dialog.accept())
        own.get_by_role("link", name="Supprimer votre message").click()
        expect(parrain_page.locator("#messages")).to_contain_text("Message supprimé par son auteur·rice.")
        expect(parrain_page.locator("#messages")).not_to_contain_text("pour les enquêtes ?")
    finally:
        other_context.close()


@pytest.fixture
def own_server(live_url):
    """A daphne of this test's own (the shared one must survive): killed and restarted below."""
    from tests.chat.live import DaphneServer

    server = DaphneServer(layer="memory", name="navigateur-reprise")
    server.start()
    yield server
    server.stop()


def test_the_page_reconnects_after_a_server_restart_and_loses_nothing(own_server, page, sponsorship):
    from chat import messages as chat_messages
    from chat import rooms as chat_rooms
    from chat.models import ChatMessage

    filleule, parrain = sponsorship
    room = chat_rooms.open_direct_room(filleule, parrain)
    base = own_server.base_url
    log_in(page, base, "nouvel.adherent")
    page.goto(f"{base}{room.get_absolute_url()}")
    status = page.locator("[data-chat-status]")
    expect(status).to_contain_text("Connecté")

    own_server.kill()
    expect(status).to_contain_text("Connexion perdue", timeout=10_000)
    # While the server is down: the parrain's message is saved (another server took it), and she writes.
    chat_messages.post_message(parrain, room.pk, "hors-ligne", "Message écrit pendant la coupure")
    composer = page.get_by_label("Votre message")
    composer.fill("Envoyé pendant la coupure")
    composer.press("Enter")
    expect(page.locator(".chat-message--pending")).to_have_count(1)
    own_server.start()

    expect(status).to_contain_text("Connecté", timeout=20_000)
    expect(page.locator("#messages")).to_contain_text("Message écrit pendant la coupure")
    expect(page.locator(".chat-message--pending")).to_have_count(0)
    expect(page.locator(".chat-message--own")).to_contain_text("Envoyé pendant la coupure")
    assert ChatMessage.objects.filter(room=room, body="Envoyé pendant la coupure").count() == 1
