"""Abuse limits on the two forms that send e-mail to an address anyone can type: the password reset (per
client address and per e-mail address) and the membership application (new drafts per client address).
"""

import pytest
from django.core import mail
from django.urls import reverse

from membership.models import MembershipApplication
from tests.factories import make_person
from tests.membership.support import complete_post, text

pytestmark = pytest.mark.django_db

RESET_URL = reverse("password_reset")
START_URL = reverse("membership-application")
RESET_REFUSED = "Trop de demandes de réinitialisation"
DRAFTS_REFUSED = "Trop de candidatures ont été commencées"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def ask_reset(client, email: str, address: str = "192.0.2.10"):
    return client.post(RESET_URL, {"email": email}, REMOTE_ADDR=address)


# --- password reset -----------------------------------------------------------------------------------


def test_the_fourth_reset_for_one_address_is_refused_and_sends_nothing(client):
    person = make_person("camille.reset", email="camille@exemple.org")
    for _ in range(3):
        assert ask_reset(client, person.email).status_code == 302
    assert len(mail.outbox) == 3

    response = ask_reset(client, "Camille@Exemple.org ", address="198.51.100.3")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    body = response.content.decode()
    assert RESET_REFUSED in body and "Réessayez dans" in body
    assert len(mail.outbox) == 3


def test_an_unknown_address_is_refused_exactly_like_a_known_one(client):
    make_person("camille.reset", email="camille@exemple.org")
    known = [ask_reset(client, "camille@exemple.org", address=f"192.0.2.{index}").status_code for index in range(4)]
    unknown = [ask_reset(client, "personne@exemple.org", address=f"198.51.100.{index}").status_code
               for index in range(4)]

    assert known == unknown == [302, 302, 302, 429]


def test_one_client_address_asking_for_many_e_mails_is_stopped_after_five(client):
    statuses = [ask_reset(client, f"inconnu{index}@exemple.org").status_code for index in range(6)]

    assert statuses == [302] * 5 + [429]
    # Another client is not concerned.
    assert ask_reset(client, "autre@exemple.org", address="203.0.113.50").status_code == 302


def test_a_reset_limit_of_zero_switches_the_limit_off(client, settings):
    settings.PASSWORD_RESET_RATE_LIMIT = settings.PASSWORD_RESET_EMAIL_RATE_LIMIT = 0

    assert {ask_reset(client, "camille@exemple.org").status_code for _ in range(8)} == {302}


# --- membership applications -----------------------------------------------------------------------


def start(client, address: str = "192.0.2.20", **overrides):
    return client.post(START_URL, complete_post(**overrides), REMOTE_ADDR=address)


def test_the_sixth_new_application_from_one_address_is_refused_and_nothing_is_written(client):
    for index in range(5):
        assert start(client, name=f"Association d'essai {index}").status_code == 302
    sent = len(mail.outbox)

    response = start(client, name="Association de trop")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    body = text(response)
    assert DRAFTS_REFUSED in body and "sélectionnez-les à nouveau" in body
    # What was typed is still in the form.
    assert 'value="Association de trop"' in response.content.decode()
    assert MembershipApplication.objects.count() == 5 and len(mail.outbox) == sent
    # Another address still may apply.
    assert start(client, address="198.51.100.21", name="Association voisine").status_code == 302


def test_invalid_forms_and_the_same_form_sent_twice_are_not_counted(client):
    form_key = client.get(START_URL).context["form"]["form_key"].value()
    for _ in range(6):
        assert start(client, siret="1").status_code == 400
    assert start(client, form_key=form_key).status_code == 302
    for _ in range(6):
        response = start(client, form_key=form_key)
        assert response.status_code == 302  # the draft already recorded, not a new one

    assert MembershipApplication.objects.count() == 1
    for index in range(4):
        assert start(client, name=f"Autre association {index}").status_code == 302
    assert start(client, name="Association de trop").status_code == 429


def test_once_refused_the_same_form_sent_again_still_finds_its_draft(client):
    form_key = client.get(START_URL).context["form"]["form_key"].value()
    for index in range(4):
        start(client, name=f"Association d'essai {index}")
    first = start(client, form_key=form_key)

    again = client.post(START_URL, complete_post(form_key=form_key), REMOTE_ADDR="192.0.2.20", follow=True)

    assert first.status_code == 302
    assert again.redirect_chain[0][0] == first["Location"]
    assert "rien n'a été créé en double" in text(again)
