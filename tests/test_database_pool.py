"""PostgreSQL connections come from a pool per server process (config/settings.py): a request borrows one
and gives it back, so sequential requests reuse the same connections instead of opening one each.

The settings are read in a subprocess (they read the environment once, at import); the reuse itself needs
PostgreSQL and runs in the CI's second pass (DATABASE_URL=postgres://…).
"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from django.db import connection

from config.asgi import application
from tests.manage_process import run_manage

PRODUCTION = {"DEBUG": "0", "SECRET_KEY": "k" * 20 + "abcdefghij" * 3, "ALLOWED_HOSTS": "passerelles.example.org",
              "DATABASE_URL": "postgres://passerelles:secret@postgres.invalid:5432/passerelles"}
SHOW_DATABASE = ("from django.conf import settings; import json; d = settings.DATABASES['default']; "
                 "print(json.dumps({'age': d['CONN_MAX_AGE'], 'checks': d['CONN_HEALTH_CHECKS'], "
                 "'pool': d['OPTIONS'].get('pool')}))")


def _database_settings(tmp_path, **extra: str) -> dict:
    result = run_manage(tmp_path, {**PRODUCTION, **extra}, "shell", "--no-imports", "-c", SHOW_DATABASE)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_postgresql_gets_a_health_checked_pool_and_no_per_thread_connections(tmp_path):
    database = _database_settings(tmp_path)

    # Django refuses a pool with CONN_MAX_AGE > 0: the pool is what keeps connections.
    assert database["age"] == 0
    assert database["checks"] is True
    assert (database["pool"]["min_size"], database["pool"]["max_size"]) == (2, 8)


def test_the_pool_is_sized_by_the_environment(tmp_path):
    database = _database_settings(tmp_path, DATABASE_POOL_MIN="1", DATABASE_POOL_MAX="4", DATABASE_POOL_TIMEOUT="3")

    assert (database["pool"]["min_size"], database["pool"]["max_size"], database["pool"]["timeout"]) == (1, 4, 3.0)


def test_a_pool_smaller_than_its_minimum_stops_startup(tmp_path):
    result = run_manage(tmp_path, {**PRODUCTION, "DATABASE_POOL_MIN": "5", "DATABASE_POOL_MAX": "2"}, "check")

    assert result.returncode != 0
    assert "DATABASE_POOL_MIN et DATABASE_POOL_MAX" in result.stderr


@async_to_sync
async def _asgi_get(path: str) -> int:
    communicator = HttpCommunicator(application, "GET", path, headers=[(b"host", b"127.0.0.1")])
    try:
        return (await communicator.get_response(timeout=10))["status"]
    finally:
        await communicator.wait(timeout=10)


def _backends() -> int:
    """Connections to the test database other than this test's own."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sequential_requests_reuse_the_pools_connections():
    if connection.vendor != "postgresql":
        pytest.skip("réservoir de connexions PostgreSQL : ce test tourne avec DATABASE_URL=postgres://… "
                    "(second passage de la CI)")
    pool = connection.pool
    assert pool is not None, "config/settings.py doit donner un réservoir de connexions à PostgreSQL"
    # Each ASGI request runs its synchronous code in a thread of its own, as under uvicorn and daphne.
    assert _asgi_get("/") == 200
    before, backends_before = pool.get_stats(), _backends()

    for _ in range(5):
        assert _asgi_get("/") == 200

    after = pool.get_stats()
    assert after["requests_num"] - before["requests_num"] >= 5  # each request borrowed a connection…
    assert after.get("connections_num", 0) == before.get("connections_num", 0)  # …none was opened for it
    assert _backends() == backends_before
