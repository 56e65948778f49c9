"""The HTTP server as docker-compose.yml starts it (service "web": uvicorn, two worker processes) behind
nginx: each member's address reaches the per-address login limit, and both workers count together.

The command is read from docker-compose.yml itself, only its address and port changed for loopback; it
runs on the test database and a Redis database of its own prefix (the cache the workers share, as in
production). nginx writes X-Forwarded-For with the client it sees (deploy/nginx.conf): the requests
below carry it as nginx would.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import subprocess
import sys
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml

from tests.chat.live import LOG_DIR, DaphneServer, free_port, redis_answers
from tests.faults.servers import kill_group, wait_for_port
from tests.test_compose import option, server_arguments

ROOT = Path(__file__).resolve().parent.parent
LOGIN_URL = "/compte/connexion/"
THROTTLED = "Trop de tentatives de connexion ont échoué"

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def shipped_web_command(port: int) -> list[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    words = server_arguments(compose["services"]["web"]["command"], "uvicorn")
    loopback = {"--host": "127.0.0.1", "--port": str(port), "--workers": "2"}
    assert option(words, "--workers") == "${WEB_WORKERS:-2}"
    return [sys.executable, "-m", *(loopback.get(before, word) for before, word in zip(["", *words[:-1]], words,
                                                                                     strict=True))]


@pytest.fixture
def web_server() -> Iterator[int]:
    if not redis_answers():
        pytest.skip("Redis ne répond pas sur 127.0.0.1:6379 : les deux processus de uvicorn n'auraient pas de "
                    "cache commun / Redis not answering.")
    # The environment of the test servers (test database, Redis test database under a prefix of its own).
    # The per-address login limit lowered to 5 (50 by default, directory/lockout.py): fewer requests reach it.
    environment = DaphneServer(layer="redis", name="uvicorn", extra_env={"LOGIN_ADDRESS_RATE_LIMIT": "5"}).env
    port = free_port()
    log_path = LOG_DIR / "uvicorn-web.log"
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        process = subprocess.Popen(shipped_web_command(port), cwd=ROOT, env=environment, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, process, timeout=30, what="uvicorn", log=log_path)
        yield port
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        kill_group(process)


def login_attempt(port: int, address: str, username: str) -> tuple[int, str]:
    """A browser behind nginx: the login page (CSRF cookie and token), then a wrong password."""
    headers = {"Host": f"127.0.0.1:{port}", "X-Forwarded-For": address}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    connection.request("GET", LOGIN_URL, headers=headers)
    page = connection.getresponse()
    html = page.read().decode()
    assert page.status == 200, html[:500]
    jar = SimpleCookie()
    for header in page.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    connection.close()

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    connection.request("POST", LOGIN_URL, body=urlencode({
        "csrfmiddlewaretoken": token, "username": username, "password": "mauvais-mot-de-passe"}), headers={
        **headers, "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())})
    answer = connection.getresponse()
    body = answer.read().decode()
    connection.close()
    return answer.status, body


def test_the_shipped_http_server_limits_each_client_address_across_its_workers(web_server):
    # Five failures from one address, each on another account (the per-account limit never applies), over
    # fresh connections that the two workers share between them.
    for index in range(5):
        status, body = login_attempt(web_server, "203.0.113.7", f"inconnu-{index}")
        assert status == 200 and THROTTLED not in body

    refused_status, refused_body = login_attempt(web_server, "203.0.113.7", "inconnu-5")
    other_status, other_body = login_attempt(web_server, "198.51.100.20", "inconnu-6")

    assert refused_status == 429 and THROTTLED in refused_body
    # Another member behind the same proxy is not refused: the address is the client's, not nginx's.
    assert other_status == 200 and THROTTLED not in other_body
