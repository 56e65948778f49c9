"""A small benchmark framework: modules `bench/bench_*.py` register benchmarks, `bench/run.py` runs them.

A benchmark declares the environment it needs (read by config/settings before Django starts, e.g. its
own database) and a function returning a `Report`: rows of measurements plus the size of the data they
were measured on. The runner adds the machine's description and writes bench/results/<name>.json.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
import secrets
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
# The benchmarks' own databases, seed markers and server logs (never committed).
BENCH_DIR = ROOT / "var" / "bench"
# Settings refuse a weak key with DEBUG off: a fresh one per run (set in os.environ by bench/run.py, so the
# servers a benchmark starts share it).
BENCH_SECRET_KEY = secrets.token_urlsafe(50)


@dataclass
class Report:
    rows: list[dict]
    data: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)


@dataclass
class Benchmark:
    name: str
    title: str
    run: Callable[[], Report]
    environment: Callable[[], dict[str, str]] = dict


REGISTRY: dict[str, Benchmark] = {}


def register(name: str, title: str, environment: Callable[[], dict[str, str]] = dict):
    """Decorator: `@register("directory", "Annuaire", environment=...)` on a function returning a Report."""

    def decorate(function: Callable[[], Report]) -> Callable[[], Report]:
        if name in REGISTRY:
            raise ValueError(f"Benchmark déjà enregistré : {name}")
        REGISTRY[name] = Benchmark(name=name, title=title, run=function, environment=environment)
        return function

    return decorate


def seed_fingerprint(sources, scale: int) -> dict:
    """What a seeded benchmark database was built from: the seeding code's bytes and the scale.

    A benchmark re-seeds its database when this changes (and reuses it otherwise)."""
    digest = hashlib.sha256()
    for path in sources:
        if path.exists():
            digest.update(path.read_bytes())
    return {"scale": scale, "seed_sources_sha256": digest.hexdigest()}


def timings_summary(durations_s: list[float]) -> dict:
    """p50, p95, mean, min and max in milliseconds, rounded to the microsecond."""
    ms = sorted(d * 1000 for d in durations_s)
    p95 = statistics.quantiles(ms, n=100, method="inclusive")[94] if len(ms) > 1 else ms[0]
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 3),
        "p95_ms": round(p95, 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "min_ms": round(ms[0], 3),
        "max_ms": round(ms[-1], 3),
    }


def measure(function: Callable[[], object], *, n: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        function()
    durations = []
    for _ in range(n):
        start = time.perf_counter()
        function()
        durations.append(time.perf_counter() - start)
    return durations


def production_like_environment(*, allowed_hosts: str = "testserver", **extra: str) -> dict[str, str]:
    """The settings of a benchmark's Django, as production handles requests: DEBUG off (cached templates, no
    query log), a throwaway secret key, no TLS redirect (requests say they are secure). Passwords are
    hashed cheaply: thousands of generated people and logins would otherwise only measure PBKDF2."""
    return {
        "PASSERELLES_VAR_DIR": str(BENCH_DIR),
        "DEBUG": "0",
        "SECRET_KEY": BENCH_SECRET_KEY,
        "ALLOWED_HOSTS": allowed_hosts,
        "SECURE_SSL_REDIRECT": "0",
        "PASSERELLES_FAST_PASSWORD_HASHER": "1",
        # The measured database is demo data (seed_demo), which DEBUG off would otherwise refuse.
        "PASSERELLES_DEMO_SERVER": "1",
        **extra,
    }


def prepare_sqlite_seed(database: Path, marker: Path, fingerprint: dict, scale: int) -> bool:
    """Migrate the benchmark's SQLite file, and seed it (`seed_demo --scale`) unless `marker` shows this very
    seed already ran there. True when reused."""
    import json

    from django.core.management import call_command
    from django.db import connection

    reused = database.exists() and marker.exists() and json.loads(marker.read_text()) == fingerprint
    if not reused:
        connection.close()
        for path in (database, marker, Path(f"{database}-wal"), Path(f"{database}-shm")):
            path.unlink(missing_ok=True)
    print("Migrations…", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    if not reused:
        print(f"seed_demo --scale {scale} (plusieurs minutes la première fois)…", flush=True)
        call_command("seed_demo", scale=scale)
        marker.write_text(json.dumps(fingerprint) + "\n")
    else:
        print(f"Base de mesure réutilisée ({database.relative_to(ROOT)}, échelle {scale}).", flush=True)
    return reused


def get_ok(client, url: str):
    """GET `url` as a secure request (behind the TLS proxy); anything but 200 stops the benchmark."""
    response = client.get(url, secure=True)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} a répondu {response.status_code}")
    return response


def count_queries(action: Callable[[], object], *, repeats: int = 3) -> int:
    """The most SQL queries `action` made over `repeats` calls (the first may fill caches)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as captured:
            action()
        counts.append(len(captured.captured_queries))
    return max(counts)


# --- seeded databases -----------------------------------------------------------------------------


def seed_marker(bench: str) -> Path:
    """The file where benchmark `bench` notes what its configured database was seeded from."""
    from django.db import connection

    if connection.vendor == "sqlite":
        return BENCH_DIR / f"{bench}.seeded.json"
    settings = connection.settings_dict
    key = f"{connection.vendor}-{settings.get('HOST') or 'local'}-{settings.get('PORT') or ''}-{settings['NAME']}"
    return BENCH_DIR / f"{bench}.seeded.{hashlib.sha1(key.encode()).hexdigest()[:12]}.json"


def reset_server_database(*, required_word: str, create_only: bool) -> None:
    """Create (and, unless create_only, first drop) the configured PostgreSQL database. Only a database
    whose name contains `required_word` (a benchmark's own): never one that holds anything else."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if required_word not in name:
        raise RuntimeError(f"Base « {name} » : ce banc n'écrit que dans une base dont le nom contient "
                           f"« {required_word} ».")
    connection.close()
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cursor.fetchone() is not None
        quoted = connection.ops.quote_name(name)
        if exists and not create_only:
            cursor.execute(f"DROP DATABASE {quoted} WITH (FORCE)")
            exists = False
        if not exists:
            cursor.execute(f"CREATE DATABASE {quoted}")


# --- machine --------------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "inconnu"


def _memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip()


def machine_info() -> dict:
    """Where the numbers come from. Call after Django is set up (database vendor and version)."""
    import django
    from django.db import connection

    commit = _git("rev-parse", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    with connection.cursor():  # connects, so that the server version is known
        if connection.vendor == "sqlite":
            database_version = connection.Database.sqlite_version
        else:
            database_version = str(getattr(connection, "pg_version", "") or "")
    return {
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpu_cores": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "database_vendor": connection.vendor,
        "database_version": database_version,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": commit,
        "git_dirty": dirty,
    }


# --- machine load -----------------------------------------------------------------------------------

# A benchmark starts only on a quiet machine: the 1-minute load average at or under the number of cores.
# Right after another benchmark (or a test run) the average is still high for a minute or so: wait for it.
QUIET_WAIT_SECONDS = 120
QUIET_POLL_SECONDS = 5
# PASSERELLES_BENCH_ALLOW_BUSY=1 runs and writes anyway, the result marked "busy_machine": never by accident.
ALLOW_BUSY_VARIABLE = "PASSERELLES_BENCH_ALLOW_BUSY"


def machine_load() -> dict:
    """The load averages (1, 5, 15 minutes) and the number of cores they compare with."""
    one, five, fifteen = os.getloadavg()
    return {"load_1m": round(one, 2), "load_5m": round(five, 2), "load_15m": round(fifteen, 2),
            "cpu_cores": os.cpu_count() or 1}


def busy_reason(load: dict) -> str:
    """Why the machine is too busy for a figure to mean anything (French), or "" when it is quiet."""
    if load["load_1m"] > load["cpu_cores"]:
        return (f"machine occupée : charge moyenne sur 1 minute {load['load_1m']} pour {load['cpu_cores']} "
                "cœurs (un autre programme tourne ; les mesures ne diraient rien du code)")
    return ""


def wait_until_quiet(*, timeout: float = QUIET_WAIT_SECONDS, poll: float = QUIET_POLL_SECONDS,
                     read: Callable[[], dict] = machine_load,
                     sleep: Callable[[float], None] = time.sleep) -> tuple[dict, str]:
    """Wait up to `timeout` seconds for the load to fall to the core count; returns the last reading and
    the reason it is still busy ("" once quiet)."""
    waited = 0.0
    while True:
        load = read()
        reason = busy_reason(load)
        if not reason or waited >= timeout:
            return load, reason
        sleep(poll)
        waited += poll


def busy_allowed() -> bool:
    return os.environ.get(ALLOW_BUSY_VARIABLE, "") == "1"


# --- output ---------------------------------------------------------------------------------------

TABLE_COLUMNS = [("name", "mesure"), ("n", "n"), ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms"),
                 ("mean_ms", "moyenne ms"), ("queries", "requêtes SQL")]


def format_table(rows: list[dict]) -> str:
    header = [label for _key, label in TABLE_COLUMNS]
    body = [[str(row.get(key, "")) for key, _label in TABLE_COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(cells))

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(cells) for cells in body)])
