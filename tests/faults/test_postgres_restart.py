"""PostgreSQL restarted under a running site: once it is back, every request succeeds again.

A private cluster (initdb into a temporary directory, pg_ctl on a free loopback port; as root, run as
the `postgres` account) is migrated once for the module, then serves a real daphne. `pg_ctl restart
-m fast` cuts every session the server holds: with CONN_MAX_AGE and conn_health_checks
(config/settings.py), Django must notice that its kept connections are dead and open new ones, instead
of failing every request of every thread that held one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.chat.live import LOG_DIR
from tests.faults.servers import BASE_DIR, PostgresCluster, Visitor, postgres_unavailable_reason

pytestmark = pytest.mark.faults

DATABASE = "passerelles_panne"
PAGES = ["/", "/forum/", "/annuaire/", "/discussions/", "/ressources/"]
RECOVERY_DEADLINE_S = 15.0
MIGRATE_TIMEOUT_S = 300

# Run in the cluster's database by `manage.py shell`: a member of the network and their session cookie.
MAKE_MEMBER = """
from django.conf import settings
from django.test import Client
from tests.factories import AssociationFactory, Role, RoleSpec, make_person
association = AssociationFactory(name="Association de la panne")
person = make_person("panne.intervenante", association=association, roles=[RoleSpec(Role.MEMBER)])
client = Client()
client.force_login(person)
print("SESSION=" + client.cookies[settings.SESSION_COOKIE_NAME].value)
"""


@dataclass
class MigratedCluster:
    cluster: PostgresCluster
    database_url: str
    cookies: dict[str, str]


def manage(database_url: str, *args: str, timeout: float) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "PASSERELLES_FAST_PASSWORD_HASHER": "1",
           "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"}
    for name in ("REDIS_URL", "ELASTICSEARCH_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True,
                          text=True, timeout=timeout, start_new_session=True)
    with (LOG_DIR / "postgres-panne-manage.log").open("a") as log:
        log.write(f"\n$ manage.py {' '.join(args)}\n{done.stdout}\n{done.stderr}\n")
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {args[0]} a échoué ({done.returncode}) :\n{done.stderr[-3000:]}")
    return done.stdout


@pytest.fixture(scope="module")
def migrated_cluster() -> Iterator[MigratedCluster]:
    """Once per module: a private cluster, migrated, with one member. Always stopped and removed."""
    reason = postgres_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    cluster = PostgresCluster("redemarrage")
    try:
        cluster.init()
        cluster.start()
        cluster.create_database(DATABASE)
        database_url = cluster.url(DATABASE)
        manage(database_url, "migrate", "--noinput", timeout=MIGRATE_TIMEOUT_S)
        output = manage(database_url, "shell", "-c", MAKE_MEMBER, timeout=60)
        session = next(line.split("=", 1)[1] for line in output.splitlines() if line.startswith("SESSION="))
        yield MigratedCluster(cluster, database_url, {"sessionid": session})
    finally:
        cluster.cleanup()


class Poller:
    """Requests pages one after the other from a thread, recording (time, path, status)."""

    def __init__(self, visitor: Visitor):
        self.visitor = visitor
        self.results: list[tuple[float, str, int]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        number = 0
        while not self.stop.is_set():
            path = PAGES[number % len(PAGES)]
            answer = self.visitor.get(path, timeout=10)
            self.results.append((time.monotonic(), path, answer.status))
            number += 1
            time.sleep(0.05)

    def __enter__(self) -> Poller:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=20)


def test_every_request_succeeds_again_once_postgresql_is_back(migrated_cluster, daphne_factory):
    server = daphne_factory(database_url=migrated_cluster.database_url)
    visitor = Visitor(server.port, migrated_cluster.cookies)
    for path in PAGES:  # every page once, so that the server holds connections to the database
        answer = visitor.get(path)
        assert answer.status == 200, f"{path} → {answer.status}\n{answer.body[:500]}"

    with Poller(Visitor(server.port, migrated_cluster.cookies)) as poller:
        time.sleep(0.5)
        restart_began = time.monotonic()
        migrated_cluster.cluster.restart()
        back_at = time.monotonic()
        # Recovered: the first request that succeeds after the restart, within the deadline…
        while not any(at > back_at and status == 200 for at, _, status in poller.results):
            assert time.monotonic() - back_at < RECOVERY_DEADLINE_S, (
                f"pas de réponse 200 {RECOVERY_DEADLINE_S:.0f} s après le redémarrage : {poller.results[-5:]}\n"
                f"{server.log_text()}")
            time.sleep(0.1)
        recovered_at = next(at for at, _, status in poller.results if at > back_at and status == 200)
        # …then keep polling a while: no request may fail any more.
        while time.monotonic() - recovered_at < 3 or len([r for r in poller.results if r[0] > recovered_at]) < 20:
            assert time.monotonic() - recovered_at < 30, "le serveur ne répond plus assez vite"
            time.sleep(0.1)

    after = [(path, status) for at, path, status in poller.results if at >= recovered_at]
    assert all(status == 200 for _, status in after), f"échecs après le retour de PostgreSQL : {after}"
    # Requests that were in flight during the restart may have failed (500), never hung: the poller
    # kept going. Fresh requests, each on every page, succeed too.
    for path in PAGES:
        answer = visitor.get(path)
        assert answer.status == 200, f"{path} → {answer.status}\n{answer.body[:500]}"
    during = [status for at, _, status in poller.results if restart_began <= at < recovered_at]
    assert set(during) <= {200, 500, 503}, during
