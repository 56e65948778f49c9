"""directory.sessions.is_still_valid: what Django's get_user decides, for a connection that stays open
(issue 16, item 3), with sessions in the database (one query) and in another engine (the cache)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client

from directory import sessions


@pytest.fixture(params=["django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cache"])
def engine(request, settings):
    settings.SESSION_ENGINE = request.param
    return request.param


def bound(user) -> tuple[Client, sessions.SessionBinding]:
    client = Client()
    client.force_login(user)
    return client, sessions.binding_of(client.session, user)


def test_a_fresh_session_holds_and_logging_out_ends_it(engine, member):
    client, binding = bound(member)
    assert sessions.is_still_valid(binding) is True

    client.post("/compte/deconnexion/")

    assert sessions.is_still_valid(binding) is False


def test_a_new_password_or_a_deactivation_ends_every_session(engine, member):
    _laptop, first = bound(member)
    _phone, second = bound(member)
    member.set_password("Un-nouveau-mot-de-passe-2026")
    member.save()
    assert (sessions.is_still_valid(first), sessions.is_still_valid(second)) == (False, False)

    _tablet, third = bound(member)
    assert sessions.is_still_valid(third) is True
    member.is_active = False
    member.save()
    assert sessions.is_still_valid(third) is False


def test_an_expired_or_deleted_session_does_not_hold(settings, member):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    client, binding = bound(member)
    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).update(expire_date="2000-01-01T00:00:00Z")
    assert sessions.is_still_valid(binding) is False
    assert sessions.is_still_valid(None) is False
