"""Production rehearsal (issue 14, item 5): the site deployed as docker-compose.yml deploys it, on an empty
PostgreSQL database, then run by people in Chromium from the first administrator to a live conversation.

What runs, all on loopback:
- a fresh PostgreSQL database of this test's own (dropped at the end, whatever happens) and a Redis
  database number of its own (emptied before and after);
- the services' own commands read from docker-compose.yml: "web" (its whole `sh -c` line: migrations,
  set-up, collectstatic, then uvicorn; only its address, port and worker count changed), "ws" (daphne)
  and "worker" (`manage.py db_worker`), with the environment of its `x-passerelles-environment` block,
  filled as a deployment's .env would fill it and pointed at loopback (no ELASTICSEARCH_URL: the
  database search store answers);
- in the test process, what stands at the stack's edge (tests/edge.py): nginx's part (static files,
  /ws/ to daphne, the rest to uvicorn) and a mail server that keeps what the site sends.

Then nothing but the browser, except `manage.py create_admin` for the first account: the administrator
imports a small network file and invites two people; each opens the link of the e-mail received,
chooses a password and is logged in; the director posts in a thematic forum and both talk live in their
region's room; the worker indexes the post, which the search then finds. Nothing of `seed_demo` is used.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.browser.conftest import (
    ACTION_TIMEOUT_MS,
    CHROMIUM_ARGS,
    chromium_executable,
    save_screenshot,
)
from tests.chat.live import LOG_DIR, REDIS_HOST, REDIS_PORT, free_port
from tests.edge import EdgeProxy, SmtpSink
from tests.faults.servers import kill_group, wait_for_port
from tests.manage_process import run_manage
from tests.test_compose import option, server_arguments

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
# Not the suite's live servers' (12), the load bench's (13), the benchmarks' (14) nor CI's (15).
REDIS_DB = 11
LOGIN_URL = "/compte/connexion/"
WEB_WORKERS = "2"
# Migrations of an empty database, the site's set-up and collectstatic, before uvicorn listens.
WEB_START_TIMEOUT_S = 240
INDEXING_TIMEOUT_S = 30
MAIL_TIMEOUT_S = 30
# Twice the browser tests' waits (tests/browser/conftest.py): production settings hash passwords for real
# (login, invitations) and each uvicorn process renders every page a first time with cold caches.
REHEARSAL_ACTION_TIMEOUT_MS = 2 * ACTION_TIMEOUT_MS
REHEARSAL_NAVIGATION_TIMEOUT_MS = 20_000

ADMIN = {"username": "admin.federation", "email": "admin@federation.example.org", "first_name": "Hélène",
         "last_name": "Roussel"}
ADMIN_PASSWORD = "Répétition-générale-" + secrets.token_urlsafe(12)
DIRECTOR = {"first_name": "Camille", "last_name": "Berthier", "email": "camille.berthier@acjs-lyon.example.org"}
COLLEAGUE = {"first_name": "Yanis", "last_name": "Morel", "email": "yanis.morel@acjs-lyon.example.org"}
OTHER_MEMBER = {"first_name": "Louise", "last_name": "Perrin", "email": "louise.perrin@arse-isere.example.org"}
REGION = "Centre-Est"
THEME_FORUM = "Contrôle judiciaire socio-éducatif"
# A word nobody writes by chance: the search finds it only through the worker's indexing.
WORD = "ornithorynque"


# --- what the machine must offer ---------------------------------------------------------------------


def _postgres_answers() -> bool:
    try:
        import psycopg

        psycopg.connect(dbname="postgres", connect_timeout=3, **POSTGRES).close()
        return True
    except Exception:
        return False


def _redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_timeout=2).ping())
    except Exception:
        return False


@pytest.fixture(scope="module")
def chromium() -> str:
    reasons = []
    if not _postgres_answers():
        reasons.append("PostgreSQL ne répond pas sur 127.0.0.1:5432 (utilisateur postgres)")
    if not _redis_answers():
        reasons.append("Redis ne répond pas sur 127.0.0.1:6379")
    executable = chromium_executable()
    if executable is None:
        reasons.append("Chromium introuvable (apt-get install chromium, ou PASSERELLES_CHROMIUM)")
    if reasons:
        pytest.skip("Répétition de mise en production impossible : " + " ; ".join(reasons) + ".")
    return executable


# --- data stores of this test's own ------------------------------------------------------------------


@pytest.fixture
def fresh_database(chromium) -> Iterator[str]:
    """An empty PostgreSQL database created for this test, dropped at the end even if the test fails."""
    import psycopg

    name = f"passerelles_repetition_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dbname="postgres", autocommit=True, **POSTGRES) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **POSTGRES) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def private_redis(chromium) -> Iterator[str]:
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_timeout=5)
    client.flushdb()
    try:
        yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
    finally:
        with contextlib.suppress(Exception):
            client.flushdb()


# --- the stack, as docker-compose.yml starts it ------------------------------------------------------


def compose_environment(shell: dict[str, str]) -> dict[str, str]:
    """The `x-passerelles-environment` block with its `${…}` filled from `shell`, as compose fills them from
    the deployment's .env: `${NAME:-default}`, `${NAME:?message}` (required), `${NAME}`."""

    def fill(match: re.Match) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3) or ""
        if operator == ":?":
            assert shell.get(name), f"docker-compose.yml exige {name} : {argument}"
            return shell[name]
        if operator == ":-":
            return shell.get(name) or argument
        return shell.get(name, "")

    block = COMPOSE["x-passerelles-environment"]
    return {key: re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", fill, str(value)) for key, value in block.items()}


def web_command(port: int) -> list[str]:
    """The web service's command, only its address, port and worker count changed for loopback."""
    command = COMPOSE["services"]["web"]["command"]
    assert command[:2] == ["sh", "-c"], command
    uvicorn = server_arguments(command, "uvicorn")
    assert option(uvicorn, "--host") == "0.0.0.0" and option(uvicorn, "--port") == "8000"
    script = command[2]
    for pattern, replacement in ((r"--host 0\.0\.0\.0\b", "--host 127.0.0.1"), (r"--port 8000\b", f"--port {port}"),
                                 (r"--workers \$\{WEB_WORKERS:-\d+\}", f"--workers {WEB_WORKERS}")):
        script, count = re.subn(pattern, replacement, script)
        assert count == 1, f"« {pattern} » absent de la commande du service web : {script}"
    return ["sh", "-c", script]


def ws_command(port: int) -> list[str]:
    words = server_arguments(COMPOSE["services"]["ws"]["command"], "daphne")
    loopback = {"-b": "127.0.0.1", "-p": str(port)}
    return [loopback.get(before, word) for before, word in zip(["", *words[:-1]], words, strict=True)]


def worker_command() -> list[str]:
    command = list(COMPOSE["services"]["worker"]["command"])
    assert command[-1] == "db_worker", command
    return command


class Stack:
    """The web, ws and worker processes on loopback, each in a session of its own (killed as a group)."""

    def __init__(self, tmp_path: Path, *, database_url: str, redis_url: str, smtp_port: int):
        self.tmp_path = tmp_path
        self.web_port, self.ws_port = free_port(), free_port()
        self.static_root = tmp_path / "static"
        self.proxy = EdgeProxy(web_port=self.web_port, ws_port=self.ws_port, static_root=self.static_root)
        self.proxy.start()
        shell = {
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1",
            "POSTGRES_PASSWORD": "inutilise-ici",  # DATABASE_URL is replaced below
            "ELASTIC_PASSWORD": "inutilise-ici",  # ELASTICSEARCH_URL is dropped below
            "SITE_URL": self.proxy.base_url,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_USE_TLS": "0",
            # No TLS on loopback: nothing in front of the proxy redirects to HTTPS, nor must Django.
            "SECURE_SSL_REDIRECT": "0",
        }
        environment = compose_environment(shell)
        assert "@postgres:5432/" in environment["DATABASE_URL"] and environment["REDIS_URL"].startswith("redis://redis:")
        environment.update({
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            # The container's paths, here under the test's temporary folder.
            "PASSERELLES_VAR_DIR": str(tmp_path / "var"),
            "STATIC_ROOT": str(self.static_root),
            "MEDIA_ROOT": str(tmp_path / "media"),
        })
        # Elasticsearch is not on this machine: without its URL the database search store answers.
        environment.pop("ELASTICSEARCH_URL")
        assert len(environment["SECRET_KEY"]) >= 50 and environment["DEBUG"] == "0"
        self.environment = environment
        # The image's PATH puts the project's Python first: `python`, `uvicorn` and `daphne` are the venv's.
        self.process_environment = {
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(tmp_path),
            "LANG": "C.UTF-8",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONUNBUFFERED": "1",
            **environment,
        }
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.web_ready_after = 0.0

    @property
    def url(self) -> str:
        return self.proxy.base_url

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log_path = LOG_DIR / f"repetition-{name}.log"
        self.logs[name] = log_path
        with log_path.open("w") as log:
            log.write(f"$ {' '.join(command)}\n")
            log.flush()
            process = subprocess.Popen(command, cwd=ROOT, env=self.process_environment, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = process
        return process

    def start_all(self) -> None:
        started = time.monotonic()
        web = self.start("web", web_command(self.web_port))
        wait_for_port(self.web_port, web, timeout=WEB_START_TIMEOUT_S, what="le service web", log=self.logs["web"])
        self.web_ready_after = time.monotonic() - started
        # docker-compose.yml starts ws and worker once web is healthy (it has migrated the database).
        ws = self.start("ws", ws_command(self.ws_port))
        self.start("worker", worker_command())
        wait_for_port(self.ws_port, ws, timeout=60, what="le service ws (daphne)", log=self.logs["ws"])
        self.check_alive()

    def check_alive(self) -> None:
        stopped = {name: process.returncode for name, process in self.processes.items() if process.poll() is not None}
        assert not stopped, f"processus arrêtés : {stopped}\n{self.report()}"

    def manage(self, *arguments: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """`manage.py …` beside the services (as `docker compose exec web python manage.py …`)."""
        return run_manage(self.tmp_path, {**self.environment, **(extra or {})}, *arguments)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            kill_group(process)
        self.proxy.stop()

    def report(self, lines: int = 40) -> str:
        parts = []
        for name, path in self.logs.items():
            with contextlib.suppress(OSError):
                tail = "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
                parts.append(f"--- {name} ({path.relative_to(ROOT)}) ---\n{tail}")
        if self.proxy.errors:
            parts.append("--- proxy ---\n" + "\n".join(self.proxy.errors[-10:]))
        return "\n".join(parts)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def stack(tmp_path, fresh_database, private_redis, smtp) -> Iterator[Stack]:
    deployed = Stack(tmp_path, database_url=fresh_database, redis_url=private_redis, smtp_port=smtp.port)
    try:
        deployed.start_all()
        yield deployed
    finally:
        deployed.stop()


@pytest.fixture
def browser(chromium) -> Iterator:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=REHEARSAL_ACTION_TIMEOUT_MS)
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
                                                  timeout=30_000)
            try:
                yield launched
            finally:
                launched.close()
    finally:
        expect.set_options(timeout=ACTION_TIMEOUT_MS)


def new_page(browser):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(REHEARSAL_ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(REHEARSAL_NAVIGATION_TIMEOUT_MS)
    return context.new_page()


# --- the network file --------------------------------------------------------------------------------


def luhn_key(digits: str) -> str:
    """The digit that makes `digits` + it pass the Luhn check (SIREN and SIRET keys)."""
    for key in "0123456789":
        candidate = digits + key
        total = sum((int(c) * 2 - 9 if int(c) * 2 > 9 else int(c) * 2) if position % 2 else int(c)
                    for position, c in enumerate(reversed(candidate)))
        if total % 10 == 0:
            return key
    raise AssertionError("unreachable")


def siret(seed: str) -> str:
    """A valid SIRET: a SIREN (8 digits + key) then an establishment number whose key closes the 14."""
    siren = seed[:8] + luhn_key(seed[:8])
    establishment = siren + "0001"
    return establishment + luhn_key(establishment)


def network_file(folder: Path) -> Path:
    """Two member associations of one region (two cours d'appel), a director and a member in the first, a
    member in the second: the spreadsheet the federation keeps, in the import's columns."""
    first, second = siret("41234567"), siret("52345678")
    rows = [
        ["type", "siret", "nom", "prenom", "courriel", "fonction", "roles", "ville", "departement", "region",
         "juridictions", "mesures"],
        ["association", first, "ACJS Lyon – Contrôle judiciaire du Rhône", "", "contact@acjs-lyon.example.org", "",
         "", "Lyon", "69", REGION, "Lyon|Villefranche-sur-Saône",
         "Contrôle judiciaire socio-éducatif (CJSE)|Enquêtes sociales rapides"],
        ["association", second, "ARSE Isère – Enquêtes et médiation", "", "contact@arse-isere.example.org", "",
         "", "Grenoble", "38", REGION, "Grenoble|Vienne", "Médiation pénale"],
        ["personne", first, DIRECTOR["last_name"], DIRECTOR["first_name"], DIRECTOR["email"], "Directrice",
         "directeur", "", "", "", "", ""],
        ["personne", first, COLLEAGUE["last_name"], COLLEAGUE["first_name"], COLLEAGUE["email"],
         "Intervenant socio-judiciaire", "membre", "", "", "", "", ""],
        ["personne", second, OTHER_MEMBER["last_name"], OTHER_MEMBER["first_name"], OTHER_MEMBER["email"],
         "Intervenante socio-judiciaire", "membre", "", "", "", "", ""],
    ]
    path = folder / "reseau.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


# --- steps ----------------------------------------------------------------------------------------------


def assert_the_site_set_itself_up(database_url: str) -> None:
    """Right after the web command, before anything else ran: the forum tree and the CMS structure."""
    import psycopg

    with psycopg.connect(database_url) as connection:
        forums = {name for (name,) in connection.execute("SELECT name FROM forum_forum")}
        pages = {path for (path,) in connection.execute("SELECT url_path FROM wagtailcore_page")}
    expected = {"Espaces thématiques", "Entre directeurs et directrices", f"Région {REGION}"}
    assert expected <= forums and any(THEME_FORUM in name for name in forums), (
        f"arbre du forum absent après la commande du service web : {sorted(forums)}")
    assert any(path.endswith("/ressources/") for path in pages), f"pas de page /ressources/ : {sorted(pages)}"


def create_first_admin(stack: Stack) -> None:
    """The only command typed by hand on a new server (README), here without a terminal."""
    result = stack.manage(
        "create_admin", "--no-input", "--username", ADMIN["username"], "--email", ADMIN["email"],
        "--first-name", ADMIN["first_name"], "--last-name", ADMIN["last_name"],
        extra={"PASSERELLES_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert result.returncode == 0, f"create_admin a échoué :\n{result.stdout}\n{result.stderr}"


def log_in(page, url: str, username: str, password: str, *, then: str = "") -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}{LOGIN_URL}" + (f"?next={then}" if then else ""))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("form:has(#id_username) [type=submit]").click()
    expect(page).not_to_have_url(re.compile(re.escape(LOGIN_URL)))


def import_network(page, url: str, path: Path) -> None:
    """From the associations' admin list: upload, read the dry run's preview, confirm."""
    from playwright.sync_api import expect

    page.goto(f"{url}/admin/directory/association/")
    page.get_by_role("link", name="Importer le réseau").click()
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="Prévisualiser l’import").click()
    preview = page.locator("#content")
    expect(preview).to_contain_text("Rien n'a encore été écrit.")
    for text in ("ACJS Lyon – Contrôle judiciaire du Rhône", "ARSE Isère – Enquêtes et médiation",
                 DIRECTOR["last_name"], COLLEAGUE["last_name"], OTHER_MEMBER["last_name"]):
        expect(preview).to_contain_text(text)
    # Every row will be created, none is refused.
    expect(preview).to_contain_text(re.compile(r"\b5 à créer\b.*\b0 refusée", re.DOTALL))
    page.get_by_role("button", name="Confirmer l’import").click()
    expect(page.locator("#content h2")).to_contain_text("terminé")
    page.goto(f"{url}/admin/directory/association/")
    expect(page.locator("#result_list")).to_contain_text("ACJS Lyon – Contrôle judiciaire du Rhône")
    expect(page.locator("#result_list")).to_contain_text("ARSE Isère – Enquêtes et médiation")


def invite(page, url: str, people: list[dict]) -> None:
    """The Person admin's action "Envoyer une invitation" on the people ticked in the list."""
    from playwright.sync_api import expect

    page.goto(f"{url}/admin/directory/user/")
    for person in people:
        page.locator("#result_list tbody tr").filter(has_text=person["last_name"]) \
            .locator("input[name=_selected_action]").check()
    page.locator("select[name=action]").select_option(label="Envoyer une invitation")
    page.locator("button[name=index]").click()
    expect(page.locator(".messagelist")).to_contain_text(f"{len(people)} invitation(s) envoyée(s).")


def accept_invitation(page, url: str, smtp: SmtpSink, person: dict, password: str) -> None:
    """Open the link of the e-mail the sink received, choose a password, land logged in."""
    from playwright.sync_api import expect

    mail = smtp.wait_for(person["email"], timeout=MAIL_TIMEOUT_S)
    links = re.findall(r"https?://\S+/invitation/[^\s/]+/[^\s/]+/", mail.text)
    assert links, f"pas de lien d'invitation dans le courriel :\n{mail.text}"
    link = links[0]
    assert link.startswith(f"{url}/"), f"le lien ne mène pas au site ({url}) : {link}"
    page.goto(link)
    fields = page.locator("form input[type=password]")
    expect(fields).to_have_count(2)
    fields.nth(0).fill(password)
    fields.nth(1).fill(password)
    page.locator("form:has(input[type=password]) [type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/invitation/|" + re.escape(LOGIN_URL)))
    expect(page.locator(".user-menu summary")).to_contain_text(f"{person['first_name']} {person['last_name']}")


def post_topic(page, url: str, subject: str, content: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}/forum/")
    page.get_by_role("link", name=re.compile(re.escape(THEME_FORUM))).first.click()
    page.get_by_role("link", name="Nouveau sujet").first.click()
    page.get_by_label(re.compile(r"^Sujet\b")).fill(subject)
    page.get_by_label(re.compile(r"^Message\b")).fill(content)
    page.get_by_role("button", name="Publier le sujet").click()
    expect(page.get_by_role("heading", level=1, name=subject)).to_be_visible()


def open_region_room(page, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}/discussions/")
    page.get_by_role("link", name=f"Région {REGION}").first.click()
    expect(page.get_by_role("heading", level=1, name=f"Région {REGION}")).to_be_visible()
    # The websocket through the proxy's /ws/, to daphne.
    expect(page.locator("[data-chat-status]")).to_contain_text("Connecté", timeout=15_000)


def say(page, text: str) -> None:
    composer = page.get_by_label("Votre message")
    composer.fill(text)
    composer.press("Enter")


def search_finds(page, url: str, title: str) -> None:
    """The worker indexes the post after commit: search again (bounded) until it is found."""
    deadline = time.monotonic() + INDEXING_TIMEOUT_S
    while True:
        page.goto(f"{url}/recherche/?q={WORD}")
        if page.locator(".search-result h3").filter(has_text=title).count():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"« {WORD} » introuvable par la recherche après {INDEXING_TIMEOUT_S} s : "
                                 f"{page.locator('main').inner_text()[:800]}")
        page.wait_for_timeout(1_500)


# --- the journey ---------------------------------------------------------------------------------------


def test_a_fresh_deployment_sets_itself_up_and_serves_from_the_first_admin_to_a_live_conversation(
        stack, smtp, browser, fresh_database, tmp_path):
    from playwright.sync_api import expect

    started = time.monotonic()
    url = stack.url
    pages = []
    try:
        # Deployed: nothing but the web command ran on the empty database.
        assert_the_site_set_itself_up(fresh_database)
        create_first_admin(stack)

        admin = new_page(browser)
        pages.append(admin)
        log_in(admin, url, ADMIN["username"], ADMIN_PASSWORD, then="/admin/")
        expect(admin.locator("#site-name")).to_be_visible()
        # The site's own pages, hashed static files served by the proxy as nginx serves them.
        admin.goto(f"{url}/forum/")
        for name in ("Entre directeurs et directrices", f"Région {REGION}"):
            expect(admin.get_by_role("link", name=name, exact=True)).to_be_visible()
        expect(admin.get_by_role("link", name=re.compile(re.escape(THEME_FORUM))).first).to_be_visible()
        stylesheet = admin.locator("link[rel=stylesheet]").first.get_attribute("href")
        assert re.fullmatch(r"/static/css/\S+\.[0-9a-f]{12}\.css", stylesheet), stylesheet
        assert admin.request.get(f"{url}{stylesheet}").ok
        response = admin.goto(f"{url}/ressources/")
        assert response.status == 200, response.status
        expect(admin.get_by_role("heading", level=1)).to_contain_text("Ressources")

        import_network(admin, url, network_file(tmp_path))
        invite(admin, url, [DIRECTOR, OTHER_MEMBER])

        director = new_page(browser)
        pages.append(director)
        accept_invitation(director, url, smtp, DIRECTOR, "Camille-" + secrets.token_urlsafe(10))
        member = new_page(browser)
        pages.append(member)
        accept_invitation(member, url, smtp, OTHER_MEMBER, "Louise-" + secrets.token_urlsafe(10))

        subject = "Premier retour sur le CJSE dans le Rhône"
        post_topic(director, url, subject, f"Bonjour à toutes et tous : notre {WORD} du contrôle judiciaire "
                                           "socio-éducatif est prêt, qui veut le relire ?")

        open_region_room(director, url)
        open_region_room(member, url)
        say(director, "Bonjour Louise, bienvenue sur Passerelles !")
        expect(member.locator("#messages")).to_contain_text("Bonjour Louise, bienvenue sur Passerelles !")
        say(member, "Merci Camille, ravie d'être là.")
        expect(director.locator("#messages")).to_contain_text("Merci Camille, ravie d'être là.")

        search_finds(director, url, subject)
        stack.check_alive()
        assert not stack.proxy.errors, stack.proxy.errors
    except Exception as error:
        for index, page in enumerate(pages):
            with contextlib.suppress(Exception):
                save_screenshot(page, f"repetition-echec-{index}")
        raise AssertionError(f"{error}\n\nJournaux des services :\n{stack.report()}") from error
    finally:
        print(f"\nrépétition : service web prêt en {stack.web_ready_after:.1f} s (migrate, setup_site, collectstatic), "
              f"parcours en {time.monotonic() - started:.1f} s")
