"""Steps the browser journeys share."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.factories import DEFAULT_PASSWORD


def log_in(page, live_url: str, username: str, *, then: str = "") -> None:
    """Through the login form, as a member would; `then`: the page asked for first (?next=)."""
    page.goto(f"{live_url}/compte/connexion/" + (f"?next={then}" if then else ""))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(DEFAULT_PASSWORD)
    page.locator("form:has(#id_username) [type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/compte/connexion/"))
