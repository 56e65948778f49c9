"""Forum at `seed_demo --scale 20`: our forum and stock django-machina, side by side, in one run.

What is measured, as `directrice` with Django's test client (server time, p50/p95, SQL queries):
the forum index, the busiest forum she may read (page 1), the longest topic (page 1 and last page),
posting a reply (many replies, through machina's reply view) and "mark all read". Each row is
measured twice: with the site as configured (our overrides of machina, forum/overrides/) and with
stock machina, whose own view classes are mounted by the bench-only URLconf bench/stock_urls.py while
`stock_machina()` gives machina's modules back their own helper classes. Templates, middleware and
data are the same; the two variants alternate by blocks of BLOCK requests, so that both run under
the same machine load. Each row records wall time and this process's CPU time (the latter does not
depend on other processes); the ratios ours/stock are in the JSON and in the comparison table.

Database: by default a dedicated SQLite file, var/bench/forum.sqlite3, seeded once and reused while
its marker says the same scale and the same seed code (like bench_directory). With DATABASE_URL set,
that database is used instead, for example PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/passerelles_bench make bench BENCH_ARGS=forum

Its name must contain "bench": it is created when missing, and dropped and seeded again when the seed
code changed. On top of the demo data the bench adds one long topic (LONG_TOPIC_POSTS posts, the
demo's topics have 15 posts at most, so one page) in the busiest forum: it is the topic measured and
the one replied to; the replies of a previous run are removed at the start of each run.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import time
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from bench.framework import (
    BENCH_DIR,
    ROOT,
    Report,
    count_queries,
    production_like_environment,
    register,
    reset_server_database,
    seed_fingerprint,
    seed_marker,
    timings_summary,
)

SCALE = 20
MIN_TOPICS = 10_000
MIN_POSTS = 100_000
LONG_TOPIC_POSTS = 1_000
LONG_TOPIC_SUBJECT = "Comptes rendus des réunions régionales : le fil de suivi"
DEMO_USERNAME = "directrice"
DEMO_PASSWORD = "demo-passerelles"
WARMUP = 20
# Stock machina takes seconds to mark everything read: fewer rounds for that row.
MARK_ALL_REQUESTS = 50
MARK_ALL_WARMUP = 5
# Requests per variant before switching to the other one (see _measure_side_by_side).
BLOCK = 10
VARIANTS = ("ours", "stock")
TARGET_P95_MS = 100.0
# ours/stock p95 above 1 + this is "slower than stock"; below, the difference is timing noise.
NOISE_TOLERANCE = 0.05
DATABASE = BENCH_DIR / "forum.sqlite3"
SEED_SOURCES = [
    ROOT / "demo" / "directory.py",
    ROOT / "directory" / "reference.py",
    ROOT / "demo" / "management" / "commands" / "seed_demo.py",
    ROOT / "demo" / "forum.py",
    ROOT / "forum" / "structure.py",
]
REPLY_FORMSET = {"attachment-TOTAL_FORMS": "0", "attachment-INITIAL_FORMS": "0",
                 "attachment-MIN_NUM_FORMS": "0", "attachment-MAX_NUM_FORMS": "5"}


def environment() -> dict[str, str]:
    env = production_like_environment()
    # One person replays hundreds of searches and replies: the abuse limits (core/ratelimit.py)
    # would answer 429 after a few, so benchmarks switch them off (0) and measure the pages themselves.
    env.update(dict.fromkeys(("LOGIN_RATE_LIMIT", "LOGIN_ADDRESS_RATE_LIMIT", "FORUM_POSTING_RATE_LIMIT",
                              "SEARCH_RATE_LIMIT", "SEARCH_SUGGEST_RATE_LIMIT"), "0"))
    if not os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = f"sqlite:///{DATABASE}"
    return env


# --- database -------------------------------------------------------------------------------------


def _seed_fingerprint() -> dict:
    return seed_fingerprint(SEED_SOURCES, SCALE)


def _seeded_enough() -> bool:
    from machina.apps.forum_conversation.models import Post, Topic

    return Topic.objects.count() >= MIN_TOPICS and Post.objects.count() >= MIN_POSTS


def prepare_database() -> bool:
    """Migrate, and seed unless the marker shows this very seed already ran here. True when reused."""
    from django.core.management import call_command
    from django.db import connection

    from forum import notifications

    fingerprint = _seed_fingerprint()
    marker = seed_marker("forum")
    same_seed = marker.exists() and json.loads(marker.read_text()) == fingerprint
    if connection.vendor == "sqlite":
        if not (same_seed and DATABASE.exists()):
            connection.close()
            for path in (DATABASE, marker, Path(f"{DATABASE}-wal"), Path(f"{DATABASE}-shm"),
                         Path(f"{DATABASE}-journal")):
                path.unlink(missing_ok=True)
            same_seed = False
    elif connection.vendor == "postgresql":
        reset_server_database(required_word="bench", create_only=same_seed)
    else:
        raise RuntimeError(f"Base non prise en charge par le banc forum : {connection.vendor}")
    print("Migrations…", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    reused = same_seed and _seeded_enough()
    if not reused:
        print(f"seed_demo --scale {SCALE} (quelques minutes la première fois)…", flush=True)
        with notifications.muted():
            call_command("seed_demo", scale=SCALE)
        if not _seeded_enough():
            raise RuntimeError(f"seed_demo --scale {SCALE} a produit moins de {MIN_TOPICS} sujets "
                               f"ou de {MIN_POSTS} messages.")
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps(fingerprint) + "\n")
    else:
        print(f"Base de mesure réutilisée ({_describe_database()}, échelle {SCALE}).", flush=True)
    return reused


def _describe_database() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        return str(Path(connection.settings_dict["NAME"]).relative_to(ROOT))
    settings = connection.settings_dict
    return f"{connection.vendor} {settings.get('HOST') or 'local'}:{settings.get('PORT') or ''}/{settings['NAME']}"


def busiest_forum(user):
    """The forum with the most topics among those the person may read and reply in."""
    from machina.apps.forum.models import Forum

    from directory import access

    handler = access.forum_permission_handler()
    readable = handler.get_readable_forums(Forum.objects.filter(type=Forum.FORUM_POST), user)
    for forum in readable.order_by("-direct_topics_count", "pk"):
        if handler.can_add_topic(forum, user):
            return forum
    raise RuntimeError(f"{user} ne peut écrire dans aucun forum.")


def ensure_long_topic(forum, user):
    """The bench's long topic in `forum`, with exactly LONG_TOPIC_POSTS posts (previous replies removed).

    Created once, in bulk; each run then deletes what earlier runs replied to it, so every run
    measures the same topic.
    """
    from django.db import transaction
    from machina.apps.forum_conversation.models import Post, Topic

    from forum import notifications

    with transaction.atomic(), notifications.muted():
        topic = Topic.objects.filter(forum=forum, subject=LONG_TOPIC_SUBJECT).order_by("pk").first()
        if topic is None:
            print(f"Création du long fil de mesure ({LONG_TOPIC_POSTS} messages)…", flush=True)
            topic = Topic.objects.create(forum=forum, subject=LONG_TOPIC_SUBJECT, poster=user,
                                         type=Topic.TOPIC_POST, status=Topic.TOPIC_UNLOCKED, approved=True)
            posters = list(Post.objects.filter(topic__forum=forum).exclude(poster=None)
                           .values_list("poster_id", flat=True).distinct().order_by("poster_id")[:25]) or [user.pk]
            Post.objects.bulk_create([
                Post(topic=topic, poster_id=user.pk if i == 0 else posters[i % len(posters)],
                     subject=LONG_TOPIC_SUBJECT if i == 0 else f"Re: {LONG_TOPIC_SUBJECT}",
                     content=_long_topic_body(i), approved=True)
                for i in range(LONG_TOPIC_POSTS)
            ], batch_size=500)
        kept = list(topic.posts.order_by("created", "pk").values_list("pk", flat=True)[:LONG_TOPIC_POSTS])
        extra = topic.posts.exclude(pk__in=kept)
        if extra.exists():
            extra.delete()
        _render_unrendered_posts(topic)
        topic.refresh_from_db()
        topic.update_trackers()  # counts, first and last post; then the forum's
        for ancestor in topic.forum.get_ancestors():
            ancestor.update_trackers()
    return Topic.objects.select_related("forum").get(pk=topic.pk)


def _render_unrendered_posts(topic) -> None:
    """Give bulk-created posts their rendered HTML, as saving a post does.

    machina renders a post's markup in a pre_save receiver, which bulk_create does not send: such
    posts would show no content, and their page would cost less to render than a real one.
    """
    from machina.apps.forum_conversation.models import Post

    content_field = Post._meta.get_field("content")
    posts = list(topic.posts.filter(_content_rendered__isnull=True))
    for post in posts:
        content_field.render_data(None, Post, instance=post)
    Post.objects.bulk_update(posts, ["_content_rendered"], batch_size=500)


def _long_topic_body(i: int) -> str:
    if i == 0:
        return ("Bonjour à toutes et tous,\n\nJe propose de regrouper ici les comptes rendus des réunions "
                "régionales, pour que chacun retrouve décisions et documents au même endroit.")
    return (f"Compte rendu n° {i} : points abordés, **décisions** et prochaines étapes. "
            "Merci aux associations présentes ; les documents sont disponibles sur demande.")


def reset_reading_state(user) -> None:
    """Forget what the person read, so that every run starts from the same unread state."""
    from machina.apps.forum_tracking.models import ForumReadTrack, TopicReadTrack

    ForumReadTrack.objects.filter(user=user).delete()
    TopicReadTrack.objects.filter(user=user).delete()


# --- stock machina --------------------------------------------------------------------------------


def _override_apps() -> dict[str, str]:
    """Our override apps (dotted path) → the machina app each one replaces, longest path first."""
    from django.apps import apps

    pairs = {}
    for config in apps.get_app_configs():
        if config.name.startswith("forum.overrides."):
            base = next(k for k in type(config).__mro__[1:] if str(getattr(k, "name", "")).startswith("machina.apps."))
            pairs[config.name] = base.name
    return dict(sorted(pairs.items(), key=lambda item: -len(item[0])))


def _machina_twin_module(module_name: str, pairs: dict[str, str]):
    for ours, theirs in pairs.items():
        if module_name == ours or module_name.startswith(ours + "."):
            try:
                return importlib.import_module(theirs + module_name[len(ours):])
            except ImportError:
                return None
    return None


@contextlib.contextmanager
def stock_machina():
    """Inside this block machina runs without any of our overrides, as shipped.

    machina resolves its helper classes through `get_class`, most of them once, when its modules are
    imported: machina's views, template tags and receivers then hold our classes (the tracking
    handler, the attachment formset…). This block swaps, in every loaded machina module, each object
    that comes from one of our override modules for machina's object of the same name, swaps
    instances of our classes for instances of machina's, and makes `get_class` itself resolve to
    machina's apps; everything is put back on exit.
    """
    from machina.core import loading

    pairs = _override_apps()
    replacements: dict[int, object] = {}
    for name, module in list(sys.modules.items()):
        twin = _machina_twin_module(name, pairs) if module is not None else None
        if twin is None:
            continue
        for attribute, value in list(vars(module).items()):
            if attribute.startswith("__"):
                continue
            theirs = getattr(twin, attribute, None)
            if theirs is not None and theirs is not value:
                replacements[id(value)] = theirs

    swapped: list[tuple[object, str, object]] = []
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith("machina."):
            continue
        for attribute, value in list(vars(module).items()):
            if id(value) in replacements:
                replacement = replacements[id(value)]
            elif id(type(value)) in replacements and isinstance(replacements[id(type(value))], type):
                replacement = replacements[id(type(value))]()  # e.g. machina's module-level track_handler
            else:
                continue
            swapped.append((module, attribute, value))
            setattr(module, attribute, replacement)

    original_path = loading._get_app_module_path

    def machina_app_path(module_label):
        path = original_path(module_label)
        return pairs.get(path, path)

    loading._get_app_module_path = machina_app_path
    try:
        yield len(swapped)
    finally:
        loading._get_app_module_path = original_path
        for module, attribute, value in reversed(swapped):
            setattr(module, attribute, value)


@contextlib.contextmanager
def variant(name: str):
    """"ours": the site as configured; "stock": machina's own views and classes (see stock_machina)."""
    from django.test import override_settings

    if name == "ours":
        yield
        return
    with override_settings(ROOT_URLCONF="bench.stock_urls"), stock_machina():
        yield


# --- measures -------------------------------------------------------------------------------------


def _check(response, expected: int, what: str):
    if response.status_code != expected:
        raise RuntimeError(f"{what} a répondu {response.status_code} (attendu {expected})")
    return response


def _measure(action, *, n: int, warmup: int, setup=None) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU durations of `action`, after `warmup` calls; `setup` runs untimed before each.

    CPU time (this process: Django, templates and, on SQLite, the database engine) is kept beside
    wall time because it does not depend on what else the machine is running.
    """
    for _ in range(warmup):
        if setup:
            setup()
        action()
    wall, cpu = [], []
    for _ in range(n):
        if setup:
            setup()
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return wall, cpu


def _measure_side_by_side(rows: list[dict], page: str, url: str, action, *, n: int, warmup: int,
                          setup=None) -> None:
    """Measure `action(which)` for our forum and for stock machina, by alternating blocks of requests.

    Both variants then run under the same machine conditions (other processes, caches) instead of
    one after the other. Switching variant clears Django's URL caches, so each block starts with one
    untimed request. Appends one row per variant, with its query count.
    """
    samples: dict[str, tuple[list[float], list[float]]] = {which: ([], []) for which in VARIANTS}
    for which in VARIANTS:
        with variant(which):
            _measure(partial(action, which), n=0, warmup=warmup, setup=setup)
    done = 0
    while done < n:
        size = min(BLOCK, n - done)
        for which in VARIANTS:
            with variant(which):
                wall, cpu = _measure(partial(action, which), n=size, warmup=1, setup=setup)
            samples[which][0].extend(wall)
            samples[which][1].extend(cpu)
        done += size
    for which in VARIANTS:
        with variant(which):
            if setup:
                setup()
            queries = count_queries(partial(action, which))
        rows.append(_row(page, which, url, samples[which], queries))


def _row(page: str, which: str, url: str, durations: tuple[list[float], list[float]], queries: int) -> dict:
    wall, cpu = durations
    label = "nous" if which == "ours" else "machina d'origine"
    cpu_summary = timings_summary(cpu)
    return {"name": f"{page} ({label})", "page": page, "variant": which, "url": url, **timings_summary(wall),
            "cpu_p50_ms": cpu_summary["p50_ms"], "cpu_p95_ms": cpu_summary["p95_ms"], "queries": queries}


def _compare(rows: list[dict]) -> list[dict]:
    """Per page: ours/stock ratios and whether the targets hold."""
    by_page: dict[str, dict[str, dict]] = {}
    for row in rows:
        by_page.setdefault(row["page"], {})[row["variant"]] = row
    summary = []
    for page, pair in by_page.items():
        ours, stock = pair["ours"], pair["stock"]
        ratio_p50 = round(ours["p50_ms"] / stock["p50_ms"], 3)
        ratio_p95 = round(ours["p95_ms"] / stock["p95_ms"], 3)
        entry = {"page": page, "ours_p95_ms": ours["p95_ms"], "stock_p95_ms": stock["p95_ms"],
                 "ratio_p50": ratio_p50, "ratio_p95": ratio_p95,
                 "ours_cpu_p50_ms": ours["cpu_p50_ms"], "stock_cpu_p50_ms": stock["cpu_p50_ms"],
                 "ratio_cpu_p50": round(ours["cpu_p50_ms"] / stock["cpu_p50_ms"], 3),
                 "ours_queries": ours["queries"], "stock_queries": stock["queries"],
                 "p95_under_target": ours["p95_ms"] < TARGET_P95_MS,
                 "not_slower_than_stock": ratio_p95 <= 1 + NOISE_TOLERANCE}
        ours.update(ratio_p50_vs_stock=ratio_p50, ratio_p95_vs_stock=ratio_p95,
                    p95_under_target=entry["p95_under_target"], not_slower_than_stock=entry["not_slower_than_stock"])
        summary.append(entry)
    return summary


def _format_comparison(summary: list[dict]) -> str:
    header = ["page", "p95 nous", "p95 machina", "nous/machina p50", "nous/machina p95", "CPU p50 nous/machina",
              "requêtes nous/machina", f"p95 < {TARGET_P95_MS:g} ms", "pas plus lent"]
    body = [[s["page"], f"{s['ours_p95_ms']:.1f}", f"{s['stock_p95_ms']:.1f}", f"{s['ratio_p50']:.2f}",
             f"{s['ratio_p95']:.2f}", f"{s['ours_cpu_p50_ms']:.1f}/{s['stock_cpu_p50_ms']:.1f}",
             f"{s['ours_queries']}/{s['stock_queries']}",
             "oui" if s["p95_under_target"] else "NON", "oui" if s["not_slower_than_stock"] else "NON"]
            for s in summary]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(line))
             for line in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@register("forum", "Forum : nos vues et machina d'origine, côte à côte", environment=environment)
def forum_benchmark() -> Report:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from machina.apps.forum.models import Forum
    from machina.apps.forum_conversation.models import Post, Topic
    from machina.conf import settings as machina_settings

    reused = prepare_database()
    requests = int(os.environ.get("PASSERELLES_BENCH_REQUESTS", "200"))

    user = get_user_model().objects.get(username=DEMO_USERNAME)
    forum = busiest_forum(user)
    topic = ensure_long_topic(forum, user)
    reset_reading_state(user)
    client = Client()
    if not client.login(username=DEMO_USERNAME, password=DEMO_PASSWORD):
        raise RuntimeError(f"Connexion impossible pour {DEMO_USERNAME}")

    per_page = machina_settings.TOPIC_POSTS_NUMBER_PER_PAGE
    last_page = (topic.posts_count - 1) // per_page + 1
    topic_url = reverse("forum_conversation:topic", kwargs={
        "forum_slug": forum.slug, "forum_pk": forum.pk, "slug": topic.slug, "pk": topic.pk})
    pages = [
        ("index", reverse("forum:index")),
        (f"forum « {forum.name[:40]} »", reverse("forum:forum", kwargs={"slug": forum.slug, "pk": forum.pk})),
        ("sujet, page 1", topic_url),
        (f"sujet, page {last_page}/{last_page}", f"{topic_url}?page={last_page}"),
    ]
    rows = []
    for page, url in pages:
        print(f"  {page} : {url}", flush=True)

        def get(which, url=url, page=page):
            return _check(client.get(url), 200, page)

        _measure_side_by_side(rows, page, url, get, n=requests, warmup=WARMUP)

    reply_url = reverse("forum_conversation:post_create", kwargs={
        "forum_slug": forum.slug, "forum_pk": forum.pk, "topic_slug": topic.slug, "topic_pk": topic.pk})
    posts_before = Post.objects.filter(topic=topic).count()
    print(f"  réponse : {reply_url}", flush=True)
    sent = iter(range(10**9))

    def reply(which):
        body = f"Merci pour ce compte rendu ({which}, réponse {next(sent)})."
        return _check(client.post(reply_url, {"subject": f"Re: {topic.subject}", "content": body, **REPLY_FORMSET}),
                      302, "réponse")

    _measure_side_by_side(rows, "réponse à un sujet", reply_url, reply, n=requests, warmup=WARMUP)
    replies = Post.objects.filter(topic=topic).count() - posts_before

    mark_url = reverse("forum_tracking:mark_all_forums_read")
    print(f"  tout marquer comme lu : {mark_url}", flush=True)

    def mark_all(which):
        return _check(client.post(mark_url), 302, "tout marquer comme lu")

    def forget(user=user):
        reset_reading_state(user)

    _measure_side_by_side(rows, "tout marquer comme lu", mark_url, mark_all, n=min(requests, MARK_ALL_REQUESTS),
                          warmup=MARK_ALL_WARMUP, setup=forget)
    reset_reading_state(user)

    with stock_machina() as swapped:  # after the requests: every machina module is loaded by now
        print(f"machina d'origine : {swapped} objets de nos surcharges remplacés par ceux de machina.", flush=True)
    summary = _compare(rows)
    print("\nComparaison (nous / machina d'origine) :")
    print(_format_comparison(summary), flush=True)
    print()

    data = {
        "scale": SCALE,
        "database": _describe_database(),
        "database_reused": reused,
        "forums": Forum.objects.count(),
        "topics": Topic.objects.count(),
        "posts": Post.objects.count(),
        "busiest_forum": {"name": forum.name, "topics": Topic.objects.filter(forum=forum).count()},
        "long_topic": {"subject": topic.subject, "posts": topic.posts_count, "pages": last_page},
        "replies_posted": replies,
        "comparison": summary,
        "targets": {"p95_ms_under": TARGET_P95_MS,
                    "not_slower_than_stock": f"p95 nous/machina ≤ {1 + NOISE_TOLERANCE}"},
        "database_url_scheme": urlsplit(os.environ.get("DATABASE_URL", "")).scheme or connection.vendor,
    }
    parameters = {"requests_per_page": requests, "warmup_requests": WARMUP,
                  "mark_all_read_requests": min(requests, MARK_ALL_REQUESTS), "mark_all_read_warmup": MARK_ALL_WARMUP,
                  "client": "django.test.Client",
                  "user": DEMO_USERNAME, "debug": False, "long_topic_posts": LONG_TOPIC_POSTS,
                  "stock": "machina's view classes (bench/stock_urls.py) and helper classes (stock_machina())",
                  "stock_swapped_objects": swapped}
    return Report(rows=rows, data=data, parameters=parameters)
