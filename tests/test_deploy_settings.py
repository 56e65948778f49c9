"""Production settings: `check --deploy` is clean, and startup refuses to run without its secrets.

Each case starts `manage.py` in a subprocess with only the environment production would give it, since
config/settings.py reads the environment once, at import.
"""

from __future__ import annotations

import secrets

import pytest

from tests.manage_process import run_manage

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "passerelles.example.org",
}
# Optional components: named, never contacted by the checks.
FULL_STACK = {
    "DATABASE_URL": "postgres://passerelles:secret@postgres.invalid:5432/passerelles",
    "REDIS_URL": "redis://redis.invalid:6379/0",
    "ELASTICSEARCH_URL": "http://elasticsearch.invalid:9200",
    "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    "EMAIL_HOST": "smtp.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://passerelles.example.org",
}


@pytest.mark.parametrize("extra", [{}, FULL_STACK], ids=["embedded", "full-stack"])
def test_check_deploy_reports_nothing_with_production_settings(tmp_path, extra):
    result = run_manage(tmp_path, {**PRODUCTION, **extra}, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize("missing,message", [
    ("SECRET_KEY", "SECRET_KEY doit être défini quand DEBUG est désactivé."),
    ("ALLOWED_HOSTS", "ALLOWED_HOSTS doit être défini quand DEBUG est désactivé."),
])
def test_startup_fails_clearly_without_a_production_secret(tmp_path, missing, message):
    environment = {name: value for name, value in PRODUCTION.items() if name != missing}

    result = run_manage(tmp_path, environment, "check")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_an_empty_secret_counts_as_missing(tmp_path):
    result = run_manage(tmp_path, {**PRODUCTION, "SECRET_KEY": ""}, "check")

    assert result.returncode != 0
    assert "SECRET_KEY doit être défini" in result.stderr


def test_production_cookies_and_transport_are_secure(tmp_path):
    script = ("from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
              "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS >= 31536000, s.SESSION_COOKIE_HTTPONLY, "
              "s.SECURE_PROXY_SSL_HEADER)")

    result = run_manage(tmp_path, PRODUCTION, "shell", "--no-imports", "-c", script)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True True True True True ('HTTP_X_FORWARDED_PROTO', 'https')"


@pytest.mark.parametrize("weak_key", [
    secrets.token_urlsafe(30),  # too short
    "a" * 25 + "b" * 25 + "c" * 25,  # long, but only three distinct characters
    "django-insecure-" + secrets.token_urlsafe(50),  # Django's development key
], ids=["short", "few-distinct-characters", "django-insecure"])
def test_startup_refuses_a_weak_secret_key_and_says_how_to_make_one(tmp_path, weak_key):
    result = run_manage(tmp_path, {**PRODUCTION, "SECRET_KEY": weak_key}, "check")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY est trop faible" in result.stderr
    assert 'python -c "import secrets; print(secrets.token_urlsafe(50))"' in result.stderr


def test_a_generated_secret_key_of_fifty_characters_is_accepted(tmp_path):
    result = run_manage(tmp_path, {**PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(50)[:50]}, "check")

    assert result.returncode == 0, result.stderr


def test_a_weak_secret_key_is_fine_with_debug_on(tmp_path):
    result = run_manage(tmp_path, {"DEBUG": "1", "SECRET_KEY": "court"}, "check")

    assert result.returncode == 0, result.stderr


def test_seed_demo_refuses_a_production_server_before_touching_its_database(tmp_path):
    result = run_manage(tmp_path, PRODUCTION, "seed_demo")

    assert result.returncode != 0
    assert "seed_demo refuse de s'exécuter quand DEBUG est désactivé" in result.stderr
    assert not (tmp_path / "var" / "passerelles.sqlite3").exists()


@pytest.mark.parametrize("elasticsearch,message", [
    ({"ELASTICSEARCH_URL": "https://elastic:un-secret@es.invalid:9200", "ELASTICSEARCH_API_KEY": "Y2xlOnZhbGV1cg=="},
     "ELASTICSEARCH_API_KEY et un identifiant dans ELASTICSEARCH_URL ne vont pas ensemble"),
    ({"ELASTICSEARCH_URL": "https://es.invalid:9200", "ELASTICSEARCH_CA_CERTS": "/nulle/part/ca.crt"},
     "ELASTICSEARCH_CA_CERTS : le fichier /nulle/part/ca.crt est introuvable"),
], ids=["api-key-and-password", "missing-ca-file"])
def test_startup_refuses_elasticsearch_settings_that_cannot_work(tmp_path, elasticsearch, message):
    result = run_manage(tmp_path, {**PRODUCTION, **elasticsearch}, "check")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr
    assert "un-secret" not in result.stderr


def test_startup_accepts_a_password_in_the_url_and_a_ca_bundle(tmp_path):
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    environment = {**PRODUCTION, "ELASTICSEARCH_URL": "https://elastic:un-secret@es.invalid:9200",
                   "ELASTICSEARCH_CA_CERTS": str(ca)}

    result = run_manage(tmp_path, environment, "check")

    assert result.returncode == 0, result.stderr
