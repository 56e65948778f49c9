"""Absolute addresses of the site, for what leaves it: e-mails, calendar files, the private links
shown to a candidate.

They start with the SITE_URL setting, never with the request's Host header: the client chooses that
header, and a permissive proxy or ALLOWED_HOSTS entry would let a forged one through, so that a
password-reset e-mail would carry its token to another site (docs/architecture.md, *Side effects and
background work*).
"""

from __future__ import annotations

from django.conf import settings


def site_url() -> str:
    """The site's public address, without a trailing slash ("https://passerelles.example.org")."""
    return settings.SITE_URL.rstrip("/")


def absolute_url(path: str) -> str:
    """`path` (as `reverse` gives it, starting with "/") as an absolute address of the site."""
    if not path.startswith("/"):
        raise ValueError(f"a site path starts with '/': {path!r}")
    return site_url() + path
