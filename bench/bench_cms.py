"""CMS pages at `seed_demo --scale 20`: public landing, member dashboard, a guide, the resources index.

Server time (p50/p95) and SQL queries per request, on its own SQLite file, var/bench/cms.sqlite3, with
the conventions of bench_directory (kept between runs while its marker says the same scale and the same
seed code). Targets (issue 4): dashboard p95 under 150 ms, guide page p95 under 80 ms, on SQLite.
"""

from __future__ import annotations

import os
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
MEMBER_USERNAME = "intervenant"
DIRECTOR_USERNAME = "directrice"
DEMO_PASSWORD = "demo-passerelles"
WARMUP = 20
GUIDE_SLUG = "guide-du-financement"
DATABASE = BENCH_DIR / "cms.sqlite3"
MARKER = BENCH_DIR / "cms.seeded.json"
TARGETS_MS = {"tableau de bord": 150.0, "guide": 80.0}
# The code whose output lives in the seeded file: a change in it means seeding again.
SEED_SOURCES = [
    ROOT / "demo" / "directory.py",
    ROOT / "directory" / "reference.py",
    ROOT / "demo" / "management" / "commands" / "seed_demo.py",
    ROOT / "demo" / "forum.py",
    ROOT / "demo" / "cms.py",
    ROOT / "demo" / "cms_files.py",
    ROOT / "cms" / "setup.py",
]


def environment() -> dict[str, str]:
    return production_like_environment(DATABASE_URL=f"sqlite:///{DATABASE}", MEDIA_ROOT=str(BENCH_DIR / "cms-media"))


def _seed_fingerprint() -> dict:
    return seed_fingerprint(SEED_SOURCES, SCALE)


def prepare_database() -> bool:
    return prepare_sqlite_seed(DATABASE, MARKER, _seed_fingerprint(), SCALE)



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
        durations = measure(lambda client=client, url=url: get_ok(client, url), n=requests, warmup=WARMUP)
        row = {"name": name, "url": url, **timings_summary(durations),
               "queries": count_queries(partial(get_ok, client, url))}
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
