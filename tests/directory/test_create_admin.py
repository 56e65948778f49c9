"""`manage.py create_admin`: the first federal staff account, with the role, its groups and the admin screens."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from directory import access, administrators
from directory.administrators import AdministratorIdentity
from directory.management.commands import create_admin
from directory.models import User
from directory.roles import Role
from directory.services import DirectoryError
from tests.factories import make_person

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "Passerelle-du-réseau-2026!"
IDENTITY = {"username": "delegation", "email": "delegation@federation.example.org",
            "first_name": "Claire", "last_name": "Vasseur"}
OPTIONS = ["--username", "delegation", "--email", "delegation@federation.example.org",
           "--first-name", "Claire", "--last-name", "Vasseur"]


@pytest.fixture
def no_terminal(monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    monkeypatch.delenv(create_admin.PASSWORD_VARIABLE, raising=False)


@pytest.fixture
def terminal(monkeypatch):
    """A terminal that answers the prompts from `answers` (input) and `passwords` (getpass), in order."""
    monkeypatch.delenv(create_admin.PASSWORD_VARIABLE, raising=False)

    class FakeTerminal:
        answers: list[str] = []
        passwords: list[str] = []

    fake = FakeTerminal()
    monkeypatch.setattr(create_admin.sys, "stdin", io.StringIO())
    monkeypatch.setattr(create_admin.sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt="": fake.answers.pop(0))
    monkeypatch.setattr(create_admin.getpass, "getpass", lambda prompt="": fake.passwords.pop(0))
    return fake


def run(*arguments: str) -> str:
    out = io.StringIO()
    call_command("create_admin", *arguments, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_without_a_terminal_the_password_comes_from_the_environment(no_terminal, monkeypatch):
    monkeypatch.setenv(create_admin.PASSWORD_VARIABLE, STRONG_PASSWORD)

    output = run(*OPTIONS)

    admin = User.objects.get(username="delegation")
    assert "créé" in output
    assert admin.check_password(STRONG_PASSWORD)
    assert (admin.email, admin.first_name, admin.last_name) == (
        "delegation@federation.example.org", "Claire", "Vasseur")


def test_the_administrator_is_federal_staff_with_the_staff_groups(no_terminal, monkeypatch, staff):
    monkeypatch.setenv(create_admin.PASSWORD_VARIABLE, STRONG_PASSWORD)

    run(*OPTIONS)

    admin = User.objects.get(username="delegation")
    assert admin.is_staff and admin.is_superuser and admin.association is None
    assert list(admin.role_assignments.values_list("role", flat=True)) == [Role.FEDERAL_STAFF]
    assert access.is_federal_staff(admin)
    # The groups the directory syncs for the federal staff role: the same as any other staff person's.
    assert set(admin.groups.all()) == set(staff.groups.all()) != set()


@pytest.mark.parametrize("url", ["/admin/", "/cms-admin/"])
def test_the_administrator_logs_in_to_the_admin_screens(no_terminal, monkeypatch, url):
    monkeypatch.setenv(create_admin.PASSWORD_VARIABLE, STRONG_PASSWORD)
    run(*OPTIONS)
    client = Client()

    assert client.login(username="delegation", password=STRONG_PASSWORD)
    assert client.get(url).status_code == 200


def test_in_a_terminal_missing_details_and_the_password_are_asked_for(terminal):
    terminal.answers = ["Claire", "Vasseur"]
    terminal.passwords = [STRONG_PASSWORD, STRONG_PASSWORD]

    run("--username", "delegation", "--email", "delegation@federation.example.org")

    admin = User.objects.get(username="delegation")
    assert (admin.first_name, admin.last_name) == ("Claire", "Vasseur")
    assert admin.check_password(STRONG_PASSWORD)


def test_in_a_terminal_a_weak_or_mistyped_password_is_asked_again(terminal):
    terminal.passwords = ["12345678", "12345678", STRONG_PASSWORD, "autre chose", STRONG_PASSWORD, STRONG_PASSWORD]

    run(*OPTIONS)

    assert User.objects.get(username="delegation").check_password(STRONG_PASSWORD)


def test_in_a_terminal_three_refused_passwords_create_nothing(terminal):
    terminal.passwords = ["motdepasse"] * 6

    with pytest.raises(CommandError, match="Aucun mot de passe acceptable"):
        run(*OPTIONS)

    assert not User.objects.filter(username="delegation").exists()


@pytest.mark.parametrize("weak", ["motdepasse", "12345678901234", "court", "delegation2026"])
def test_a_weak_password_is_refused(no_terminal, monkeypatch, weak):
    monkeypatch.setenv(create_admin.PASSWORD_VARIABLE, weak)

    with pytest.raises(CommandError, match="Mot de passe refusé"):
        run(*OPTIONS)

    assert not User.objects.filter(username="delegation").exists()


def test_without_a_terminal_or_a_password_variable_nothing_is_created(no_terminal):
    with pytest.raises(CommandError, match=create_admin.PASSWORD_VARIABLE):
        run(*OPTIONS)

    assert not User.objects.exists()


def test_without_a_terminal_a_missing_detail_is_an_error(no_terminal, monkeypatch):
    monkeypatch.setenv(create_admin.PASSWORD_VARIABLE, STRONG_PASSWORD)

    with pytest.raises(CommandError, match="--email"):
        run("--username", "delegation", "--first-name", "Claire", "--last-name", "Vasseur")

    assert not User.objects.exists()


def test_no_input_never_prompts_even_in_a_terminal(terminal):
    with pytest.raises(CommandError, match=create_admin.PASSWORD_VARIABLE):
        run(*OPTIONS, "--no-input")


def test_the_password_is_never_a_command_line_argument(no_terminal):
    with pytest.raises(CommandError, match="unrecognized arguments"):
        run(*OPTIONS, "--password", STRONG_PASSWORD)


@pytest.mark.parametrize("taken", [
    {"username": "Delegation"},
    {"email": "DELEGATION@federation.example.org"},
], ids=["username", "email"])
def test_an_existing_username_or_email_is_refused(no_terminal, monkeypatch, taken):
    existing = make_person(**{"username": "quelquun", "email": "quelquun@example.org", **taken})
    monkeypatch.setenv(create_admin.PASSWORD_VARIABLE, STRONG_PASSWORD)

    with pytest.raises(CommandError, match="déjà"):
        run(*OPTIONS)

    assert list(User.objects.all()) == [existing]


def test_the_service_refuses_an_invalid_email():
    with pytest.raises(DirectoryError, match="Courriel"):
        administrators.create_administrator(AdministratorIdentity(**{**IDENTITY, "email": "pas-un-courriel"}),
                                            STRONG_PASSWORD)

    assert not User.objects.exists()
