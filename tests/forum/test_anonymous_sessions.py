"""Anonymous browsing writes no session (issue 16, item 6).

machina's permission middleware gave every anonymous visitor a random "forum key" stored in the
session, so every cookie-less request wrote a session row and set a session cookie. The forum is a
members' space (anonymous visitors are sent to the login page before any forum view runs): our
middleware (forum.middleware.ForumPermissionMiddleware) attaches the permission handler without
touching the session.
"""

import re

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

ANONYMOUS_PAGES = [
    "/",  # the public landing (a Wagtail page)
    "/compte/connexion/",
    "/compte/connexion/?next=/forum/",
    "/compte/mot-de-passe/reinitialisation/",
    "/adhesion/",  # the membership application's first page
    "/forum/",  # members only: a redirect to the login page
    "/annuaire/",
    "/ressources/",  # a restricted Wagtail page
    "/une-page-qui-n-existe-pas/",
]


def test_anonymous_get_requests_write_no_session_and_set_no_session_cookie():
    before = Session.objects.count()
    for _round in range(5):
        for url in ANONYMOUS_PAGES:
            response = Client().get(url)
            assert response.status_code < 500, url
            assert settings.SESSION_COOKIE_NAME not in response.cookies, url
    assert Session.objects.count() == before


def test_the_login_page_still_protects_and_accepts_its_form_with_csrf(member):
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("login"))
    assert settings.CSRF_COOKIE_NAME in page.cookies  # CSRF rides on its own cookie, not the session
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)

    refused = client.post(reverse("login"), {"username": member.username, "password": DEFAULT_PASSWORD})
    assert refused.status_code == 403  # no token: CSRF refuses
    assert Session.objects.count() == 0

    response = client.post(reverse("login"), {"username": member.username, "password": DEFAULT_PASSWORD,
                                              "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert settings.SESSION_COOKIE_NAME in response.cookies
    assert Session.objects.count() == 1
    assert client.get(reverse("forum:index")).status_code == 200
