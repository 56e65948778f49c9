"""Forum pages through real HTTP servers: our forum against django-machina as shipped, side by side.

Three uvicorn servers run at once on the same data (bench/http_bench.py: started as production starts
them, one process each so that /proc gives each one's CPU time):

- `nous`: the site (config.asgi), our overrides of machina, our permissions, middleware and templates;
- `machina`: django-machina as shipped (bench/stock_asgi.py, bench/stock_settings.py): machina's own view
  classes (bench/stock_urls.py), helper classes (bench/machina_stock.py), permission middleware,
  templates and base template; the rest of the site (login, sessions, members-only) unchanged;
- `machina-gabarits`: the same machina, rendering our templates (what our views alone change).

As `directrice` (logged in through the login form), each page is timed in ROUNDS rounds; in each round
every server answers a block of BLOCK requests in turn (A B C, then C B A), one connection per request
with `X-Forwarded-Proto: https` as nginx sends. Per block: the wall time of every request and the
server's CPU time over the block (/proc/<pid>/stat), which does not depend on what else the machine runs.
Per page and round, the ratios nous/machina (block median wall time, server CPU per request); the
result gives their minimum and median over the rounds, and the verdict: **not slower than machina as
shipped when the median ratios of wall time and of server CPU are both ≤ 1.0** (MAX_RATIO).

Pages: the forum index, the busiest forum `directrice` may write in (page 1), a usual topic (one page),
the first and last pages of a topic of 10 000 posts, and the reply form of that topic.

Data (bench/forum_data.py): `seed_demo --scale 2`, the tree grown to 300 forums (sub-forums with their
parent's audience, a few topics each), one topic of 10 000 posts; bulk-inserted (about two minutes the
first time), kept between runs while a marker says the same build. Database: a SQLite file of its own,
var/bench/forum-http.sqlite3, or with DATABASE_URL set the same server and a database named like it with
"_forum" added (its name must contain "bench"), for example:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/passerelles_bench make bench BENCH_ARGS=forum

uses passerelles_bench_forum (PASSERELLES_FORUM_DATABASE_URL names another one). With REDIS_URL set the
servers cache in Redis, as in production. Environment: PASSERELLES_FORUM_ROUNDS (ROUNDS),
PASSERELLES_FORUM_BLOCK (BLOCK; `bench/run.py forum --requests N` gives about N requests per server and
page), PASSERELLES_FORUM_VARIANTS (nous,machina,machina-gabarits).

The older in-process helpers below (environment, prepare_database: `seed_demo --scale 20`) stay for the
search bench (bench/bench_search.py), which seeds its database the way this bench used to.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench import forum_data, http_bench
from bench.framework import (
    BENCH_DIR,
    ROOT,
    Report,
    production_like_environment,
    register,
    reset_server_database,
    seed_fingerprint,
    seed_marker,
)

SCALE = 20
MIN_TOPICS = 10_000
MIN_POSTS = 100_000
DEMO_USERNAME = "directrice"
DEMO_PASSWORD = "demo-passerelles"
DATABASE = BENCH_DIR / "forum.sqlite3"
SEED_SOURCES = [
    ROOT / "demo" / "directory.py",
    ROOT / "directory" / "reference.py",
    ROOT / "demo" / "management" / "commands" / "seed_demo.py",
    ROOT / "demo" / "forum.py",
    ROOT / "forum" / "structure.py",
]
RATE_LIMITS = ("LOGIN_RATE_LIMIT", "LOGIN_ADDRESS_RATE_LIMIT", "FORUM_POSTING_RATE_LIMIT", "SEARCH_RATE_LIMIT",
               "SEARCH_SUGGEST_RATE_LIMIT")

ROUNDS = 6
BLOCK = 8
WARMUP = 5
OURS = "nous"
REFERENCE = "machina"
VARIANTS = {
    OURS: ("config.asgi:application", {"DJANGO_SETTINGS_MODULE": "config.settings"}),
    REFERENCE: ("bench.stock_asgi:application", {"DJANGO_SETTINGS_MODULE": "bench.stock_settings",
                                                 "PASSERELLES_BENCH_STOCK_TEMPLATES": "machina"}),
    "machina-gabarits": ("bench.stock_asgi:application", {"DJANGO_SETTINGS_MODULE": "bench.stock_settings",
                                                          "PASSERELLES_BENCH_STOCK_TEMPLATES": "ours"}),
}
DESCRIPTIONS = {
    OURS: "notre forum (config.asgi : nos surcharges, permissions, middlewares et gabarits)",
    REFERENCE: "django-machina tel que livré (vues, classes, middleware de permissions, gabarits et gabarit de base "
               "de machina ; bench/stock_asgi.py)",
    "machina-gabarits": "django-machina (vues, classes, middleware) avec nos gabarits",
}
# A stylesheet that only machina's own base template links: proves which templates a server renders.
MACHINA_TEMPLATE_MARK = b"machina.board_theme"


# --- in-process helpers kept for the search bench -------------------------------------------------


def environment() -> dict[str, str]:
    env = production_like_environment()
    # One person replays hundreds of searches and replies: the abuse limits (core/ratelimit.py)
    # would answer 429 after a few, so benchmarks switch them off (0) and measure the pages themselves.
    env.update(dict.fromkeys(RATE_LIMITS, "0"))
    if not os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = f"sqlite:///{DATABASE}"
    return env


def _seed_fingerprint() -> dict:
    return seed_fingerprint(SEED_SOURCES, SCALE)


def _seeded_enough() -> bool:
    from machina.apps.forum_conversation.models import Post, Topic

    return Topic.objects.count() >= MIN_TOPICS and Post.objects.count() >= MIN_POSTS


def prepare_database() -> bool:
    """`seed_demo --scale SCALE` (the search bench's data): migrate, and seed unless the marker shows this very
    seed already ran here. True when reused."""
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
    """The forum with the most topics among those the person may read and start topics in."""
    return forum_data.busiest_forum(user)


def reset_reading_state(user) -> None:
    """Forget what the person read, so that every run starts from the same unread state."""
    from machina.apps.forum_tracking.models import ForumReadTrack, TopicReadTrack

    ForumReadTrack.objects.filter(user=user).delete()
    TopicReadTrack.objects.filter(user=user).delete()


# --- the HTTP bench -------------------------------------------------------------------------------


def forum_database_url(env: dict[str, str] | None = None) -> str:
    """PASSERELLES_FORUM_DATABASE_URL; else DATABASE_URL's server with "_forum" added to its database name (not
    the search bench's database, seeded otherwise); else this bench's SQLite file."""
    env = os.environ if env is None else env
    if env.get("PASSERELLES_FORUM_DATABASE_URL"):
        return env["PASSERELLES_FORUM_DATABASE_URL"]
    if env.get("DATABASE_URL") and not env["DATABASE_URL"].startswith("sqlite"):
        parts = urlsplit(env["DATABASE_URL"])
        return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_forum"))
    return f"sqlite:///{forum_data.DATABASE}"


def http_environment() -> dict[str, str]:
    """This process's and the servers' (they inherit it): production settings, loopback hosts, limits off."""
    env = production_like_environment(allowed_hosts="127.0.0.1,localhost,testserver",
                                      DATABASE_URL=forum_database_url(), LOG_LEVEL="WARNING")
    env.update(dict.fromkeys(RATE_LIMITS, "0"))
    if os.environ.get("REDIS_URL"):
        env["REDIS_KEY_PREFIX"] = f"bench-forum-{os.getpid()}"
    return env


def read_parameters(env: dict[str, str] | None = None) -> dict:
    env = os.environ if env is None else env
    rounds = int(env.get("PASSERELLES_FORUM_ROUNDS") or ROUNDS)
    block = int(env.get("PASSERELLES_FORUM_BLOCK") or BLOCK)
    if env.get("PASSERELLES_BENCH_REQUESTS") and not env.get("PASSERELLES_FORUM_BLOCK"):
        # `bench/run.py forum --requests N`: about N requests per server and page, in the rounds.
        block = max(1, -(-int(env["PASSERELLES_BENCH_REQUESTS"]) // rounds))
    variants = [v.strip() for v in (env.get("PASSERELLES_FORUM_VARIANTS") or ",".join(VARIANTS)).split(",")
                if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or OURS not in variants or REFERENCE not in variants or rounds < 1 or block < 1:
        raise ValueError(f"PASSERELLES_FORUM_VARIANTS parmi {', '.join(VARIANTS)} (avec {OURS} et {REFERENCE}), "
                         "PASSERELLES_FORUM_ROUNDS ≥ 1, PASSERELLES_FORUM_BLOCK ≥ 1.")
    return {"rounds": rounds, "block": block, "warmup": WARMUP, "variants": variants}


def forum_pages(user) -> tuple[list[tuple[str, str]], dict]:
    """(label, path) of the timed pages, and what they show."""
    from django.urls import reverse
    from machina.conf import settings as machina_settings

    forum = forum_data.busiest_forum(user)
    topic = forum_data.normal_topic(forum)
    long_topic = forum_data.long_topic()
    per_page = machina_settings.TOPIC_POSTS_NUMBER_PER_PAGE
    last_page = (long_topic.posts_count - 1) // per_page + 1

    def topic_path(t):
        return reverse("forum_conversation:topic", kwargs={"forum_slug": t.forum.slug, "forum_pk": t.forum.pk,
                                                           "slug": t.slug, "pk": t.pk})

    pages = [
        ("index", reverse("forum:index")),
        ("forum, page 1", reverse("forum:forum", kwargs={"slug": forum.slug, "pk": forum.pk})),
        ("sujet", topic_path(topic)),
        ("long sujet, page 1", topic_path(long_topic)),
        (f"long sujet, page {last_page}", f"{topic_path(long_topic)}?page={last_page}"),
        ("formulaire de réponse", reverse("forum_conversation:post_create", kwargs={
            "forum_slug": long_topic.forum.slug, "forum_pk": long_topic.forum.pk, "topic_slug": long_topic.slug,
            "topic_pk": long_topic.pk})),
    ]
    shown = {"forum": {"name": forum.name, "topics": forum.direct_topics_count},
             "topic": {"subject": topic.subject, "posts": topic.posts_count},
             "long_topic": {"subject": long_topic.subject, "posts": long_topic.posts_count, "pages": last_page,
                            "forum": long_topic.forum.name}}
    return pages, shown


def compare_page(blocks, variants: list[str]) -> dict:
    """Per variant its summary; ratios of ours to each other variant; the verdict against machina as shipped."""
    summaries = {v: http_bench.variant_summary(blocks, v) for v in variants}
    against = {v: http_bench.ratios(blocks, OURS, v) for v in variants if v != OURS}
    return {"variants": summaries, "ratios": against, "verdict": http_bench.verdict(against[REFERENCE])}


def format_comparison(pages: dict[str, dict], variants: list[str]) -> str:
    others = [v for v in variants if v != OURS]
    header = ["page", *(f"p50 {v}" for v in variants), *(f"CPU/req {v}" for v in variants),
              *(f"{OURS}/{v} mur méd (min)" for v in others), *(f"{OURS}/{v} CPU méd (min)" for v in others),
              "≤ 1.0"]
    body = []
    for page, result in pages.items():
        s, r = result["variants"], result["ratios"]
        body.append([page, *(f"{s[v]['p50_ms']:.1f}" for v in variants),
                     *(f"{s[v]['server_cpu_ms_per_request']:.1f}" for v in variants),
                     *(f"{r[v]['wall_median']:.2f} ({r[v]['wall_min']:.2f})" for v in others),
                     *(f"{r[v]['cpu_median']:.2f} ({r[v]['cpu_min']:.2f})" if r[v]["cpu_median"] is not None
                       else "–" for v in others),
                     "oui" if result["verdict"]["not_slower"] else "NON"])
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(line))
             for line in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _check_variants(targets: dict, path: str) -> dict[str, int]:
    """Each server renders what it should: machina's own templates only on `machina`. Page sizes in bytes."""
    sizes = {}
    for variant, (client, _server) in targets.items():
        response = client.get(path)
        if response.status != 200:
            raise RuntimeError(f"{variant} : GET {path} a répondu {response.status} {response.location}")
        shipped = MACHINA_TEMPLATE_MARK in response.body
        if shipped != (variant == REFERENCE):
            rendered = "ceux de machina" if shipped else "les nôtres"
            raise RuntimeError(f"{variant} ne rend pas les gabarits attendus ({rendered}).")
        sizes[variant] = len(response.body)
    return sizes


def _swapped_objects(log: Path) -> int | None:
    """How many of our objects a "machina" server replaced by machina's (bench/stock_asgi.py logs it)."""
    match = re.search(r"machina d'origine : (\d+) objets", log.read_text(errors="replace"))
    return int(match.group(1)) if match else None


def _clear_redis() -> None:
    """Remove this run's keys (cache, sessions) from Redis, when the servers used it."""
    prefix = os.environ.get("REDIS_KEY_PREFIX", "")
    if not (os.environ.get("REDIS_URL") and prefix.startswith("bench-forum-")):
        return
    try:
        import redis

        client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=3)
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start:start + 1000])
    except Exception as error:  # best effort: the next run has a prefix of its own anyway
        print(f"Nettoyage Redis incomplet : {error}", flush=True)


@register("forum", "Forum par HTTP : notre forum et django-machina tel que livré, en alternance",
          environment=http_environment)
def forum_benchmark() -> Report:
    from django.contrib.auth import get_user_model
    from django.db import connection

    parameters = read_parameters()
    started = time.monotonic()
    reused, seed_seconds = forum_data.prepare()
    print(f"Données {'réutilisées' if reused else 'créées'} en {seed_seconds:.0f} s : {forum_data.sizes()}", flush=True)
    user = get_user_model().objects.get(username=DEMO_USERNAME)
    pages, shown = forum_pages(user)
    reset_reading_state(user)
    sizes, database = forum_data.sizes(), _describe_database()
    connection.close()  # the servers are the database's only clients while they are timed

    servers = {v: http_bench.Server(v, VARIANTS[v][0], VARIANTS[v][1], BENCH_DIR) for v in parameters["variants"]}
    results: dict[str, dict] = {}
    tracebacks: dict[str, int] = {}
    swapped: dict[str, int | None] = {}
    try:
        for server in servers.values():
            server.start()
        for server in servers.values():
            server.wait_ready()
        targets = {}
        for variant, server in servers.items():
            client = http_bench.Client(server.port)
            client.login(DEMO_USERNAME, DEMO_PASSWORD)
            targets[variant] = (client, server)
        swapped = {v: _swapped_objects(s.log) for v, s in servers.items() if v != OURS}
        if not all(swapped.values()):
            raise RuntimeError(f"Un serveur « machina » n'a rien remplacé de nos surcharges : {swapped}")
        print(f"{len(servers)} serveurs prêts ({', '.join(servers)}) ; {parameters['rounds']} manches de "
              f"{parameters['block']} requêtes par serveur et par page.", flush=True)
        for page, path in pages:
            page_bytes = _check_variants(targets, path)
            blocks = http_bench.measure_rounds(path, targets, rounds=parameters["rounds"], block=parameters["block"],
                                               warmup=parameters["warmup"])
            results[page] = {"path": path, "bytes": page_bytes, **compare_page(blocks, parameters["variants"])}
            r = results[page]["ratios"][REFERENCE]
            print(f"  {page} : {OURS}/{REFERENCE} mur {r['wall_median']} (min {r['wall_min']}), "
                  f"CPU {r['cpu_median']} (min {r['cpu_min']})", flush=True)
    finally:
        for server in servers.values():
            server.stop()
        tracebacks = {v: s.tracebacks() for v, s in servers.items()}
        _clear_redis()
    print("\nComparaison (ms ; ratios : médiane des manches, minimum entre parenthèses) :")
    print(format_comparison(results, parameters["variants"]), flush=True)
    print()

    rows = [{"name": f"{page} ({variant})", "page": page, "variant": variant, **summary}
            for page, result in results.items() for variant, summary in result["variants"].items()]
    data = {
        "database": database,
        "database_reused": reused,
        "seed_seconds": round(seed_seconds, 1),
        "measure_seconds": round(time.monotonic() - started - seed_seconds, 1),
        **sizes,
        "base_seed": f"seed_demo --scale {forum_data.BASE_SCALE}",
        **shown,
        "pages": results,
        "all_pages_not_slower": all(r["verdict"]["not_slower"] for r in results.values()),
        "verdict_rule": f"médianes des ratios par manche {OURS}/{REFERENCE} (temps mur, CPU serveur) ≤ "
                        f"{http_bench.MAX_RATIO}",
        "server_log_tracebacks": tracebacks,
        "machina_objects_swapped": swapped,
        "cache": "Redis" if os.environ.get("REDIS_URL") else "mémoire locale de chaque serveur",
    }
    params = {**parameters, "requests_per_variant_and_page": parameters["rounds"] * parameters["block"],
              "user": DEMO_USERNAME,
              "servers": {v: {"application": VARIANTS[v][0], "description": DESCRIPTIONS[v]} for v in servers},
              "server_command": "uvicorn <application> --proxy-headers --forwarded-allow-ips 127.0.0.1 --lifespan off "
                                "--no-access-log (un processus ; DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, "
                                "SECURE_SSL_REDIRECT=0)",
              "client": "http.client, une connexion par requête (Connection: close), X-Forwarded-Proto: https",
              "order": "manches A B C puis C B A…",
              "cpu": "temps CPU du processus serveur (/proc/<pid>/stat) sur chaque bloc, divisé par ses requêtes",
              "target_forums": forum_data.TARGET_FORUMS, "long_topic_posts": forum_data.LONG_TOPIC_POSTS}
    return Report(rows=rows, data=data, parameters=params)
