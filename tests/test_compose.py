"""docker-compose.yml describes a stack that can heal itself and finds its services; deploy/nginx.conf
serves static files for long and passes websockets on; the image can back the site up.

Parsing tests only: nothing here starts a container or nginx.
"""

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.utils.module_loading import import_string

from chat.routing import websocket_urlpatterns

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_SERVICES = {"proxy", "web", "ws", "worker", "scheduler", "postgres", "redis", "elasticsearch"}
BACKING_SERVICES = {"postgres", "redis", "elasticsearch"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def nginx() -> str:
    return (ROOT / "deploy" / "nginx.conf").read_text()


def block(text: str, opening: str) -> str:
    """The body of the first `opening { … }` block of an nginx configuration (nested blocks included)."""
    match = re.search(re.escape(opening) + r"\s*\{", text)
    assert match, f"« {opening} » absent de la configuration"
    depth, start = 1, match.end()
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start:index]
    raise AssertionError(f"bloc « {opening} » non fermé")


def directives(body: str) -> set[str]:
    """The directives of a block body, whitespace collapsed, comments dropped."""
    without_comments = re.sub(r"#[^\n]*", "", body)
    return {" ".join(statement.split()) for statement in re.split(r"[;{}]", without_comments) if statement.strip()}


def size_in_bytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kmg]?)b?", str(value).lower()).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]


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
    # With the "elastic" user's password, required like the other secrets (Elasticsearch runs with security on).
    assert re.fullmatch(r"http://elastic:\$\{ELASTIC_PASSWORD:\?[^}]+\}@elasticsearch:9200", env["ELASTICSEARCH_URL"])


def test_web_runs_without_debug_and_needs_its_secrets(compose):
    env = environment(compose["services"]["web"])

    assert env["DEBUG"] == "0"
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert env["ALLOWED_HOSTS"].startswith("${ALLOWED_HOSTS:?")


def server_arguments(command: list[str], server: str) -> list[str]:
    """The words of a service's command from the server's name on (`sh -c "… && exec uvicorn …"` included)."""
    words = shlex.split(command[-1]) if command[:2] == ["sh", "-c"] else list(command)
    assert server in words, f"{server} absent de la commande {command}"
    return words[words.index(server):]


def option(words: list[str], name: str) -> str:
    assert name in words, f"option {name} absente de {words}"
    return words[words.index(name) + 1]


def test_web_migrates_then_serves_http_with_uvicorn_workers(compose):
    command = compose["services"]["web"]["command"]
    words = server_arguments(command, "uvicorn")

    assert command[-1].index("migrate --noinput") < command[-1].index("exec uvicorn")
    assert words[1] == "config.asgi:application"
    assert option(words, "--workers") == "${WEB_WORKERS:-2}"
    # The client address nginx writes is the one the per-address limits count (core/ratelimit.py).
    assert "--proxy-headers" in words and option(words, "--forwarded-allow-ips") == "*"
    assert option(words, "--lifespan") == "off" and option(words, "--port") == "8000"


def test_ws_serves_the_websockets_with_daphne_once_web_has_migrated(compose):
    ws = compose["services"]["ws"]
    words = server_arguments(ws["command"], "daphne")

    assert words[-1] == "config.asgi:application" and "--proxy-headers" in words and option(words, "-p") == "8000"
    assert "migrate" not in " ".join(ws["command"])
    assert environment(ws) == environment(compose["services"]["web"])


def test_ws_waits_for_handshakes_in_a_reconnect_storm_as_the_chat_bench_does(compose):
    """daphne drops a handshake not accepted within its timeout (5 s by default): in a storm the client
    retries and the work is paid twice. The chat bench measures the shipped timeout."""
    from bench.bench_chat import WEBSOCKET_CONNECT_TIMEOUT_S

    words = server_arguments(compose["services"]["ws"]["command"], "daphne")

    assert int(option(words, "--websocket_connect_timeout")) == WEBSOCKET_CONNECT_TIMEOUT_S >= 30


def test_the_load_test_measures_the_servers_as_the_stack_starts_them(compose):
    """bench/bench_load.py's `uvicorn` topology is the shipped one: same server, workers and options."""
    from bench.bench_load import UVICORN_WORKERS, _uvicorn

    shipped = server_arguments(compose["services"]["web"]["command"], "uvicorn")
    command = _uvicorn("uvicorn").command  # only built, never started
    measured = command[command.index("uvicorn"):]

    assert option(shipped, "--workers") == f"${{WEB_WORKERS:-{UVICORN_WORKERS}}}"
    assert option(measured, "--workers") == str(UVICORN_WORKERS)
    for flag in ("--proxy-headers", "--no-access-log"):
        assert (flag in shipped) == (flag in measured)
    assert option(measured, "--lifespan") == option(shipped, "--lifespan")


def test_worker_runs_the_database_task_backend(compose):
    worker = compose["services"]["worker"]
    env = environment(worker)

    assert "db_worker" in worker["command"]
    assert env["TASKS_BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert import_string(env["TASKS_BACKEND"]).__name__ == "DatabaseBackend"
    assert env["DATABASE_URL"] == environment(compose["services"]["web"])["DATABASE_URL"]


def test_elasticsearch_is_single_node_with_bounded_memory(compose):
    elasticsearch = compose["services"]["elasticsearch"]
    env = environment(elasticsearch)
    limit = size_in_bytes(elasticsearch["mem_limit"])

    assert env["discovery.type"] == "single-node"
    assert env["ES_JAVA_OPTS"] == "-Xms512m -Xmx512m"
    # The heap takes at most half the container: Lucene needs the rest as file cache.
    assert 2 * size_in_bytes("512m") <= limit <= size_in_bytes("2g")
    assert size_in_bytes(elasticsearch["memswap_limit"]) == limit, "pas de swap au-delà de la limite"
    assert env["ingest.geoip.downloader.enabled"] == "false"
    assert "ports" not in elasticsearch


def test_elasticsearch_runs_with_security_on_and_the_app_authenticates_with_its_password(compose):
    env = environment(compose["services"]["elasticsearch"])
    required = "${ELASTIC_PASSWORD:?"

    assert env["xpack.security.enabled"] == "true"
    assert env["ELASTIC_PASSWORD"].startswith(required) and "doit être défini" in env["ELASTIC_PASSWORD"]
    for name in ("web", "ws", "worker", "scheduler"):
        url = environment(compose["services"][name])["ELASTICSEARCH_URL"]
        assert url.startswith("http://elastic:" + required), f"{name} ne s'authentifie pas auprès d'Elasticsearch"


def test_the_elasticsearch_url_filled_as_compose_fills_it_is_one_the_settings_accept(compose):
    from search.stores.credentials import Connection, settings_problem

    template = environment(compose["services"]["web"])["ELASTICSEARCH_URL"]
    url = re.sub(r"\$\{ELASTIC_PASSWORD:\?[^}]+\}", "Un-Mot-De-Passe-42", template)
    connection = Connection.from_settings(url)

    assert settings_problem(url) == ""
    assert connection.url == "http://elasticsearch:9200"
    assert connection.basic_auth == ("elastic", "Un-Mot-De-Passe-42")
    assert "Un-Mot-De-Passe-42" not in connection.display_url


def test_the_elasticsearch_health_check_authenticates_without_showing_the_password(compose):
    (kind, command) = compose["services"]["elasticsearch"]["healthcheck"]["test"]

    assert kind == "CMD-SHELL"
    # `$$`: the container's variable, read when the check runs (compose would otherwise put the value here).
    assert "$${ELASTIC_PASSWORD}" in command
    assert re.search(r"printf 'user = \"elastic:%s\"\\n' \"\$\$\{ELASTIC_PASSWORD\}\" \| curl -fsS -K - ", command)
    assert "/_cluster/health" in command and " -u " not in command


@pytest.mark.parametrize("name", sorted(EXPECTED_SERVICES))
def test_every_healthcheck_is_timed(compose, name):
    healthcheck = compose["services"][name]["healthcheck"]

    assert {"interval", "timeout", "retries"} <= set(healthcheck), f"{name} : healthcheck sans cadence"


def test_services_start_once_what_they_need_is_healthy(compose):
    def healthy_dependencies(name: str) -> set[str]:
        depends_on = compose["services"][name].get("depends_on") or {}
        return {dependency for dependency, rule in depends_on.items() if rule.get("condition") == "service_healthy"}

    assert healthy_dependencies("web") == BACKING_SERVICES
    assert healthy_dependencies("ws") == {"web"}
    assert healthy_dependencies("worker") == {"web"}
    assert healthy_dependencies("scheduler") == {"web"}
    assert healthy_dependencies("proxy") == {"web", "ws"}


def test_backing_services_live_on_an_internal_network_without_published_ports(compose):
    networks = compose["networks"]
    internal = {name for name, network in networks.items() if (network or {}).get("internal")}

    assert internal, "aucun réseau interne déclaré"
    for name in BACKING_SERVICES:
        service = compose["services"][name]
        assert set(service["networks"]) <= internal, f"{name} doit rester sur le réseau interne"
        assert "ports" not in service
    assert not set(compose["services"]["proxy"]["networks"]) & internal
    for name in ("web", "ws", "worker"):
        assert set(compose["services"][name]["networks"]) & internal, f"{name} doit joindre les services internes"
        assert set(compose["services"][name]["networks"]) - internal, f"{name} doit pouvoir envoyer des e-mails"


def test_named_volumes_are_declared_and_mounted_files_exist(compose):
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name} monte {source}, absent du dépôt"
            else:
                assert source in declared, f"{name} utilise le volume {source}, non déclaré"


def test_dockerfile_installs_the_lock_and_serves_http_with_uvicorn():
    dockerfile = (ROOT / "Dockerfile").read_text()
    default = json.loads(re.search(r"^CMD (\[.*?\])", dockerfile, flags=re.MULTILINE | re.DOTALL).group(1)
                         .replace("\\\n", ""))

    assert "requirements.lock" in dockerfile
    assert re.search(r"pip install --require-hashes -r requirements\.lock", dockerfile)
    assert "requirements-dev.lock" not in dockerfile.split("COPY requirements.lock")[1].split("\n")[0]
    assert default[:2] == ["uvicorn", "config.asgi:application"] and "--proxy-headers" in default


def _pins(name: str) -> dict[str, str]:
    """Package → version of a lock compiled by `make lock`; every pin must be followed by its hashes."""
    lines = (ROOT / name).read_text().splitlines()
    pins = {}
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        if not line or line.startswith((" ", "#")):
            continue
        package, _sep, version = line.split(";")[0].split(" \\")[0].strip().partition("==")
        assert version and following.strip().startswith("--hash=sha256:"), f"{name} : « {line} » sans empreinte"
        pins.setdefault(package.lower().replace("_", "-"), version)
    return pins


def test_the_locks_pin_every_package_with_hashes_and_keep_dev_tools_out_of_the_runtime_set():
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")

    assert {"django", "wagtail", "daphne", "uvicorn", "django-redis"} <= set(runtime)
    assert not {"pytest", "ruff", "playwright", "websockets", "locust", "import-linter", "setuptools"} & set(runtime)
    assert {"pytest", "locust", "websocket-client", "websockets", "import-linter", "setuptools", "uv"} <= set(dev)
    # elasticsearch.dsl ships with the client: the old alias package is not installed any more.
    assert "elasticsearch-dsl" not in dev
    assert {name: dev.get(name) for name in runtime} == runtime  # the image runs what CI tested


def test_the_scheduler_runs_the_recurring_jobs_and_the_nightly_backup(compose):
    scheduler = compose["services"]["scheduler"]
    env = environment(scheduler)
    internal = {name for name, network in compose["networks"].items() if (network or {}).get("internal")}

    assert scheduler["command"] == ["python", "manage.py", "run_schedule"]
    assert scheduler["healthcheck"]["test"] == ["CMD", "python", "manage.py", "run_schedule", "--check"]
    assert env["BACKUP_DIR"] == "/backups" and "backups:/backups" in scheduler["volumes"]
    # The backup reads the uploaded files, never writes them; the state file lives in the var volume.
    assert "media:/srv/media:ro" in scheduler["volumes"]
    assert "passerelles-var:/var/lib/passerelles" in scheduler["volumes"]
    assert env["DATABASE_URL"] == environment(compose["services"]["web"])["DATABASE_URL"]
    # It queues e-mails for the worker and sends nothing out itself.
    assert set(scheduler["networks"]) <= internal


def test_backups_go_to_a_volume_of_the_web_service(compose):
    header = (ROOT / "docker-compose.yml").read_text()

    assert "backups:/backups" in compose["services"]["web"]["volumes"]
    assert "backups" in compose["volumes"]
    assert "docker compose exec web python manage.py backup /backups" in header
    assert "manage.py restore /backups/" in header


def test_the_image_has_the_postgresql_client_of_the_server_version(compose):
    dockerfile = (ROOT / "Dockerfile").read_text()
    server_major = re.fullmatch(r"postgres:(\d+)(\.\d+)*(-\S+)?", compose["services"]["postgres"]["image"]).group(1)

    # pg_dump refuses to dump a server newer than itself.
    assert f"postgresql-client-{server_major}" in dockerfile
    assert re.search(r"mkdir -p [^\n]*/backups", dockerfile) and re.search(r"chown [^\n]*/backups", dockerfile)


def test_nginx_passes_websockets_on_with_upgrade_headers_and_long_timeouts(nginx):
    websocket = directives(block(nginx, "location /ws/"))
    mapping = directives(block(nginx, "map $http_upgrade $connection_upgrade"))

    # Every route is under /ws/, but the last catch-all that refuses unknown addresses (chat/PROTOCOL.md).
    *routes, catch_all = websocket_urlpatterns
    assert all(str(pattern.pattern).startswith("ws/") for pattern in routes)
    assert str(catch_all.pattern) == ""
    assert {"proxy_pass http://passerelles_ws", "proxy_http_version 1.1", "proxy_set_header Upgrade $http_upgrade",
            "proxy_set_header Connection $connection_upgrade", "proxy_set_header X-Forwarded-For $remote_addr",
            "proxy_set_header Host $host"} <= websocket
    assert {"default upgrade", "'' close"} <= mapping
    assert "proxy_read_timeout 1h" in websocket and "proxy_send_timeout 1h" in websocket


def test_nginx_caches_hashed_static_files_for_a_year_and_compresses_static_files_only(nginx):
    static = block(nginx, "location /static/")
    pattern = re.search(r'location ~ "([^"]+)"', static).group(1)
    hashed = directives(block(static, f'location ~ "{pattern}"'))

    assert "root /srv" in directives(static) and "gzip on" in directives(static)
    assert any(line.startswith("gzip_types") and "text/css" in line and "application/javascript" in line
               for line in directives(static))
    assert 'add_header Cache-Control "public, max-age=31536000, immutable"' in hashed
    assert "expires off" in hashed
    # Names as ManifestStaticFilesStorage writes them (12 hex digits of the content's MD5), not the copies
    # under plain names that collectstatic keeps beside them.
    assert re.search(pattern, "/static/css/site.3f2a9c1b7e40.css")
    assert re.search(pattern, "/static/js/machina.min.0123456789ab.js")
    assert not re.search(pattern, "/static/js/machina.min.js") and not re.search(pattern, "/static/css/site.css")
    # Never for pages: compressed HTML with secrets in it is open to BREACH.
    assert len(re.findall(r"^\s*gzip on;", nginx, flags=re.MULTILINE)) == 1


def test_nginx_sends_websockets_to_daphne_and_the_rest_to_uvicorn(nginx, compose):
    upstreams = {name: directives(block(nginx, f"upstream {name}")) for name in ("passerelles_web", "passerelles_ws")}

    assert upstreams == {"passerelles_web": {"server web:8000"}, "passerelles_ws": {"server ws:8000"}}
    assert "proxy_pass http://passerelles_web" in directives(block(nginx, "location /"))
    assert "proxy_pass http://passerelles_ws" in directives(block(nginx, "location /ws/"))
    assert {"web", "ws"} <= set(compose["services"])
