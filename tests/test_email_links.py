"""Links in e-mails start with SITE_URL, never with the Host header of the request that caused them
(issue 16, item 8): a reset asked through a permissive proxy or a forged Host must not e-mail a link
to another site, which would hand it the reset token.

Every absolute address goes through one helper, core.links; the source scan below keeps it so.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import make_person
from tests.membership.support import complete_post

ROOT = Path(__file__).resolve().parent.parent
SITE_URL = "https://passerelles.example.org"
FORGED_HOST = "evil.example"
URL_RE = re.compile(r"https?://\S+")


@pytest.fixture
def forged_host_allowed(settings):
    """A deployment whose ALLOWED_HOSTS (or a proxy in front) lets the forged Host through."""
    settings.SITE_URL = SITE_URL
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, FORGED_HOST]


def assert_links_start_with_site_url(message):
    text = message.subject + "\n" + message.body
    assert FORGED_HOST not in text
    links = URL_RE.findall(message.body)
    assert links, message.body
    assert all(link.startswith(SITE_URL + "/") for link in links), links


@pytest.mark.django_db
@pytest.mark.parametrize("secure", [False, True], ids=["http", "https"])
def test_a_password_reset_asked_through_another_host_name_links_to_site_url(client, forged_host_allowed, secure):
    make_person("claire.martin", email="claire.martin@exemple.org")

    response = client.post(reverse("password_reset"), {"email": "claire.martin@exemple.org"},
                           HTTP_HOST=FORGED_HOST, secure=secure)

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert_links_start_with_site_url(mail.outbox[0])
    assert SITE_URL + "/compte/reinitialisation/" in mail.outbox[0].body
    assert "(passerelles.example.org)" in mail.outbox[0].body


@pytest.mark.django_db
def test_a_membership_draft_started_through_another_host_name_e_mails_a_site_url_link(
        client, forged_host_allowed, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("membership-application"), complete_post(), HTTP_HOST=FORGED_HOST)

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert_links_start_with_site_url(mail.outbox[0])


def project_sources():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {"tests", "bench", ".venv", "var", "node_modules"} or "migrations" in relative.parts:
            continue
        yield relative, path.read_text(encoding="utf-8")


# The one address built from the request: the candidate's own follow-up page shows the link with the
# address they are using, to them alone, on a page no cache keeps; it is never e-mailed.
REQUEST_BUILT_ADDRESSES = {"membership/views.py": 1}


def test_absolute_addresses_come_from_one_helper():
    """SITE_URL (and Wagtail's WAGTAILADMIN_BASE_URL, set from it) are read by core.links alone, and no
    code that e-mails builds an absolute address from the request (its Host header is the client's choice)."""
    offenders = []
    for relative, source in project_sources():
        if str(relative) in {"config/settings.py", "core/links.py"}:
            continue
        for name in ("WAGTAILADMIN_BASE_URL", "settings.SITE_URL"):
            if name in source:
                offenders.append(f"{relative}: {name}")
        if source.count("build_absolute_uri") > REQUEST_BUILT_ADDRESSES.get(str(relative), 0):
            offenders.append(f"{relative}: build_absolute_uri")
    assert offenders == []
