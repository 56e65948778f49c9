"""Directory pages at `seed_demo --scale 20`: server time (p50/p95) and SQL queries per request.

Runs on its own SQLite file, var/bench/directory.sqlite3, never on the development database. The seeded
file is kept between runs and reused while its marker says the same scale and the same seed code.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

from bench.framework import ROOT, Report, measure, register, seed_fingerprint, timings_summary

SCALE = 20
DEMO_USERNAME = "directrice"
DEMO_PASSWORD = "demo-passerelles"
WARMUP = 20
BENCH_DIR = ROOT / "var" / "bench"
DATABASE = BENCH_DIR / "directory.sqlite3"
MARKER = BENCH_DIR / "directory.seeded.json"
# The code whose output lives in the seeded file: a change in it means seeding again.
SEED_SOURCES = [
    ROOT / "directory" / "demo.py",
    ROOT / "directory" / "reference.py",
    ROOT / "directory" / "management" / "commands" / "seed_demo.py",
]


def environment() -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{DATABASE}",
        "PASSERELLES_VAR_DIR": str(BENCH_DIR),
        # Production-like request handling: no DEBUG (cached templates, no query log).
        "DEBUG": "0",
        "SECRET_KEY": "benchmark-only-not-a-secret",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
        # Thousands of generated people: a slow password hash would only measure PBKDF2.
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
        print(f"seed_demo --scale {SCALE} (quelques minutes la première fois)…", flush=True)
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


def _last_page(client, list_url: str, visible: int) -> int:
    """The last page, read from the pagination links of page 1 (computed if the page shows none)."""
    from django.conf import settings

    html = _get(client, list_url).content.decode()
    pages = [int(number) for number in re.findall(r"[?&](?:amp;)?page=(\d+)", html)]
    if pages:
        return max(pages)
    return max(1, math.ceil(visible / settings.DIRECTORY_PAGE_SIZE))


def _count_queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as captured:
            _get(client, url)
        counts.append(len(captured.captured_queries))
    return max(counts)


@register("directory", "Annuaire : liste et fiche association", environment=environment)
def directory() -> Report:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from directory.models import Association

    reused = prepare_database()
    requests = int(os.environ.get("PASSERELLES_BENCH_REQUESTS", "200"))

    user = get_user_model().objects.select_related("association__region").get(username=DEMO_USERNAME)
    client = Client()
    if not client.login(username=DEMO_USERNAME, password=DEMO_PASSWORD):
        raise RuntimeError(f"Connexion impossible pour {DEMO_USERNAME}")

    list_url = reverse("directory:association-list")
    own = user.association
    members = Association.objects.filter(status=Association.Status.MEMBER)
    last_page = _last_page(client, list_url, members.count())
    deep_page = max(1, last_page - 1) if last_page > 2 else last_page
    pages = [
        ("annuaire, page 1", list_url),
        (f"annuaire, région {own.region.slug}", f"{list_url}?region={own.region.slug}"),
        (f"annuaire, page {deep_page}/{last_page}", f"{list_url}?page={deep_page}"),
        ("fiche association", reverse("directory:association-detail", kwargs={"slug": own.slug})),
    ]

    rows = []
    for name, url in pages:
        print(f"  {name} : {url}", flush=True)
        durations = measure(lambda url=url: _get(client, url), n=requests, warmup=WARMUP)
        rows.append({"name": name, "url": url, **timings_summary(durations), "queries": _count_queries(client, url)})

    data = {
        "scale": SCALE,
        "associations": Association.objects.count(),
        "member_associations": members.count(),
        "people": get_user_model().objects.count(),
        "list_pages": last_page,
        "database_reused": reused,
    }
    parameters = {"requests_per_page": requests, "warmup_requests": WARMUP, "client": "django.test.Client",
                  "user": DEMO_USERNAME, "debug": False}
    return Report(rows=rows, data=data, parameters=parameters)
