"""Server CPU per page (issue 18, item 1): the pages every member opens, at demo scale and at scale 20.

What is measured, with Django's test client in this process and DEBUG off (production's settings: cached
templates, no query log): the CPU time of this thread (`time.thread_time()`) per request, median and p90
over PASSERELLES_BENCH_REQUESTS requests (default 200) after WARMUP untimed ones, and the SQL queries of
one request, for:

- the login page, anonymous: the reference (the least a page of the site costs);
- the dashboard (`/`) as `directrice` (director of a member association) and as `equipe` (federal staff);
- the forum index, the busiest forum she may read and its busiest topic (page 1);
- the directory's association list (page 1).

Each page is measured on the demo data (`seed_demo`, scale 1) and on `seed_demo --scale 20`; each row
gives its target and whether it is met ("atteint" / "non atteint"): a target in milliseconds at demo
scale (TARGETS_MS), and at scale 20 no more than MAX_SCALE_RATIO times the demo figure with the same
number of queries (a page whose queries grow with the data would not hold at the federation's size).

A pyinstrument profile of PROFILE_REQUESTS requests per page and scale is summarised (the top frames by
own time and by total time, as text) in the JSON data and printed.

Databases: by default two SQLite files, var/bench/pages-1.sqlite3 and var/bench/pages-20.sqlite3, seeded
once and kept while their marker says the same scale and seed code (the scale-20 seed takes minutes). With
DATABASE_URL set (its database name must contain "bench"), two PostgreSQL databases named after it with
the suffixes _s1 and _s20:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/passerelles_bench make bench BENCH_ARGS=pages
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bench.framework import (
    BENCH_DIR,
    ROOT,
    Report,
    count_queries,
    production_like_environment,
    register,
    reset_server_database,
    seed_fingerprint,
)

SCALES = (1, 20)
DIRECTOR = "directrice"
STAFF = "equipe"
DEMO_PASSWORD = "demo-passerelles"
WARMUP = 20
PROFILE_REQUESTS = 30
PROFILE_TOP = 10
# Targets at demo scale, server CPU median per request (ms). Pages without one are measured for reference.
# Issue 18: dashboard, forum index, forum page and topic page at most 15 ms; directory list 20 ms. The
# login page and the dashboard with every panel rendered again are references (no target).
TARGETS_MS = {"dashboard-director": 15.0, "dashboard-staff": 15.0, "forum-index": 15.0, "forum-forum": 15.0,
              "forum-topic": 15.0, "directory-list": 20.0}
# At scale 20 a page may cost at most this many times its demo figure (and must make the same queries).
MAX_SCALE_RATIO = 1.5
# What the seeded databases are made of: a change in any of these files means seeding again.
SEED_SOURCES = sorted((ROOT / "demo").glob("*.py")) + [
    ROOT / "demo" / "management" / "commands" / "seed_demo.py",
    ROOT / "directory" / "reference.py",
    ROOT / "forum" / "structure.py",
]


def scales() -> tuple[int, ...]:
    """The scales measured: SCALES, or only the demo's with PASSERELLES_BENCH_PAGES_DEMO_ONLY=1 (while
    working on a page; such a run says nothing of scale 20)."""
    return SCALES[:1] if os.environ.get("PASSERELLES_BENCH_PAGES_DEMO_ONLY") == "1" else SCALES


def environment() -> dict[str, str]:
    env = production_like_environment()
    env.update(dict.fromkeys(("LOGIN_RATE_LIMIT", "LOGIN_ADDRESS_RATE_LIMIT"), "0"))
    if not os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = f"sqlite:///{database_name(1, base=None)}"
    return env


# --- databases ------------------------------------------------------------------------------------


def database_name(scale: int, *, base: str | None) -> str:
    """The database of `scale`: a SQLite file of the bench's own, or `base` (PostgreSQL) with a suffix."""
    if base is None:
        return str(BENCH_DIR / f"pages-{scale}.sqlite3")
    return f"{base}_s{scale}"


def _marker(scale: int, vendor: str, name: str) -> Path:
    if vendor == "sqlite":
        return BENCH_DIR / f"pages-{scale}.seeded.json"
    import hashlib

    return BENCH_DIR / f"pages-{scale}.seeded.{hashlib.sha1(name.encode()).hexdigest()[:12]}.json"


def use_database(name: str) -> None:
    """Point the default connection at database `name` (closing the current one, and its pool)."""
    from django.db import connection, connections

    connection.close()
    close_pool = getattr(connection, "close_pool", None)
    if close_pool is not None:
        close_pool()
    connections.settings["default"]["NAME"] = name
    connection.settings_dict["NAME"] = name


def prepare_scale(scale: int, base: str | None) -> dict:
    """Migrate and, unless already done with this seed code, seed `scale` in its database.

    Returns what was done: whether the database was reused and how long seeding took."""
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection

    from forum import notifications

    name = database_name(scale, base=base)
    fingerprint = seed_fingerprint(SEED_SOURCES, scale)
    marker = _marker(scale, connection.vendor, name)
    same_seed = marker.exists() and json.loads(marker.read_text()) == fingerprint
    if connection.vendor == "sqlite":
        use_database(name)
        if not (same_seed and Path(name).exists()):
            for path in (Path(name), marker, Path(f"{name}-wal"), Path(f"{name}-shm"), Path(f"{name}-journal")):
                path.unlink(missing_ok=True)
            same_seed = False
    else:
        use_database(name)
        reset_server_database(required_word="bench", create_only=same_seed)
    call_command("migrate", interactive=False, verbosity=0)
    cache.clear()
    seed_seconds = None
    if not same_seed:
        print(f"seed_demo --scale {scale}…", flush=True)
        start = time.perf_counter()
        with notifications.muted():
            call_command("seed_demo", scale=scale, verbosity=0)
        seed_seconds = round(time.perf_counter() - start, 1)
        print(f"  semé en {seed_seconds} s", flush=True)
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps(fingerprint) + "\n")
    cache.clear()
    return {"database_reused": same_seed, "seed_seconds": seed_seconds}


# --- measures -------------------------------------------------------------------------------------


def cpu_summary(durations_s: list[float]) -> dict:
    """Median and p90 of CPU durations, in milliseconds."""
    ms = sorted(d * 1000 for d in durations_s)
    p90 = statistics.quantiles(ms, n=10, method="inclusive")[8] if len(ms) > 1 else ms[0]
    return {"n": len(ms), "cpu_p50_ms": round(statistics.median(ms), 3), "cpu_p90_ms": round(p90, 3)}


def measure_cpu(action: Callable[[], object], *, n: int, warmup: int) -> list[float]:
    """This thread's CPU time for each of `n` calls of `action`, after `warmup` calls (forget_fragments() is
    timed with its request in the cold rows: a few cache writes, nothing next to a page)."""
    for _ in range(warmup):
        action()
    durations = []
    for _ in range(n):
        start = time.thread_time()
        action()
        durations.append(time.thread_time() - start)
    return durations


def verdict(row: dict, demo_row: dict | None) -> dict:
    """The row's target and whether it is met: a time at demo scale, a ratio (and the same queries) at
    scale 20."""
    if demo_row is None:
        target = TARGETS_MS.get(row["page"])
        if target is None:
            return {"target": "référence", "met": None, "status": "—"}
        met = row["cpu_p50_ms"] <= target
        return {"target": f"≤ {target:g} ms", "met": met, "status": "atteint" if met else "non atteint"}
    ratio = round(row["cpu_p50_ms"] / demo_row["cpu_p50_ms"], 2) if demo_row["cpu_p50_ms"] else None
    met = ratio is not None and ratio <= MAX_SCALE_RATIO and row["queries"] == demo_row["queries"]
    return {"ratio_to_demo": ratio, "target": f"≤ {MAX_SCALE_RATIO:g} × démo, mêmes requêtes SQL", "met": met,
            "status": "atteint" if met else "non atteint"}


def profile_summary(action: Callable[[], object], *, n: int, top: int = PROFILE_TOP) -> dict:
    """pyinstrument over `n` calls of `action`: the `top` frames by own time (any code), and the `top`
    functions of the project (not the bench, not libraries, not the middlewares' `__call__`, which hold
    the whole request) by total time, each as a share of the
    requests' time (the profiler's own cost makes absolute times meaningless), as lines of text."""
    from pyinstrument import Profiler
    from pyinstrument.stack_sampler import get_stack_sampler

    # Samples on this thread's CPU clock, like the measures: time spent waiting for the machine (other
    # processes, a database server) is not counted.
    sampler = get_stack_sampler()
    sampler.timer_func = time.thread_time
    profiler = Profiler(interval=0.001)
    try:
        profiler.start()
        for _ in range(n):
            action()
        profiler.stop()
    finally:
        sampler.timer_func = None
    root = profiler.last_session.root_frame()
    own: dict[str, float] = {}
    total: dict[str, float] = {}

    def walk(frame, open_ids: frozenset):
        if frame.is_synthetic:  # pyinstrument's "[self]" leaves: counted in their parent's total_self_time
            return
        ident = f"{frame.function} ({_short(frame.file_path)}:{frame.line_no})"
        own[ident] = own.get(ident, 0.0) + frame.total_self_time
        if _is_project(frame.file_path) and frame.function != "__call__" and ident not in open_ids:
            total[ident] = total.get(ident, 0.0) + frame.time
        for child in frame.children:
            walk(child, open_ids | {ident})

    whole = root.time if root is not None else 0.0
    if root is not None:
        walk(root, frozenset())

    def lines(values: dict[str, float]) -> list[str]:
        ranked = sorted(values.items(), key=lambda item: -item[1])[:top]
        return [f"{100 * seconds / whole:5.1f} %  {ident}" for ident, seconds in ranked] if whole else []

    return {"requests": n, "by_own_time": lines(own), "by_total_time": lines(total)}


def _is_project(path: str | None) -> bool:
    return bool(path) and path.startswith(str(ROOT) + "/") and "site-packages" not in path \
        and not path.startswith(str(ROOT / "bench") + "/")


def _short(path: str | None) -> str:
    if not path:
        return "?"
    for marker in ("site-packages/", str(ROOT) + "/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def forget_fragments() -> None:
    """Make every cached panel of the dashboard and the list new, as a change of their content would."""
    from directory import content_versions, fragments

    fragments.content_changed(content_versions.REFERENCE_SCOPE, content_versions.ASSOCIATIONS_SCOPE,
                              content_versions.DASHBOARD_FORUM, content_versions.DASHBOARD_CMS,
                              content_versions.DASHBOARD_PARRAINAGE)


# Rows measured with forget_fragments() (untimed) before each request: what a panel costs when rendered
# again, the worst case of a page served from the cache.
COLD_PAGES = {"dashboard-director-cold"}


def _pages(director, staff) -> list[tuple[str, str, str, object]]:
    """(key, label, url, client) of the measured pages, the clients logged in."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from machina.apps.forum_conversation.models import Topic

    from bench.bench_forum import busiest_forum

    anonymous = Client()
    forum = busiest_forum(get_user_model().objects.get(username=DIRECTOR))
    topic = Topic.objects.filter(forum=forum, approved=True).order_by("-posts_count", "pk").first()
    topic_url = reverse("forum_conversation:topic", kwargs={
        "forum_slug": forum.slug, "forum_pk": forum.pk, "slug": topic.slug, "pk": topic.pk})
    return [
        ("login", "connexion (anonyme, référence)", reverse("login"), anonymous),
        ("dashboard-director", "tableau de bord (directrice)", "/", director),
        ("dashboard-staff", "tableau de bord (équipe fédérale)", "/", staff),
        ("dashboard-director-cold", "tableau de bord (directrice), panneaux à refaire", "/", director),
        ("forum-index", "forum : index", reverse("forum:index"), director),
        ("forum-forum", "forum : un forum (page 1)", reverse("forum:forum", kwargs={"slug": forum.slug,
                                                                                  "pk": forum.pk}), director),
        ("forum-topic", "forum : un sujet (page 1)", topic_url, director),
        ("directory-list", "annuaire : liste (page 1)", reverse("directory:association-list"), director),
    ]


def _login(username: str):
    from django.test import Client

    client = Client()
    if not client.login(username=username, password=DEMO_PASSWORD):
        raise RuntimeError(f"Connexion impossible pour {username}")
    return client


def _get(client, url: str, label: str):
    response = client.get(url, secure=True)
    if response.status_code != 200:
        raise RuntimeError(f"{label} ({url}) a répondu {response.status_code}")
    return response


def measure_scale(scale: int, requests: int) -> tuple[list[dict], dict]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from machina.apps.forum_conversation.models import Post, Topic

    from directory.models import Association

    director, staff = _login(DIRECTOR), _login(STAFF)
    rows, profiles = [], {}
    for key, label, url, client in _pages(director, staff):
        print(f"  échelle {scale} : {label} {url}", flush=True)

        def get(client=client, url=url, label=label, cold=key in COLD_PAGES):
            if cold:
                forget_fragments()
            return _get(client, url, label)

        durations = measure_cpu(get, n=requests, warmup=WARMUP)
        row = {"name": f"{label}, échelle {scale}", "page": key, "scale": scale, "url": url,
               **cpu_summary(durations), "queries": count_queries(get)}
        rows.append(row)
        print(f"    CPU p50 {row['cpu_p50_ms']:.2f} ms, p90 {row['cpu_p90_ms']:.2f} ms, {row['queries']} requêtes SQL",
              flush=True)
        profiles[key] = profile_summary(get, n=PROFILE_REQUESTS)
    connection.close()
    data = {"associations": Association.objects.count(), "people": get_user_model().objects.count(),
            "topics": Topic.objects.count(), "posts": Post.objects.count()}
    return rows, {"data": data, "profiles": profiles}


def add_verdicts(rows: list[dict]) -> list[dict]:
    demo = {row["page"]: row for row in rows if row["scale"] == SCALES[0]}
    for row in rows:
        row.update(verdict(row, None if row["scale"] == SCALES[0] else demo.get(row["page"])))
    return rows


def format_rows(rows: list[dict]) -> str:
    header = ["page", "échelle", "CPU p50 ms", "CPU p90 ms", "requêtes", "× démo", "objectif", "résultat"]
    body = [[row["name"].rsplit(",", 1)[0], str(row["scale"]), f"{row['cpu_p50_ms']:.2f}", f"{row['cpu_p90_ms']:.2f}",
             str(row["queries"]), "" if row.get("ratio_to_demo") is None else f"{row['ratio_to_demo']:.2f}",
             row["target"], row["status"]] for row in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(line))
             for line in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_profiles(profiles: dict) -> str:
    out = []
    for scale, pages in profiles.items():
        for page, summary in pages.items():
            out.append(f"-- profil {page}, échelle {scale} ({summary['requests']} requêtes, part du temps CPU)")
            out.append("   temps propre (tout le code) :")
            out.extend(f"     {line}" for line in summary["by_own_time"])
            out.append("   temps total (fonctions du projet) :")
            out.extend(f"     {line}" for line in summary["by_total_time"])
    return "\n".join(out)


@register("pages", "Pages : CPU serveur par requête, démo et échelle 20", environment=environment)
def pages_benchmark() -> Report:
    from django.db import connection

    requests = int(os.environ.get("PASSERELLES_BENCH_REQUESTS", "200"))
    base = None if connection.vendor == "sqlite" else connection.settings_dict["NAME"]
    started = time.perf_counter()
    rows, data, profiles = [], {"scales": {}}, {}
    for scale in scales():
        prepared = prepare_scale(scale, base)
        measured_rows, measured = measure_scale(scale, requests)
        rows.extend(measured_rows)
        data["scales"][str(scale)] = {**prepared, **measured["data"]}
        profiles[str(scale)] = measured["profiles"]
    add_verdicts(rows)
    data["profiles"] = profiles
    data["bench_seconds"] = round(time.perf_counter() - started, 1)
    print(format_profiles(profiles))
    print(format_rows(rows), flush=True)
    parameters = {"requests_per_page": requests, "warmup_requests": WARMUP, "profile_requests": PROFILE_REQUESTS,
                  "client": "django.test.Client", "timer": "time.thread_time", "debug": False,
                  "targets_ms": TARGETS_MS, "max_scale_ratio": MAX_SCALE_RATIO}
    return Report(rows=rows, data=data, parameters=parameters)
