"""Login throttling (issue 16, item 2; directory/lockout.py): failures count per (account, address) pair,
5 per 30 minutes, and per address, 50 per hour across accounts. The right password from another address
always logs in, until the account-wide brake (tests/directory/test_login_lockout.py)."""

import pytest

from core import ratelimit
from tests.factories import DEFAULT_PASSWORD, make_person

pytestmark = pytest.mark.django_db

LOGIN_URL = "/compte/connexion/"
THROTTLED = "Trop de tentatives de connexion ont échoué"
WRONG = "Saisissez un nom d’utilisateur et un mot de passe valides"


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


def assert_logged_in(client, response, person):
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(person.pk)


# --- the (account, address) pair ------------------------------------------------------------------------


def test_the_sixth_attempt_from_the_same_address_is_refused_even_with_the_right_password(client, alice):
    fail(client, "alice.test", 5)

    response = log_in(client, "alice.test", DEFAULT_PASSWORD)

    assert response.status_code == 429
    page = response.content.decode()
    assert THROTTLED in page
    assert "Réessayez dans" in page
    assert 0 < int(response["Retry-After"]) <= 36 * 60
    assert 'value="alice.test"' in page  # the typed name is kept
    assert "_auth_user_id" not in client.session


def test_five_failures_are_still_answered_as_wrong_passwords(client, alice):
    fail(client, "alice.test", 4)

    response = log_in(client, "alice.test", "encore-faux")

    assert response.status_code == 200
    assert WRONG in response.content.decode()


def test_the_right_password_from_another_address_logs_in_after_a_hundred_failures_elsewhere(client, staff):
    for _ in range(100):
        response = log_in(client, staff.username, "mauvais-mot-de-passe", address="198.51.100.66")
        assert response.status_code in (200, 429)

    assert_logged_in(client, log_in(client, staff.username, DEFAULT_PASSWORD, address="192.0.2.10"), staff)


def test_failures_from_a_few_addresses_do_not_block_the_owner_elsewhere(client, alice):
    for number in range(5):  # 25 failures from 5 addresses: each pair blocked, the account is not
        fail(client, "alice.test", 5, address=f"10.0.1.{number}")

    assert_logged_in(client, log_in(client, "alice.test", DEFAULT_PASSWORD, address="10.0.2.1"), alice)


def test_a_blocked_pair_does_not_refuse_another_account_from_the_same_address(client, alice, bruno):
    fail(client, "alice.test", 5, address="10.0.0.1")
    assert log_in(client, "alice.test", DEFAULT_PASSWORD, address="10.0.0.1").status_code == 429

    assert_logged_in(client, log_in(client, "bruno.test", DEFAULT_PASSWORD, address="10.0.0.1"), bruno)


def test_refused_attempts_do_not_extend_the_block(client, alice, monkeypatch):
    start = 1_000_000_000.0
    monkeypatch.setattr(ratelimit, "now", lambda: start)
    fail(client, "alice.test", 5)
    monkeypatch.setattr(ratelimit, "now", lambda: start + 20 * 60)
    for _ in range(20):  # the attacker keeps trying during the block
        assert log_in(client, "alice.test", "mauvais-mot-de-passe").status_code == 429

    monkeypatch.setattr(ratelimit, "now", lambda: start + 36 * 60)  # 30 minutes, and at most a slot more
    assert_logged_in(client, log_in(client, "alice.test", DEFAULT_PASSWORD), alice)


def test_the_block_ends_with_the_window(client, alice, monkeypatch):
    start = 1_000_000_000.0
    monkeypatch.setattr(ratelimit, "now", lambda: start)
    fail(client, "alice.test", 5)
    assert log_in(client, "alice.test", DEFAULT_PASSWORD).status_code == 429

    monkeypatch.setattr(ratelimit, "now", lambda: start + 29 * 60)
    assert log_in(client, "alice.test", DEFAULT_PASSWORD).status_code == 429

    monkeypatch.setattr(ratelimit, "now", lambda: start + 36 * 60)
    assert log_in(client, "alice.test", DEFAULT_PASSWORD).status_code == 302


def test_a_successful_login_clears_its_own_pair(client, alice):
    fail(client, "alice.test", 4)
    assert log_in(client, "alice.test", DEFAULT_PASSWORD).status_code == 302
    client.logout()

    fail(client, "alice.test", 4)  # would be the 5th to 8th failure without the reset

    assert log_in(client, "alice.test", DEFAULT_PASSWORD).status_code == 302


# --- the name, whatever its case and spacing -------------------------------------------------------------


def test_variants_of_the_name_count_as_one_pair(client, alice):
    for name in ["Alice.Test", "ALICE.TEST", " alice.test", "alice.TEST ", "Alice.test"]:
        fail(client, name, 1, address="10.0.3.1")

    assert log_in(client, "alice.test", DEFAULT_PASSWORD, address="10.0.3.1").status_code == 429
    assert log_in(client, " ALICE.test ", DEFAULT_PASSWORD, address="10.0.3.1").status_code == 429
    # ... and only the pair: the owner elsewhere is let in.
    assert_logged_in(client, log_in(client, "alice.test", DEFAULT_PASSWORD, address="10.0.4.1"), alice)


# --- the address, shared by an office ---------------------------------------------------------------------


def test_an_office_address_is_not_blocked_by_a_few_failures_across_accounts(client, alice, bruno):
    for number in range(20):  # twenty colleagues mistype their password once
        fail(client, f"collegue{number}", 1, address="10.0.0.9")
    fail(client, "bruno.test", 4, address="10.0.0.9")

    assert_logged_in(client, log_in(client, "alice.test", DEFAULT_PASSWORD, address="10.0.0.9"), alice)
    client.logout()
    assert_logged_in(client, log_in(client, "bruno.test", DEFAULT_PASSWORD, address="10.0.0.9"), bruno)


def test_an_address_spraying_many_accounts_is_refused_for_every_account(client, alice):
    for number in range(50):
        fail(client, f"inconnu{number}", 1, address="10.0.0.7")

    response = log_in(client, "alice.test", DEFAULT_PASSWORD, address="10.0.0.7")

    assert response.status_code == 429
    assert THROTTLED in response.content.decode()
    assert int(response["Retry-After"]) > 0
    # Another address is not concerned.
    assert_logged_in(client, log_in(client, "alice.test", DEFAULT_PASSWORD, address="10.0.0.8"), alice)


def test_a_successful_login_does_not_reset_the_address_count(client, alice, settings):
    settings.LOGIN_ADDRESS_RATE_LIMIT = 5
    for number in range(4):
        fail(client, f"inconnu{number}", 1, address="10.0.0.5")
    assert log_in(client, "alice.test", DEFAULT_PASSWORD, address="10.0.0.5").status_code == 302
    client.logout()
    fail(client, "inconnu9", 1, address="10.0.0.5")

    assert log_in(client, "alice.test", DEFAULT_PASSWORD, address="10.0.0.5").status_code == 429


def test_the_limits_come_from_the_settings(client, alice, settings):
    settings.LOGIN_RATE_LIMIT = 2

    fail(client, "alice.test", 2)

    assert log_in(client, "alice.test", DEFAULT_PASSWORD).status_code == 429


def test_empty_fields_are_not_counted(client, alice):
    for _ in range(8):
        assert client.post(LOGIN_URL, {"username": "alice.test", "password": ""}).status_code == 200

    assert log_in(client, "alice.test", DEFAULT_PASSWORD).status_code == 302


# --- the other login forms: Django's admin and Wagtail's (open to any signed-in account) ------------------


@pytest.mark.parametrize("login_path", ["/admin/login/", "/cms-admin/login/"])
def test_the_admin_login_forms_count_and_refuse_like_the_site_login(client, member, staff, login_path):
    fail(client, staff.username, 3, address="10.0.9.9")  # through the site's form: they count together
    client.force_login(member)  # the admin login pages are for signed-in accounts (members-only site)
    for _ in range(2):
        response = client.post(login_path, {"username": staff.username, "password": "faux"}, REMOTE_ADDR="10.0.9.9")
        assert THROTTLED not in response.content.decode()

    response = client.post(login_path, {"username": staff.username, "password": DEFAULT_PASSWORD},
                           REMOTE_ADDR="10.0.9.9")

    assert THROTTLED in response.content.decode()
    assert client.session["_auth_user_id"] == str(member.pk)  # still the member: the password was not tried
