"""Directory pages at `seed_demo --scale 20`: server time (p50/p95) and SQL queries per request.

Runs on its own SQLite file, var/bench/directory.sqlite3, never on the development database. The seeded
file is kept between runs and reused while its marker says the same scale and the same seed code.
"""

from __future__ import annotations

import math
import os
import re
from functools import partial

from bench.framework import (
    BENCH_DIR,
    ROOT,
    Report,
    count_queries,
    get_ok,
    measure,
    prepare_sqlite_seed,
    production_like_environment,
    register,
    seed_fingerprint,
    timings_summary,
)

SCALE = 20
DEMO_USERNAME = "directrice"
DEMO_PASSWORD = "demo-passerelles"
WARMUP = 20
DATABASE = BENCH_DIR / "directory.sqlite3"
MARKER = BENCH_DIR / "directory.seeded.json"
# The code whose output lives in the seeded file: a change in it means seeding again.
SEED_SOURCES = [
    ROOT / "demo" / "directory.py",
    ROOT / "directory" / "reference.py",
    ROOT / "demo" / "management" / "commands" / "seed_demo.py",
]


def environment() -> dict[str, str]:
    return production_like_environment(DATABASE_URL=f"sqlite:///{DATABASE}")


def _seed_fingerprint() -> dict:
    return seed_fingerprint(SEED_SOURCES, SCALE)


def prepare_database() -> bool:
    return prepare_sqlite_seed(DATABASE, MARKER, _seed_fingerprint(), SCALE)



def _last_page(client, list_url: str, visible: int) -> int:
    """The last page, read from the pagination links of page 1 (computed if the page shows none)."""
    from django.conf import settings

    html = get_ok(client, list_url).content.decode()
    pages = [int(number) for number in re.findall(r"[?&](?:amp;)?page=(\d+)", html)]
    if pages:
        return max(pages)
    return max(1, math.ceil(visible / settings.DIRECTORY_PAGE_SIZE))



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
        durations = measure(lambda url=url: get_ok(client, url), n=requests, warmup=WARMUP)
        rows.append({"name": name, "url": url, **timings_summary(durations),
                     "queries": count_queries(partial(get_ok, client, url))})

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
