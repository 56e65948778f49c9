"""docker-compose.yml describes a stack that can heal itself and finds its services."""

from pathlib import Path

import pytest
import yaml
from django.utils.module_loading import import_string

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_SERVICES = {"proxy", "web", "worker", "postgres", "redis", "elasticsearch"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def test_the_stack_has_the_expected_services(compose):
    assert set(compose["services"]) == EXPECTED_SERVICES


@pytest.mark.parametrize("name", sorted(EXPECTED_SERVICES))
def test_every_service_has_a_healthcheck_and_a_restart_policy(compose, name):
    service = compose["services"][name]

    assert service.get("healthcheck", {}).get("test"), f"{name} n'a pas de healthcheck"
    assert service.get("restart") in {"always", "unless-stopped", "on-failure"}


def test_web_reaches_postgres_redis_and_elasticsearch_by_url(compose):
    env = environment(compose["services"]["web"])

    assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379")
    assert env["ELASTICSEARCH_URL"] == "http://elasticsearch:9200"


def test_web_runs_without_debug_and_needs_its_secrets(compose):
    env = environment(compose["services"]["web"])

    assert env["DEBUG"] == "0"
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert env["ALLOWED_HOSTS"].startswith("${ALLOWED_HOSTS:?")


def test_web_serves_the_asgi_application_with_daphne(compose):
    command = " ".join(compose["services"]["web"]["command"])

    assert "migrate --noinput" in command
    assert "daphne" in command and "config.asgi:application" in command


def test_worker_runs_the_database_task_backend(compose):
    worker = compose["services"]["worker"]
    env = environment(worker)

    assert "db_worker" in worker["command"]
    assert env["TASKS_BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert import_string(env["TASKS_BACKEND"]).__name__ == "DatabaseBackend"
    assert env["DATABASE_URL"] == environment(compose["services"]["web"])["DATABASE_URL"]


def test_elasticsearch_is_single_node_with_bounded_memory(compose):
    env = environment(compose["services"]["elasticsearch"])

    assert env["discovery.type"] == "single-node"
    assert env["ES_JAVA_OPTS"] == "-Xms512m -Xmx512m"
    assert env["xpack.security.enabled"] == "false"
    assert "ports" not in compose["services"]["elasticsearch"]


def test_named_volumes_are_declared_and_mounted_files_exist(compose):
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name} monte {source}, absent du dépôt"
            else:
                assert source in declared, f"{name} utilise le volume {source}, non déclaré"


def test_dockerfile_installs_the_lock_and_serves_with_daphne():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "requirements.lock" in dockerfile
    assert "daphne" in dockerfile and "config.asgi:application" in dockerfile
