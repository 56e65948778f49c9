"""Who reaches what: anonymous visitors, members, people of a candidate association; the auth pages."""

import html
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.template import loader
from django.test import Client
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, AssociationFactory, Role, RoleSpec, make_person

LOGIN_URL = "/compte/connexion/"

MEMBERS_ONLY_URLS = [
    "/annuaire/",
    "/annuaire/?region=sud-ouest",
    "/annuaire/associations/une-association/",
    "/annuaire/personnes/quelquun/",
    "/annuaire/offre/",
    "/annuaire/offre/?juridiction=tj-bordeaux",
    "/forum/",
    "/discussions/",
    "/ressources/",
    "/recherche/",
    "/recherche/?q=enqu%C3%AAte",
    "/parrainage/",
    "/compte/mot-de-passe/",
    "/compte/mot-de-passe/modifie/",
    "/admin/",
]

PUBLIC_URLS = [
    "/",
    LOGIN_URL,
    "/compte/mot-de-passe/reinitialisation/",
    "/compte/mot-de-passe/reinitialisation/envoyee/",
    "/compte/reinitialisation/terminee/",
    "/adhesion/",
]

# Members-only pages of our own (machina's forum and the admin screens decide on their own).
MEMBER_PAGES = [
    "/",
    "/annuaire/",
    "/annuaire/offre/",
    "/discussions/",
    "/ressources/",
    "/recherche/",
    "/parrainage/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", MEMBERS_ONLY_URLS)
def test_anonymous_visitors_are_sent_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == LOGIN_URL
    assert location.query.startswith("next=")


@pytest.mark.django_db
def test_the_login_redirect_keeps_the_full_requested_address(client):
    response = client.get("/annuaire/?region=sud-ouest&page=2")
    assert response["Location"] == f"{LOGIN_URL}?next=/annuaire/%3Fregion%3Dsud-ouest%26page%3D2"


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_login_from_the_wagtail_admin(client):
    response = client.get("/cms-admin/")
    assert response.status_code == 302
    assert "connexion" in response["Location"] or "login" in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_pages_answer_anonymous_visitors(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()


@pytest.mark.parametrize(
    "url", [*MEMBER_PAGES, "/annuaire/associations/une-association/", "/annuaire/personnes/quelquun/"]
)
def test_a_person_of_a_candidate_association_gets_403_on_member_pages(client, candidate_person, url):
    client.force_login(candidate_person)
    response = client.get(url)
    assert response.status_code == 403
    assert "réservés aux associations adhérentes" in response.content.decode()


@pytest.mark.parametrize("url", MEMBER_PAGES)
def test_members_reach_member_pages(client, member, url):
    client.force_login(member)
    assert client.get(url).status_code == 200


def test_members_reach_the_forum_the_password_page_and_directory_details(client, member):
    client.force_login(member)
    for url in ["/forum/", "/compte/mot-de-passe/", member.get_absolute_url(), member.association.get_absolute_url()]:
        assert client.get(url).status_code == 200, url


def test_the_login_page_is_in_french_and_links_to_password_reset(client, db):
    content = client.get(LOGIN_URL).content.decode()
    assert "Connexion à Passerelles" in content
    assert 'for="id_username"' in content
    assert 'for="id_password"' in content
    assert reverse("password_reset") in content


def _csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_login_with_the_real_form_then_logout(member):
    browser = Client(enforce_csrf_checks=True)
    form_page = browser.get(f"{LOGIN_URL}?next=/annuaire/")
    response = browser.post(
        LOGIN_URL,
        {
            "csrfmiddlewaretoken": _csrf_token(form_page.content.decode()),
            "username": member.username,
            "password": DEFAULT_PASSWORD,
            "next": "/annuaire/",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/annuaire/"
    directory_page = browser.get("/annuaire/")
    assert directory_page.status_code == 200

    response = browser.post(reverse("logout"), {"csrfmiddlewaretoken": _csrf_token(directory_page.content.decode())})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert browser.get("/annuaire/").status_code == 302


def test_a_wrong_password_shows_a_french_error(client, member):
    response = client.post(LOGIN_URL, {"username": member.username, "password": "pas-le-bon"})
    assert response.status_code == 200
    content = html.unescape(response.content.decode())
    assert "un mot de passe valides" in content
    assert 'role="alert"' in content


def test_an_empty_login_form_marks_fields_invalid_with_described_errors(client, db):
    content = client.post(LOGIN_URL, {"username": "", "password": ""}).content.decode()
    assert 'aria-invalid="true"' in content
    assert 'aria-describedby="id_username_error"' in content
    assert 'id="id_username_error"' in content


def test_logout_needs_a_post(client, member):
    client.force_login(member)
    assert client.get(reverse("logout")).status_code == 405


def test_password_change(client, member):
    client.force_login(member)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "Nouveau-secret-2025",
            "new_password2": "Nouveau-secret-2025",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    assert "Mot de passe modifié" in client.get(response["Location"]).content.decode()
    member.refresh_from_db()
    assert member.check_password("Nouveau-secret-2025")


def test_password_reset_sends_a_french_email_whose_link_works(client, member):
    response = client.post(reverse("password_reset"), {"email": member.email})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [member.email]
    assert message.subject == "Passerelles : choisir un nouveau mot de passe"
    assert "Vous avez demandé à choisir un nouveau mot de passe" in message.body
    assert member.username in message.body

    link = re.search(r"https?://[^/\s]+(/compte/reinitialisation/\S+/)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert "Choisir un nouveau mot de passe" in form_page.content.decode()

    set_password_url = form_page.redirect_chain[-1][0]
    response = client.post(
        set_password_url, {"new_password1": "Reprise-du-compte-42", "new_password2": "Reprise-du-compte-42"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_complete")
    member.refresh_from_db()
    assert member.check_password("Reprise-du-compte-42")


def test_a_used_reset_link_says_it_expired(client, member):
    client.post(reverse("password_reset"), {"email": member.email})
    link = re.search(r"https?://[^/\s]+(/compte/reinitialisation/\S+/)", mail.outbox[0].body).group(1)
    member.set_password("Changement-entre-temps-7")
    member.save()
    content = client.get(link, follow=True).content.decode()
    assert "Lien expiré ou déjà utilisé" in content


def test_password_reset_for_an_unknown_address_sends_nothing_but_answers_the_same(client, db):
    response = client.post(reverse("password_reset"), {"email": "inconnu@exemple.org"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_error_pages_are_french(client, member):
    client.force_login(member)
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()


def test_the_500_page_renders_without_request_context_processors_or_database():
    # Django's server_error view renders 500.html with an empty context and no request; without the
    # db fixture, pytest-django makes any database access fail.
    page = loader.get_template("500.html").render()
    assert '<html lang="fr">' in page
    assert "Une erreur est survenue" in page


def test_a_former_member_association_person_is_refused(client, db):
    former = AssociationFactory(name="Ancienne", status="former")
    person = make_person("ancien.test", association=former, roles=[RoleSpec(Role.DIRECTOR)])
    client.force_login(person)
    assert client.get("/annuaire/").status_code == 403
