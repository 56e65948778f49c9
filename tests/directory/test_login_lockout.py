"""The account-wide brake (issue 16, item 2; directory/lockout.py): 30 failures within an hour from at least
5 addresses lock the account, even for the right password, until its owner follows the link e-mailed to
them or federal staff lift the lock (/admin/directory/loginblock/)."""

from __future__ import annotations

import re

import pytest

from core import ratelimit
from core.outbox.models import Email
from directory import access, lockout
from directory.models import LoginBlock
from directory.roles import Role
from directory.services import RoleSpec
from tests.factories import DEFAULT_PASSWORD, make_person

pytestmark = pytest.mark.django_db

LOGIN_URL = "/compte/connexion/"
LOCKED = "Les connexions à ce compte sont suspendues"
THROTTLED = "Trop de tentatives de connexion ont échoué"
ADMIN_LIST = "/admin/directory/loginblock/"


@pytest.fixture
def alice(db):
    return make_person("alice.test")


def log_in(client, username, password, address):
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=address)


def attack(client, username, *, addresses=6, per_address=5, prefix="203.0.113"):
    """`per_address` failures from each of `addresses` addresses (the pair limit lets 5 through each)."""
    for number in range(addresses):
        for _ in range(per_address):
            log_in(client, username, "mauvais-mot-de-passe", f"{prefix}.{number + 1}")


def alert(response) -> str:
    return re.search(r'<div role="alert">(.*?)</div>', response.content.decode(), re.S).group(1)


def unlock_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/compte/deverrouillage/\S+/)", message.body).group(1)


def test_thirty_failures_from_many_addresses_lock_the_account_even_for_the_right_password(
        client, alice, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attack(client, "alice.test")

    response = log_in(client, "alice.test", DEFAULT_PASSWORD, "192.0.2.44")

    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED in page
    assert 'value="alice.test"' in page
    assert "Retry-After" not in response  # no wait ends it: the link or the staff do
    assert "_auth_user_id" not in client.session
    assert LoginBlock.objects.filter(kind=LoginBlock.Kind.ACCOUNT, account="alice.test", lifted_at=None).count() == 1
    # The owner is told, with a link, once.
    assert [message.to for message in mailoutbox] == [["alice.test@exemple.org"]]
    assert "/compte/deverrouillage/" in mailoutbox[0].body


def test_the_unlock_email_goes_through_the_outbox_as_private(client, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attack(client, "alice.test")

    email = Email.objects.get(kind="directory.login-unlock")
    assert email.private
    assert email.status == Email.Status.SENT
    assert "/compte/deverrouillage/" not in email.text_body  # the link is gone once sent


def test_the_emailed_link_lifts_the_lock_once(client, alice, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attack(client, "alice.test")
    path = unlock_path(mailoutbox[0])

    page = client.get(path)
    assert page.status_code == 200
    assert "Débloquer mon compte" in page.content.decode()
    assert log_in(client, "alice.test", DEFAULT_PASSWORD, "192.0.2.44").status_code == 429  # GET lifts nothing

    done = client.post(path)
    assert done.status_code == 200
    assert "Votre compte est débloqué" in done.content.decode()
    response = log_in(client, "alice.test", DEFAULT_PASSWORD, "192.0.2.44")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)
    client.logout()

    again = client.post(path)
    assert "Ce lien n'est plus valable" in again.content.decode()
    assert not LoginBlock.objects.filter(kind=LoginBlock.Kind.ACCOUNT, lifted_at=None).exists()


def test_the_link_expires_and_a_new_attempt_sends_a_fresh_one(client, alice, mailoutbox, monkeypatch,
                                                               django_capture_on_commit_callbacks):
    start = 1_000_000_000.0
    monkeypatch.setattr(ratelimit, "now", lambda: start)
    with django_capture_on_commit_callbacks(execute=True):
        attack(client, "alice.test")
    old_path = unlock_path(mailoutbox[0])

    monkeypatch.setattr(ratelimit, "now", lambda: start + 25 * 3600)
    assert "Ce lien n'est plus valable" in client.post(old_path).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert LOCKED in log_in(client, "alice.test", DEFAULT_PASSWORD, "192.0.2.44").content.decode()
        assert LOCKED in log_in(client, "alice.test", DEFAULT_PASSWORD, "192.0.2.45").content.decode()

    assert len(mailoutbox) == 2  # one fresh link, not one per attempt
    assert "Votre compte est débloqué" in client.post(unlock_path(mailoutbox[1])).content.decode()
    assert log_in(client, "alice.test", DEFAULT_PASSWORD, "192.0.2.44").status_code == 302


def test_a_forged_or_mangled_link_is_refused_without_error(client, alice):
    for token in ["abc", "x" * 300, "eyJsIjoxfQ:1abc:def"]:
        response = client.post(f"/compte/deverrouillage/{token}/")
        assert response.status_code == 200
        assert "Ce lien n'est plus valable" in response.content.decode()


def test_the_lock_message_is_the_same_for_an_unknown_name_and_nothing_is_sent(
        client, alice, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attack(client, "alice.test")
        attack(client, "personne.inconnue", prefix="198.51.100")

    known = log_in(client, "alice.test", "x", "192.0.2.44")
    unknown = log_in(client, "personne.inconnue", "x", "192.0.2.44")

    assert known.status_code == unknown.status_code == 429
    assert alert(known) == alert(unknown)
    assert LOCKED in alert(known)
    assert len(mailoutbox) == 1  # alice's only


def test_many_failures_from_too_few_addresses_do_not_lock(client, alice, settings):
    settings.LOGIN_RATE_LIMIT = 100  # let every failure through the pair limit
    attack(client, "alice.test", addresses=4, per_address=12)  # 48 failures, 4 addresses

    assert log_in(client, "alice.test", DEFAULT_PASSWORD, "192.0.2.44").status_code == 302


def test_variants_of_the_name_lock_the_same_account(client, alice):
    names = ["Alice.Test", "ALICE.TEST", " alice.test", "alice.TEST ", "alice.test", "Alice.test"]
    for number, name in enumerate(names):
        for _ in range(5):
            log_in(client, name, "mauvais-mot-de-passe", f"203.0.113.{number + 1}")

    assert LOCKED in log_in(client, "alice.test", DEFAULT_PASSWORD, "192.0.2.44").content.decode()


def test_the_brake_follows_the_settings(client, alice, settings):
    settings.LOGIN_ACCOUNT_RATE_LIMIT = 10
    settings.LOGIN_ACCOUNT_LOCK_ADDRESSES = 2
    attack(client, "alice.test", addresses=2)

    assert LOCKED in log_in(client, "alice.test", DEFAULT_PASSWORD, "192.0.2.44").content.decode()


# --- staff see and lift ------------------------------------------------------------------------------------


def test_staff_see_the_locks_and_blocks_with_counts(client, alice, staff):
    attack(client, "alice.test")
    for number in range(3):
        log_in(client, f"inconnu{number}", "x", "198.51.100.99")
    client.force_login(staff)

    page = client.get(ADMIN_LIST)

    assert page.status_code == 200
    text = page.content.decode()
    assert "alice.test" in text
    assert "203.0.113.1" in text  # a blocked pair, with its address
    assert LoginBlock.objects.filter(kind=LoginBlock.Kind.PAIR, account="alice.test").count() == 6
    pair = LoginBlock.objects.filter(kind=LoginBlock.Kind.PAIR).first()
    assert pair.failures == 5 and pair.blocked_until is not None
    detail = client.get(f"{ADMIN_LIST}{pair.pk}/change/")
    assert detail.status_code == 200


def test_staff_lift_a_lock_and_the_owner_logs_in(client, alice, staff):
    attack(client, "alice.test")
    lock = LoginBlock.objects.get(kind=LoginBlock.Kind.ACCOUNT)
    client.force_login(staff)

    response = client.post(ADMIN_LIST, {"action": "lift", "_selected_action": [lock.pk]}, follow=True)

    assert response.status_code == 200
    lock.refresh_from_db()
    assert lock.lifted_at is not None and lock.lifted_by == staff
    client.logout()
    assert log_in(client, "alice.test", DEFAULT_PASSWORD, "192.0.2.44").status_code == 302


def test_staff_lift_a_blocked_pair(client, alice, staff):
    for _ in range(5):
        log_in(client, "alice.test", "x", "10.9.9.9")
    assert log_in(client, "alice.test", DEFAULT_PASSWORD, "10.9.9.9").status_code == 429
    block = LoginBlock.objects.get(kind=LoginBlock.Kind.PAIR)
    client.force_login(staff)

    client.post(ADMIN_LIST, {"action": "lift", "_selected_action": [block.pk]})
    client.logout()

    assert log_in(client, "alice.test", DEFAULT_PASSWORD, "10.9.9.9").status_code == 302


def test_staff_lift_a_blocked_address(client, alice, staff, settings):
    settings.LOGIN_ADDRESS_RATE_LIMIT = 3
    for number in range(3):
        log_in(client, f"inconnu{number}", "x", "10.8.8.8")
    assert THROTTLED in log_in(client, "alice.test", DEFAULT_PASSWORD, "10.8.8.8").content.decode()
    block = LoginBlock.objects.get(kind=LoginBlock.Kind.ADDRESS)
    assert block.address == "10.8.8.8" and block.failures == 3
    client.force_login(staff)

    client.post(ADMIN_LIST, {"action": "lift", "_selected_action": [block.pk]})
    client.logout()

    assert log_in(client, "alice.test", DEFAULT_PASSWORD, "10.8.8.8").status_code == 302


def test_only_federal_staff_see_or_lift_locks(client, alice, association):
    attack(client, "alice.test")
    lock = LoginBlock.objects.get(kind=LoginBlock.Kind.ACCOUNT)
    # An account with the admin flag but no federal role (e.g. a director given /admin/ for the CMS).
    director = make_person("directrice.admin", association=association, roles=[RoleSpec(Role.DIRECTOR)],
                           is_staff=True)
    client.force_login(director)

    assert client.get(ADMIN_LIST).status_code == 403
    assert client.get(f"{ADMIN_LIST}{lock.pk}/change/").status_code == 403
    client.post(ADMIN_LIST, {"action": "lift", "_selected_action": [lock.pk]})
    lock.refresh_from_db()
    assert lock.lifted_at is None
    assert "loginblock" not in client.get("/admin/").content.decode()


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(ADMIN_LIST)
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_rule_is_the_access_book(alice, staff, association):
    director = make_person("directrice.admin", association=association, roles=[RoleSpec(Role.DIRECTOR)],
                           is_staff=True)
    assert access.can_lift_login_blocks(staff)
    assert not access.can_lift_login_blocks(director)
    assert not access.can_lift_login_blocks(alice)
    assert lockout.normalise_account(" ALICE.Test ") == "alice.test"
