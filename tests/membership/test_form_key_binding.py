"""The start form's one-time key belongs to the browser session that used it first (issue 16, item 7).

The key only spares a double post from creating a second draft: sent again by the same session, it
leads back to that draft's private link; presented by any other client, it is refused with a French
message and reveals nothing. The form and the private pages are never stored by a cache.
"""

import secrets

import pytest
from django.contrib.messages.storage import default_storage
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory
from django.urls import reverse

from membership.models import MembershipApplication
from membership.views import MembershipStartView
from tests.membership.support import FOLLOW_RE, complete_post, text, token_from

pytestmark = pytest.mark.django_db

START_URL = reverse("membership-application")
REFUSED = "Ce formulaire a déjà été envoyé depuis un autre navigateur"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def form_key_of(response) -> str:
    return response.context["form"]["form_key"].value()


def test_another_client_replaying_a_form_key_gets_no_private_link(client):
    form_key = form_key_of(client.get(START_URL))
    first = client.post(START_URL, complete_post(form_key=form_key), REMOTE_ADDR="192.0.2.10")
    victim_token = token_from(first["Location"])

    replay = Client().post(START_URL, complete_post(form_key=form_key, name="Autre"), REMOTE_ADDR="198.51.100.7")

    assert replay.status_code == 409
    assert "Location" not in replay
    assert victim_token not in replay.content.decode()
    assert not FOLLOW_RE.search(replay.content.decode())
    assert REFUSED in text(replay)
    assert MembershipApplication.objects.count() == 1


def test_another_client_replaying_a_form_key_once_rate_limited_gets_no_private_link(client, settings):
    settings.MEMBERSHIP_DRAFT_RATE_LIMIT = 1
    form_key = form_key_of(client.get(START_URL))
    victim_token = token_from(client.post(START_URL, complete_post(form_key=form_key),
                                          REMOTE_ADDR="192.0.2.10")["Location"])
    attacker = Client()
    assert attacker.post(START_URL, complete_post(name="Première"), REMOTE_ADDR="198.51.100.7").status_code == 302

    replay = attacker.post(START_URL, complete_post(form_key=form_key), REMOTE_ADDR="198.51.100.7")

    assert replay.status_code == 429
    assert "Location" not in replay
    assert victim_token not in replay.content.decode()


def test_a_refused_replay_comes_back_with_a_fresh_key_that_records_a_draft_of_its_own(client):
    form_key = form_key_of(client.get(START_URL))
    victim_token = token_from(client.post(START_URL, complete_post(form_key=form_key))["Location"])
    other = Client()

    refused = other.post(START_URL, complete_post(form_key=form_key, name="Autre association"))
    fresh_key = form_key_of(refused)
    again = other.post(START_URL, complete_post(form_key=fresh_key, name="Autre association"))

    assert fresh_key != form_key
    assert again.status_code == 302
    assert token_from(again["Location"]) != victim_token
    assert MembershipApplication.objects.count() == 2


def test_the_same_session_sending_the_form_again_is_led_back_to_its_draft(client):
    form_key = form_key_of(client.get(START_URL))
    first = client.post(START_URL, complete_post(form_key=form_key), REMOTE_ADDR="192.0.2.10")

    again = client.post(START_URL, complete_post(form_key=form_key), REMOTE_ADDR="203.0.113.5", follow=True)

    assert again.redirect_chain[0][0] == first["Location"]
    assert "rien n'a été créé en double" in text(again)
    assert MembershipApplication.objects.count() == 1


def test_showing_the_form_opens_no_session_and_recording_a_draft_does():
    view = MembershipStartView.as_view()
    factory = RequestFactory()

    shown = factory.get(START_URL)
    shown.session = SessionStore()
    view(shown)
    assert shown.session.session_key is None and not shown.session.modified

    posted = factory.post(START_URL, complete_post(form_key=secrets.token_urlsafe(16)), REMOTE_ADDR="192.0.2.30")
    posted.session = SessionStore()
    posted._dont_enforce_csrf_checks = True
    posted._messages = default_storage(posted)
    response = view(posted)
    assert response.status_code == 302
    assert posted.session.modified


def assert_never_stored(response):
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives, response["Cache-Control"]


def test_the_start_form_is_never_stored_by_a_cache(client):
    assert_never_stored(client.get(START_URL))
    assert_never_stored(client.post(START_URL, complete_post(siret="1")))


def test_the_follow_up_pages_are_never_stored_by_a_cache(client):
    token = token_from(client.post(START_URL, complete_post())["Location"])
    assert_never_stored(client.get(reverse("membership-follow", kwargs={"token": token})))
    assert_never_stored(client.get(reverse("membership-follow", kwargs={"token": "x" * 43})))
