"""Login throttling: 5 failures per 30 minutes per account and per client address (directory.forms_account)."""

import pytest

from core import ratelimit
from tests.factories import DEFAULT_PASSWORD, make_person

pytestmark = pytest.mark.django_db

LOGIN_URL = "/compte/connexion/"
THROTTLED = "Trop de tentatives de connexion ont échoué"


@pytest.fixture
def alice(db):
    return make_person("alice.test")


@pytest.fixture
def bruno(db):
    return make_person("bruno.test")


def log_in(client, username, password, address="10.0.0.1"):
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client, username, times, address="10.0.0.1"):
    for _ in range(times):
        response = log_in(client, username, "mauvais-mot-de-passe", address)
        assert response.status_code == 200, "refused too early"
        assert THROTTLED not in response.content.decode()


def test_the_sixth_attempt_is_refused_even_with_the_right_password(client, alice):
    fail(client, "alice.test", 5)

    response = log_in(client, "alice.test", DEFAULT_PASSWORD)

    assert response.status_code == 429
    assert THROTTLED in response.content.decode()
    assert "Réessayez dans" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_five_failures_are_still_answered_as_wrong_passwords(client, alice):
    fail(client, "alice.test", 4)

    response = log_in(client, "alice.test", "encore-faux")

    assert response.status_code == 200
    assert "Saisissez un nom d’utilisateur et un mot de passe valides" in response.content.decode()


def test_another_account_from_another_address_is_not_refused(client, alice, bruno):
    fail(client, "alice.test", 5, address="10.0.0.1")

    response = log_in(client, "bruno.test", DEFAULT_PASSWORD, address="10.0.0.2")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(bruno.pk)


def test_the_account_is_refused_from_any_address(client, alice):
    for number in range(5):
        fail(client, "alice.test", 1, address=f"10.0.1.{number}")

    response = log_in(client, "alice.test", DEFAULT_PASSWORD, address="10.0.2.1")

    assert response.status_code == 429


def test_the_address_is_refused_for_every_account(client, alice, bruno):
    for number in range(5):
        fail(client, f"inconnu{number}", 1, address="10.0.0.9")

    response = log_in(client, "bruno.test", DEFAULT_PASSWORD, address="10.0.0.9")

    assert response.status_code == 429
    assert THROTTLED in response.content.decode()


def test_the_account_name_counts_whatever_its_case(client, alice):
    for number, name in enumerate(["Alice.Test", "ALICE.TEST", " alice.test", "alice.TEST", "Alice.test"]):
        fail(client, name, 1, address=f"10.0.3.{number}")

    assert log_in(client, "alice.test", DEFAULT_PASSWORD, address="10.0.4.1").status_code == 429


def test_a_successful_login_does_not_reset_the_address_count_for_other_accounts(client, alice, bruno):
    fail(client, "bruno.test", 4, address="10.0.0.5")
    assert log_in(client, "alice.test", DEFAULT_PASSWORD, address="10.0.0.5").status_code == 302
    client.logout()
    fail(client, "bruno.test", 1, address="10.0.0.5")

    response = log_in(client, "bruno.test", DEFAULT_PASSWORD, address="10.0.0.5")

    assert response.status_code == 429


def test_a_successful_login_clears_the_accounts_own_failures(client, alice):
    for number in range(4):
        fail(client, "alice.test", 1, address=f"10.0.5.{number}")
    assert log_in(client, "alice.test", DEFAULT_PASSWORD, address="10.0.6.1").status_code == 302
    client.logout()

    for number in range(4):  # would be the 5th to 8th failure without the reset
        fail(client, "alice.test", 1, address=f"10.0.7.{number}")

    assert log_in(client, "alice.test", DEFAULT_PASSWORD, address="10.0.8.1").status_code == 302


def test_the_refusal_ends_with_the_window(client, alice, monkeypatch):
    start = 1_000_000_000.0
    monkeypatch.setattr(ratelimit, "now", lambda: start)
    fail(client, "alice.test", 5)
    assert log_in(client, "alice.test", DEFAULT_PASSWORD).status_code == 429

    monkeypatch.setattr(ratelimit, "now", lambda: start + 29 * 60)
    assert log_in(client, "alice.test", DEFAULT_PASSWORD).status_code == 429

    monkeypatch.setattr(ratelimit, "now", lambda: start + 36 * 60)  # 30 minutes, and at most a slot more
    assert log_in(client, "alice.test", DEFAULT_PASSWORD).status_code == 302


def test_the_limits_come_from_the_settings(client, alice, settings):
    settings.LOGIN_RATE_LIMIT = 2

    fail(client, "alice.test", 2)

    assert log_in(client, "alice.test", DEFAULT_PASSWORD).status_code == 429


def test_empty_fields_are_not_counted(client, alice):
    for _ in range(8):
        assert client.post(LOGIN_URL, {"username": "alice.test", "password": ""}).status_code == 200

    assert log_in(client, "alice.test", DEFAULT_PASSWORD).status_code == 302
