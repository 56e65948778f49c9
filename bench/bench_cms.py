"""CMS pages at `seed_demo --scale 20`: public landing, member dashboard, a guide, the resources index.

Server time (p50/p95) and SQL queries per request, on its own SQLite file, var/bench/cms.sqlite3, with
the conventions of bench_directory (kept between runs while its marker says the same scale and the same
seed code). Targets (issue 4): dashboard p95 under 150 ms, guide page p95 under 80 ms, on SQLite.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bench.framework import ROOT, Report, measure, register, seed_fingerprint, timings_summary

SCALE = 20
MEMBER_USERNAME = "intervenant"
DIRECTOR_USERNAME = "directrice"
DEMO_PASSWORD = "demo-passerelles"
WARMUP = 20
GUIDE_SLUG = "guide-du-financement"
BENCH_DIR = ROOT / "var" / "bench"
DATABASE = BENCH_DIR / "cms.sqlite3"
MARKER = BENCH_DIR / "cms.seeded.json"
TARGETS_MS = {"tableau de bord": 150.0, "guide": 80.0}
# The code whose output lives in the seeded file: a change in it means seeding again.
SEED_SOURCES = [
    ROOT / "directory" / "demo.py",
    ROOT / "directory" / "reference.py",
    ROOT / "directory" / "management" / "commands" / "seed_demo.py",
    ROOT / "forum" / "demo.py",
    ROOT / "cms" / "demo.py",
    ROOT / "cms" / "demo_files.py",
    ROOT / "cms" / "setup.py",
]


def environment() -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{DATABASE}",
        "PASSERELLES_VAR_DIR": str(BENCH_DIR),
        "MEDIA_ROOT": str(BENCH_DIR / "cms-media"),
        # Production-like request handling: no DEBUG (cached templates, no query log).
        "DEBUG": "0",
        "SECRET_KEY": "benchmark-only-not-a-secret",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
        "PASSERELLES_FAST_PASSWORD_HASHER": "1",
    }


def _seed_fingerprint() -> dict:
    return seed_fingerprint(SEED_SOURCES, SCALE)


def prepare_database() -> bool:
    """Migrate, and seed unless the marker shows this very seed already ran. True when reused."""
    from django.core.management import call_command
    from django.db import connection

    fingerprint = _seed_fingerprint()
    reused = DATABASE.exists() and MARKER.exists() and json.loads(MARKER.read_text()) == fingerprint
    if not reused:
        connection.close()
        for path in (DATABASE, MARKER, Path(f"{DATABASE}-wal"), Path(f"{DATABASE}-shm")):
            path.unlink(missing_ok=True)
    print("Migrations…", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    if not reused:
        print(f"seed_demo --scale {SCALE} (plusieurs minutes la première fois)…", flush=True)
        call_command("seed_demo", scale=SCALE)
        MARKER.write_text(json.dumps(fingerprint) + "\n")
    else:
        print(f"Base de mesure réutilisée ({DATABASE.relative_to(ROOT)}, échelle {SCALE}).", flush=True)
    return reused


def _get(client, url: str):
    response = client.get(url, secure=True)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} a répondu {response.status_code}")
    return response


def _count_queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as captured:
            _get(client, url)
        counts.append(len(captured.captured_queries))
    return max(counts)


def _client(username: str | None):
    from django.test import Client

    client = Client()
    if username and not client.login(username=username, password=DEMO_PASSWORD):
        raise RuntimeError(f"Connexion impossible pour {username}")
    return client


@register("cms", "Ressources : accueil public, tableau de bord, guide", environment=environment)
def cms() -> Report:
    from cms.models import EventPage, GuidePage, NewsPage

    reused = prepare_database()
    requests = int(os.environ.get("PASSERELLES_BENCH_REQUESTS", "200"))
    guide = GuidePage.objects.get(slug=GUIDE_SLUG)
    anonymous, member, director = _client(None), _client(MEMBER_USERNAME), _client(DIRECTOR_USERNAME)
    pages = [
        ("accueil public (anonyme)", anonymous, "/"),
        (f"tableau de bord ({MEMBER_USERNAME})", member, "/"),
        (f"tableau de bord ({DIRECTOR_USERNAME})", director, "/"),
        (f"guide ({MEMBER_USERNAME})", member, guide.url),
        (f"index des ressources ({MEMBER_USERNAME})", member, "/ressources/"),
    ]
    rows = []
    for name, client, url in pages:
        print(f"  {name} : {url}", flush=True)
        durations = measure(lambda client=client, url=url: _get(client, url), n=requests, warmup=WARMUP)
        row = {"name": name, "url": url, **timings_summary(durations), "queries": _count_queries(client, url)}
        target = next((ms for prefix, ms in TARGETS_MS.items() if name.startswith(prefix)), None)
        if target is not None:
            row["target_p95_ms"] = target
            row["meets_target"] = row["p95_ms"] < target
        rows.append(row)

    data = {
        "scale": SCALE,
        "guides": GuidePage.objects.live().count(),
        "events": EventPage.objects.live().count(),
        "news": NewsPage.objects.live().count(),
        "database_reused": reused,
    }
    parameters = {"requests_per_page": requests, "warmup_requests": WARMUP, "client": "django.test.Client",
                  "users": [MEMBER_USERNAME, DIRECTOR_USERNAME], "debug": False, "targets_p95_ms": TARGETS_MS}
    return Report(rows=rows, data=data, parameters=parameters)
