"""Browser-test harness: Debian's Chromium driven by Playwright against the real ASGI app.

- `live_url`: a daphne server (the production entry point, config.asgi:application, so HTTP and
  websockets) started as a subprocess on a free loopback port, on the test database. The SQLite test
  database is a file (config/settings.py) and each test is transactional, so the server sees what the
  test writes; serialized rollback restores the migrations' data (regions, Wagtail root…) each time.
- `browser` / `page`: Playwright's sync API on /usr/bin/chromium (or $PASSERELLES_CHROMIUM). Playwright's
  own browser downloads are never used. Without Chromium the tests are skipped with the reason.
- `screenshot(page, name)`: saves tests/artifacts/<name>.png; a failing test saves one by itself.

Journeys of later issues go in this package, marked `@pytest.mark.browser`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.chat.live import database_url_of_test_database, free_port

BASE_DIR = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = BASE_DIR / "tests" / "artifacts"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# Short enough that a broken journey fails in seconds, not minutes.
ACTION_TIMEOUT_MS = 5_000
NAVIGATION_TIMEOUT_MS = 10_000
SERVER_START_TIMEOUT_S = 30.0


def chromium_executable() -> str | None:
    candidate = os.environ.get("PASSERELLES_CHROMIUM") or DEFAULT_CHROMIUM
    if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
        return candidate
    return shutil.which(candidate)


# --- server ---------------------------------------------------------------------------------------


def _wait_until_listening(process: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"daphne s'est arrêté au démarrage (code {process.returncode}) :\n{log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    process.kill()
    waited = f"{SERVER_START_TIMEOUT_S:.0f} s"
    pytest.fail(f"daphne n'écoute pas sur le port {port} après {waited} :\n{log_path.read_text()}")


@pytest.fixture(scope="package")
def daphne_server(django_db_setup, django_db_blocker) -> Iterator[str]:
    """Start `daphne config.asgi:application` on the test database; yields its base URL."""
    with django_db_blocker.unblock():
        database_url = database_url_of_test_database()
    port = free_port()
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS_DIR / "daphne.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        # Test people get MD5 hashes (root conftest): the server must know that hasher to log them in.
        "PASSERELLES_FAST_PASSWORD_HASHER": "1",
        # DEBUG so that Django serves static files under daphne, as with `make run`.
        "DEBUG": "1",
        "PYTHONUNBUFFERED": "1",
        # Every browser logs in from 127.0.0.1 for the whole package: the per-address login limit would end
        # the run after a few deliberate failures (it is tested in tests/directory/test_login_throttle.py).
        "LOGIN_ADDRESS_RATE_LIMIT": "1000",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_listening(process, port, log_path)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def live_url(daphne_server, transactional_db, django_db_serialized_rollback) -> str:
    """Base URL of the running site ("http://127.0.0.1:<port>"), the test's data committed and visible."""
    return daphne_server


# --- browser --------------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser() -> Iterator:
    executable = chromium_executable()
    if executable is None:
        pytest.skip(
            "Chromium introuvable : installez chromium (apt-get install chromium) "
            "ou indiquez son chemin dans PASSERELLES_CHROMIUM."
        )
    from django.db import connections
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    # Playwright's sync API keeps an asyncio loop marked as running in this thread between its calls.
    # Django takes that for an async context: allow the ORM while the browser lives, and only then.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # asgiref's thread-critical locals also switch storage while a loop runs, so Django would open new
    # connections, blind to the test database's serialized contents and never closed (PostgreSQL could
    # not drop the test database). Keep the test's own connection objects.
    own_connections = {alias: connections[alias] for alias in connections}
    playwright = sync_playwright().start()
    for alias, connection in own_connections.items():
        connections[alias] = connection
    try:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser, request) -> Iterator:
    """A fresh browser context (no cookies) and page, French locale, short timeouts."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    new_page = context.new_page()
    try:
        yield new_page
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            save_screenshot(new_page, f"{request.node.name}-echec")
        context.close()


def save_screenshot(page, name: str) -> Path:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def screenshot() -> Callable:
    """`screenshot(page, "name")` saves tests/artifacts/name.png and returns its path."""
    return save_screenshot
