"""Load test (issue 8, items 1 and 6; issue 15: the members are Locust users; issue 18, item 2: capacity):
simulated members against the real servers, PostgreSQL and Redis.

This module is the driver: it prepares the database and the members, starts the servers, runs Locust
headless on bench/locustfile.py (the members' behaviour; what they do and how it is counted is in
bench/load_scenario.py, shared by both sides), reads CPU, memory and PostgreSQL's connections meanwhile,
and writes bench/results/load.postgresql.json.

**Capacity** (the default): the production topology only (docker-compose.yml: uvicorn --workers 2 for
HTTP, daphne for the websockets, `manage.py db_worker`) under an offered load that rises in steps
(PASSERELLES_LOAD_STEPS, requests/s: HTTP requests and chat messages; DEFAULT_STEPS 10, 20, 30, 45, 60,
80, 100, 125, 150), each held PASSERELLES_LOAD_STEP_SECONDS (40 s). The members pace themselves: each acts
as a Poisson process whose rate is the step's divided among them (load_scenario.ramp_pause), so
together they offer the step's rate, and the rate changes at the step's boundary. After each step Locust
judges it (load_scenario.step_sustained): it held when its HTTP p95 stayed under 300 ms, with no error
of any kind (a failed login, websocket or chat acknowledgement too) and at least 80 % of the offered
rate achieved (else the members, a closed loop, could not send it); the ramp stops after the first step
that did not hold. The driver judges the complete steps again with the chat deliveries (a missing
delivery is an error) and reports, per step: offered and achieved requests/s, HTTP p50/p95/p99, errors
by kind, the percentiles of every page, the CPU of each process, CPU per HTTP request of uvicorn (its
master and workers) and per chat message of daphne, PostgreSQL's connections. **The capacity** is the
highest step held before the first one that failed (load_scenario.choose_capacity), compared with the
target TARGET_CAPACITY_PER_S (60 requests/s; a 2 000-member federation needs about 20 at its peak):
« atteint » or « non atteint ». At the end, before the servers stop, the resident memory (VmRSS of
/proc/<pid>/status, each child process too: uvicorn's workers) of every server, the worker and the
Locust process. The members log in first, over as long as their arrivals (four requests each) take at
the first step's rate, then CAPACITY_SETTLE_S for the last websockets. The whole stays under
MAX_RAMP_SECONDS (12 minutes) after seeding; the defaults take 7.5 minutes at most.

**Comparison** (PASSERELLES_LOAD_TOPOLOGIES set, issue 8): topologies in turns under the same members,
described below; this chose uvicorn for HTTP (docker-compose.yml).

What runs, all on loopback (127.0.0.1), bounded in time and count:

- **data**: a PostgreSQL database of its own (PASSERELLES_LOAD_DATABASE_URL, by default
  postgres://postgres@127.0.0.1:5432/passerelles_load; its name must contain "load") seeded with
  `seed_demo --scale 20` (PASSERELLES_LOAD_SCALE; over 10 000 topics and 100 000 posts, a few minutes,
  timed in the result's `seed_seconds`) the way the forum bench seeds (notifications muted), kept
  between runs while a marker says the same scale and the same seed code; Redis database 13
  (PASSERELLES_LOAD_REDIS_URL) with a key prefix of the run's own, removed at the end. If PostgreSQL or
  Redis does not answer, the bench says so and stops (exit status 2) without writing a result.
- **members**: USERS people of the seeded network (members of member associations, each in at least
  one chat room and allowed to reply in at least one forum) get a password; everything a member will
  visit is chosen for them beforehand, through the site's own access rules (the forums and topics
  machina lets them read and reply to, the guides Wagtail lets them see, their chat room).
- **servers**, started as production starts them (Dockerfile, docker-compose.yml): DEBUG=0,
  SECRET_KEY and ALLOWED_HOSTS set, SECURE_SSL_REDIRECT=0 (no TLS on loopback; requests carry
  `X-Forwarded-Proto: https` as nginx sends it, so Django sees secure requests: secure cookies, CSRF
  referer checks), SITE_URL https://127.0.0.1 (the pages' origin, which the chat's handshake carries and
  core/origins.py accepts), uvicorn and daphne with the flags of docker-compose.yml, and the background worker
  (`manage.py db_worker`, django-tasks' database backend: indexing and notifications off the request
  path, as in production). Search uses the database store (PostgreSQL full text): Elasticsearch, which
  production runs, is not on this machine. **Static files are left out**: nginx serves them in
  production (deploy/nginx.conf), so they never reach Django; the simulated browsers do not fetch them.
- **topologies** (comparison only: PASSERELLES_LOAD_TOPOLOGIES, comma-separated), compared under the same load:
  `daphne`: one daphne process for HTTP and websockets (the alternative);
  `uvicorn`: HTTP on `uvicorn --workers UVICORN_WORKERS` (ASGI, one process per worker), websockets on
  daphne (what docker-compose.yml ships, services web and ws, chosen on this test's result);
  `daphne-x2` (optional): HTTP on two daphne processes (requests alternate between them, as an nginx
  upstream of two servers would), websockets on daphne. All servers run for the whole test and
  the topologies take turns serving HTTP, in blocks of about BLOCK_S seconds (A B A B…, each the same
  share of the measured time): the same members, sessions and machine conditions for all of them, so
  that what else the machine runs falls on every topology alike. One daphne serves the websockets
  throughout (and HTTP in the `daphne` blocks). The client routes by path as nginx would: /ws/ to
  daphne, the rest to the serving topology. Like nginx in front of the app (no upstream keepalive in
  deploy/nginx.conf), each HTTP request opens its own connection (`Connection: close`).
- **members' behaviour** (bench/locustfile.py, one Locust user per member): each member starts at a random
  moment of the ramp-up (RAMP seconds), logs in once through the real login form (CSRF token and cookie, as
  a browser), opens their chat room's page and keeps its websocket open, then, until the end, waits an
  exponential think time (comparison: mean THINK seconds; capacity: the step's pace) and does one action
  that Locust draws by the weights of ACTIONS (bench/load_scenario.py): pages (home, forum index, a forum, a
  topic, directory, an association, resources, a guide, chat rooms), a search, a forum reply through
  machina's reply form (the form's page, then its POST with the CSRF token: a realistic low rate), or a chat
  message on the websocket. The rate limits (core/ratelimit.py) stay in the request path but are raised far
  above this load (`<NAME>_RATE_LIMIT` = 1 000 000): all members come from one address and the ramp-up logs
  them all in within seconds.
- **measured**: only what starts after the warm-up, for SECONDS seconds in all. The warm-up is the
  ramp-up then half as long again (PASSERELLES_LOAD_SETTLE_SECONDS) for the last logins and websocket
  handshakes to settle; HTTP requests go to each topology in turn during it. Logins are reported from
  the whole run. Each request, chat message and CPU reading counts for the topology serving when it started.
  Per request type and in all: requests/s, p50/p95/p99 latency (connection opened → body read),
  errors: any status other than the expected one (>= 500, unexpected 4xx such as a 403 or a 429, a
  redirect to the login page), timeouts, connection errors, websocket failures (refused handshake,
  unexpected close, error frame, missing acknowledgement).
  Chat: time from `send` to the acknowledgement, and delivery latency to every connection of the room
  (send → frame received; all clients share the Locust process's clock), with deliveries missing after a
  grace period. CPU: the Locust process (the client: it must not be the bottleneck), the server processes (and
  their CPU per HTTP request, which does not depend on what else the machine runs), and the whole
  machine (/proc/stat, both cores, PostgreSQL and Redis included). PostgreSQL: connections open to the
  load database, sampled every second (pg_stat_activity), against the server's max_connections.

Targets of the comparison (issue 8): errors under 0.1 %, HTTP p95 under 300 ms. Of the capacity: see above.

Found with it (smoke runs, a machine shared with other test suites): connections kept per thread
(conn_max_age > 0) leak under ASGI, where each request's synchronous code runs in a thread of its own
(asgiref's ThreadSensitiveContext): every kept connection belongs to a finished thread and stays open
until the garbage collector closes it; 200 members exhausted PostgreSQL's max_connections (100). The
site now lends connections from a psycopg pool per process (config/settings.py, DATABASE_POOL_MIN/MAX),
which bounds them whatever the threads. PASSERELLES_LOAD_CONN_MAX_AGE=N runs the servers on
bench/load_settings.py instead (no pool, CONN_MAX_AGE=N; 0: a connection per request), to compare.

    make bench BENCH_ARGS=load      # capacity: seed once (scale 20), then the ramp, 7.5 minutes at most
    PASSERELLES_LOAD_STEPS=10,20,30 PASSERELLES_LOAD_STEP_SECONDS=15 PASSERELLES_LOAD_USERS=60 \\
        make bench BENCH_ARGS=load  # a short trial
    PASSERELLES_LOAD_TOPOLOGIES=daphne,uvicorn make bench BENCH_ARGS=load   # the comparison, 200 members, 600 s

Environment, capacity: PASSERELLES_LOAD_STEPS (offered requests/s, rising, comma-separated),
PASSERELLES_LOAD_STEP_SECONDS (40), PASSERELLES_LOAD_USERS (200), PASSERELLES_LOAD_RAMP_SECONDS (the
logins: USERS × 4 / the first step's rate), PASSERELLES_LOAD_SETTLE_SECONDS (10).
Environment, comparison: PASSERELLES_LOAD_TOPOLOGIES ("daphne,uvicorn"; "daphne-x2" too if listed),
PASSERELLES_LOAD_USERS (200), PASSERELLES_LOAD_SECONDS (600 measured, shared by the topologies),
PASSERELLES_LOAD_RAMP_SECONDS (a quarter of SECONDS, 5 to 60), PASSERELLES_LOAD_SETTLE_SECONDS (half the
ramp-up), PASSERELLES_LOAD_THINK_SECONDS (mean think time, THINK_MEAN_S).
Both: PASSERELLES_LOAD_SCALE (20), PASSERELLES_LOAD_CONN_MAX_AGE (unset: config/settings.py's),
PASSERELLES_LOAD_DATABASE_URL, PASSERELLES_LOAD_REDIS_URL. Results: bench/results/load.postgresql.json.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench import bench_forum
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
from bench.load_scenario import (
    ACK_TIMEOUT_S,
    ACTIONS,
    KINDS,
    MIN_ACHIEVED_SHARE,
    REQUEST_TIMEOUT_S,
    Block,
    Member,
    Plan,
    Sample,
    Scenario,
    SentMessage,
    Step,
    block_schedule,
    capacity_verdict,
    chat_summary,
    choose_capacity,
    start_offsets,
    step_index,
    step_sample_summary,
    step_schedule,
    step_sustained,
    summarize,
    topology_at,
)

# seed_demo's scale (PASSERELLES_LOAD_SCALE): 20 is a federation's volume (over 10 000 topics, 100 000 posts).
DEFAULT_SCALE = 20
# seed_demo makes topics in proportion to the scale: fewer than this many per unit means a seed went wrong.
MIN_TOPICS_PER_SCALE = 400
DEFAULT_USERS = 200
DEFAULT_SECONDS = 600
# Mean think time between two actions of one member. A person reads a topic or a guide for tens of
# seconds; 20 s keeps 200 members a population (about 10 actions/s in all), not 200 request loops.
THINK_MEAN_S = 20.0
DEFAULT_TOPOLOGIES = ("daphne", "uvicorn")
TOPOLOGIES = ("daphne", "uvicorn", "daphne-x2")
UVICORN_WORKERS = 2
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/passerelles_load"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
PREFIX = f"passerelles-load-{os.getpid()}"
PASSWORD = "charge-passerelles"
SITE_URL = "https://127.0.0.1"
RAISED_RATE_LIMIT = "1000000"
TARGET_ERROR_RATE = 0.001
TARGET_P95_MS = 300.0
START_TIMEOUT_S = 60.0
STOP_GRACE_S = 60.0
# Locust's start (imports, gevent) before the members' clock starts: t0 is this far after its launch.
LOCUST_START_S = 5.0
HTTP_KINDS = frozenset(KINDS) - {"ws_connect", "chat_message"}
SEED = 8_2026
SEED_SOURCES = [*bench_forum.SEED_SOURCES, ROOT / "demo" / "cms.py", ROOT / "demo" / "chat.py"]


# --- environment -------------------------------------------------------------------------------------


def _setting(name: str, default: str) -> str:
    return os.environ.get(name) or default


def database_url() -> str:
    return _setting("PASSERELLES_LOAD_DATABASE_URL", DEFAULT_DATABASE_URL)


def redis_url() -> str:
    return _setting("PASSERELLES_LOAD_REDIS_URL", DEFAULT_REDIS_URL)


def environment() -> dict[str, str]:
    """The servers' environment too: they inherit this process's."""
    # Password hashing is cheap here (as in the other benches): logins exercise the real form, session and
    # CSRF, not a million PBKDF2 rounds per simulated person.
    env = production_like_environment(
        allowed_hosts="127.0.0.1,localhost", PASSERELLES_VAR_DIR=str(BENCH_DIR / "load"),
        DATABASE_URL=database_url(), REDIS_URL=redis_url(), REDIS_KEY_PREFIX=PREFIX,
        TASKS_BACKEND="django_tasks_db.DatabaseBackend", LOG_LEVEL="WARNING",
        # The site's public address, as production sets it: the origin of its pages, which the chat's
        # websocket handshake accepts (core/origins.py) whatever port the bench's daphne listens on.
        SITE_URL=SITE_URL)
    # Every abuse limit stays in the path (its Redis round trips are measured) but far above the load:
    # all simulated members share one address.
    for name in ("LOGIN", "LOGIN_ADDRESS", "FORUM_POSTING", "SEARCH", "SEARCH_SUGGEST", "CHAT"):
        env[f"{name}_RATE_LIMIT"] = RAISED_RATE_LIMIT
    if os.environ.get("PASSERELLES_LOAD_CONN_MAX_AGE"):
        # Opt-in variant (bench/load_settings.py): per-thread connections (CONN_MAX_AGE) instead of config's pool.
        env["DJANGO_SETTINGS_MODULE"] = "bench.load_settings"
    return env


@dataclass(frozen=True)
class Settings:
    users: int
    seconds: float
    ramp: float
    think: float
    topologies: tuple[str, ...]
    settle: float = 0.0

    @property
    def warmup(self) -> float:
        """Seconds before the measured window: the ramp-up, then the time for the last logins to settle."""
        return self.ramp + self.settle


def read_settings(env: dict[str, str] | None = None) -> Settings:
    """The run's size from the environment (PASSERELLES_LOAD_*), checked."""
    env = os.environ if env is None else env
    users = int(env.get("PASSERELLES_LOAD_USERS") or DEFAULT_USERS)
    seconds = float(env.get("PASSERELLES_LOAD_SECONDS") or DEFAULT_SECONDS)
    ramp = float(env.get("PASSERELLES_LOAD_RAMP_SECONDS") or min(60.0, max(5.0, seconds / 4)))
    think = float(env.get("PASSERELLES_LOAD_THINK_SECONDS") or THINK_MEAN_S)
    topologies = tuple(t.strip() for t in (env.get("PASSERELLES_LOAD_TOPOLOGIES") or ",".join(DEFAULT_TOPOLOGIES))
                       .split(",") if t.strip())
    if users < 1 or seconds <= 0 or ramp < 0 or think <= 0:
        raise ValueError("PASSERELLES_LOAD_USERS ≥ 1, PASSERELLES_LOAD_SECONDS > 0, "
                         "PASSERELLES_LOAD_RAMP_SECONDS ≥ 0 et PASSERELLES_LOAD_THINK_SECONDS > 0.")
    unknown = [t for t in topologies if t not in TOPOLOGIES]
    if unknown or not topologies:
        raise ValueError(f"Topologie inconnue : {', '.join(unknown) or '(aucune)'} "
                         f"(connues : {', '.join(TOPOLOGIES)}).")
    # The last members log in and open their websocket after the ramp-up; under load that takes a while,
    # and whichever topology served first would pay for it.
    settle = float(env.get("PASSERELLES_LOAD_SETTLE_SECONDS") or ramp / 2)
    return Settings(users=users, seconds=seconds, ramp=ramp, think=think, topologies=topologies, settle=settle)


# --- capacity (the default) ---------------------------------------------------------------------------

# Offered requests/s (HTTP and chat messages), one step each, until the first step that fails.
DEFAULT_STEPS = (10.0, 20.0, 30.0, 45.0, 60.0, 80.0, 100.0, 125.0, 150.0)
DEFAULT_STEP_SECONDS = 40.0
# A member's arrival is four requests (the login form, its POST, the home page, the room's page) and a
# websocket: by default they log in over as long as it takes these to come at the first step's rate, so
# that the warm-up never offers much more than the first step (a burst of logins would be measured in it).
ARRIVAL_REQUESTS = 4
CAPACITY_SETTLE_S = 10.0
# The capacity asked of the production topology: a 2 000-member federation needs about 20 requests/s at
# its peak; three times that leaves room for growth, a busy day and slower requests (search, posting).
TARGET_CAPACITY_PER_S = 60.0
PEAK_NEED_PER_S = 20.0
# The whole ramp, after seeding, stays under this (PASSERELLES_LOAD_STEPS × PASSERELLES_LOAD_STEP_SECONDS
# + the logins' warm-up): a longer ramp is refused rather than left to run for an hour.
MAX_RAMP_SECONDS = 12 * 60


@dataclass(frozen=True)
class CapacitySettings:
    users: int
    rates: tuple[float, ...]
    step_seconds: float
    ramp: float
    settle: float

    @property
    def warmup(self) -> float:
        """Before the first step: the members log in (ramp), then their last websockets settle."""
        return self.ramp + self.settle

    @property
    def longest_seconds(self) -> float:
        """The members' time if every step holds (after the servers' start)."""
        return self.warmup + len(self.rates) * self.step_seconds


def comparison_asked(env: dict[str, str] | None = None) -> bool:
    """The topologies' comparison (read_settings) instead of the capacity ramp: PASSERELLES_LOAD_TOPOLOGIES."""
    env = os.environ if env is None else env
    return bool((env.get("PASSERELLES_LOAD_TOPOLOGIES") or "").strip())


def read_capacity_settings(env: dict[str, str] | None = None) -> CapacitySettings:
    """The capacity ramp from the environment (PASSERELLES_LOAD_STEPS, _STEP_SECONDS, _USERS, _RAMP_SECONDS,
    _SETTLE_SECONDS), checked: rates positive and rising, the whole under MAX_RAMP_SECONDS."""
    env = os.environ if env is None else env
    users = int(env.get("PASSERELLES_LOAD_USERS") or DEFAULT_USERS)
    raw_steps = env.get("PASSERELLES_LOAD_STEPS") or ",".join(f"{rate:g}" for rate in DEFAULT_STEPS)
    try:
        rates = tuple(float(part) for part in raw_steps.split(",") if part.strip())
    except ValueError:
        raise ValueError("PASSERELLES_LOAD_STEPS : des nombres séparés par des virgules "
                         f"(reçu « {raw_steps} »).") from None
    step_seconds = float(env.get("PASSERELLES_LOAD_STEP_SECONDS") or DEFAULT_STEP_SECONDS)
    if users < 1 or not rates or rates[0] <= 0:
        raise ValueError(f"PASSERELLES_LOAD_USERS ≥ 1 et PASSERELLES_LOAD_STEPS : des débits positifs et croissants "
                         f"(reçu « {raw_steps} »).")
    ramp = float(env.get("PASSERELLES_LOAD_RAMP_SECONDS") or users * ARRIVAL_REQUESTS / rates[0])
    settle = float(env.get("PASSERELLES_LOAD_SETTLE_SECONDS") or CAPACITY_SETTLE_S)
    if step_seconds <= 0 or ramp < 0 or settle < 0:
        raise ValueError("PASSERELLES_LOAD_STEP_SECONDS > 0, PASSERELLES_LOAD_RAMP_SECONDS ≥ 0 et "
                         "PASSERELLES_LOAD_SETTLE_SECONDS ≥ 0.")
    if not rates or any(rate <= 0 for rate in rates) or list(rates) != sorted(set(rates)):
        raise ValueError(f"PASSERELLES_LOAD_STEPS : des débits positifs et croissants (reçu « {raw_steps} »).")
    settings = CapacitySettings(users=users, rates=rates, step_seconds=step_seconds, ramp=ramp, settle=settle)
    if settings.longest_seconds > MAX_RAMP_SECONDS:
        raise ValueError(f"Rampe de {settings.longest_seconds:g} s au plus : la limite est {MAX_RAMP_SECONDS} s "
                         "(moins de paliers ou des paliers plus courts).")
    return settings


def services_answer() -> list[str]:
    """What does not answer among PostgreSQL and Redis (empty when both do)."""
    problems = []
    try:
        import psycopg

        parts = urlsplit(database_url())
        with psycopg.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                             user=parts.username or "postgres", password=parts.password or None,
                             dbname="postgres", connect_timeout=3):
            pass
    except Exception as error:  # any failure means "not usable": say which and why
        problems.append(f"PostgreSQL ne répond pas ({urlsplit(database_url()).netloc}) : {error}")
    try:
        import redis

        if not redis.Redis.from_url(redis_url(), socket_timeout=3, socket_connect_timeout=3).ping():
            problems.append(f"Redis ne répond pas ({redis_url()})")
    except Exception as error:
        problems.append(f"Redis ne répond pas ({redis_url()}) : {error}")
    return problems


# --- database ----------------------------------------------------------------------------------------


def seed_scale(env: dict[str, str] | None = None) -> int:
    """seed_demo's scale for the load database (PASSERELLES_LOAD_SCALE, DEFAULT_SCALE)."""
    env = os.environ if env is None else env
    scale = int(env.get("PASSERELLES_LOAD_SCALE") or DEFAULT_SCALE)
    if scale < 1:
        raise ValueError("PASSERELLES_LOAD_SCALE ≥ 1.")
    return scale


def prepare_database(scale: int) -> tuple[bool, float | None]:
    """Migrate, and seed unless the marker shows this very seed already ran here.

    Returns (reused, seconds seed_demo took: None when reused)."""
    from django.core.management import call_command
    from django.db import connection
    from machina.apps.forum_conversation.models import Topic

    from forum import notifications

    if connection.vendor != "postgresql":
        raise RuntimeError(f"Le test de charge vise PostgreSQL (trouvé : {connection.vendor}).")
    fingerprint = seed_fingerprint(SEED_SOURCES, scale)
    marker = seed_marker("load")
    same_seed = marker.exists() and json.loads(marker.read_text()) == fingerprint
    reset_server_database(required_word="load", create_only=same_seed)
    print("Migrations…", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    minimum = MIN_TOPICS_PER_SCALE * scale
    if same_seed and Topic.objects.count() >= minimum:
        print(f"Base de charge réutilisée ({describe_database()}, échelle {scale}).", flush=True)
        return True, None
    print(f"seed_demo --scale {scale} (plusieurs minutes à l'échelle 20 ; une seule fois : la base est gardée "
          "tant que le code de la démo ne change pas)…", flush=True)
    started = time.monotonic()
    with notifications.muted():
        call_command("seed_demo", scale=scale)
    seconds = round(time.monotonic() - started, 1)
    if Topic.objects.count() < minimum:
        raise RuntimeError(f"seed_demo --scale {scale} a produit moins de {minimum} sujets.")
    print(f"seed_demo --scale {scale} : {seconds:g} s.", flush=True)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(fingerprint) + "\n")
    return False, seconds


def describe_database() -> str:
    from django.db import connection

    settings = connection.settings_dict
    return f"{connection.vendor} {settings.get('HOST') or 'local'}:{settings.get('PORT') or ''}/{settings['NAME']}"


# --- members -----------------------------------------------------------------------------------------


def choose_members(count: int, seed: int = SEED) -> list[Member]:
    """`count` people of the seeded network, each with a password and their own targets.

    Candidates: active people of member associations with a chat room; kept when machina lets them
    reply somewhere. Deterministic for a given database and seed.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.urls import reverse
    from machina.apps.forum.models import Forum
    from machina.apps.forum_conversation.models import Topic

    from chat.models import ChatMembership, ChatRoom
    from cms.models import GuidePage
    from cms.selectors import visible_pages
    from directory import access
    from directory.models import Association

    rng = random.Random(seed)
    User = get_user_model()
    rooms: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for user_id, kind, room_id in ChatMembership.objects.filter(room__kind__in=[
            ChatRoom.Kind.REGION, ChatRoom.Kind.WORKING_GROUP, ChatRoom.Kind.THEME]).values_list(
            "user_id", "room__kind", "room_id").order_by("room_id"):
        rooms[user_id].append((kind, room_id))
    candidates = list(User.objects.filter(is_active=True, association__status=Association.Status.MEMBER,
                                          pk__in=list(rooms)).order_by("username"))
    rng.shuffle(candidates)
    member_associations = list(Association.objects.filter(status=Association.Status.MEMBER)
                               .order_by("slug").values_list("slug", flat=True))
    guides = list(GuidePage.objects.live().order_by("path"))
    forums = list(Forum.objects.filter(type=Forum.FORUM_POST).order_by("tree_id", "lft"))
    latest_topics: dict[int, list[Topic]] = {}
    chosen: list[tuple[object, Member]] = []
    for person in candidates:
        if len(chosen) == count:
            break
        handler = access.forum_permission_handler()
        readable = list(handler.get_readable_forums(forums, person))
        if not readable:
            continue
        picked_forums = rng.sample(readable, min(3, len(readable)))
        topic_urls, reply_urls = [], []
        for forum in picked_forums:
            if forum.pk not in latest_topics:
                latest_topics[forum.pk] = list(Topic.approved_objects.filter(forum=forum)
                                               .select_related("forum").order_by("-last_post_on")[:25])
            for topic in latest_topics[forum.pk][:8]:
                topic_urls.append(reverse("forum_conversation:topic", kwargs={
                    "forum_slug": forum.slug, "forum_pk": forum.pk, "slug": topic.slug, "pk": topic.pk}))
            for topic in latest_topics[forum.pk][:3]:
                if handler.can_add_post(topic, person):
                    reply_urls.append(reverse("forum_conversation:post_create", kwargs={
                        "forum_slug": forum.slug, "forum_pk": forum.pk, "topic_slug": topic.slug,
                        "topic_pk": topic.pk}))
        if not reply_urls or not topic_urls:
            continue
        room_kinds = dict(rooms[person.pk])
        room_id = room_kinds.get(ChatRoom.Kind.REGION) or rooms[person.pk][0][1]
        own = [person.association.slug] if access.can_view_association(person, person.association) else []
        associations = own + rng.sample(member_associations, min(4, len(member_associations)))
        visible_guides = [page.url for page in visible_pages(person, GuidePage.objects.filter(
            pk__in=[g.pk for g in rng.sample(guides, min(12, len(guides)))])) if page.url]
        chosen.append((person, Member(
            username=person.username, password=PASSWORD, room_id=room_id,
            forums=[reverse("forum:forum", kwargs={"slug": f.slug, "pk": f.pk}) for f in picked_forums],
            topics=topic_urls, reply_targets=reply_urls,
            associations=[reverse("directory:association-detail", kwargs={"slug": s}) for s in associations],
            guides=visible_guides[:5],
        )))
    if len(chosen) < count:
        raise RuntimeError(f"Seulement {len(chosen)} membres utilisables dans la base (demandés : {count}).")
    User.objects.filter(pk__in=[person.pk for person, _member in chosen]).update(password=make_password(PASSWORD))
    return [member for _person, member in chosen]


# --- processes ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _process_cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children[parent].append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def database_connections() -> int | None:
    """Connections PostgreSQL holds open to the load database right now (pg_stat_activity)."""
    try:
        import psycopg

        parts = urlsplit(database_url())
        with psycopg.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                             user=parts.username or "postgres", password=parts.password or None,
                             dbname="postgres", connect_timeout=3) as connection:
            row = connection.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                                     [parts.path.lstrip("/")]).fetchone()
        return int(row[0])
    except Exception:  # a monitor's failure must not stop the load; None says "not measured"
        return None


def postgres_max_connections() -> int | None:
    try:
        import psycopg

        parts = urlsplit(database_url())
        with psycopg.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                             user=parts.username or "postgres", password=parts.password or None,
                             dbname="postgres", connect_timeout=3) as connection:
            return int(connection.execute("SHOW max_connections").fetchone()[0])
    except Exception:
        return None


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, all cores (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return total - idle, total


class Process:
    def __init__(self, name: str, command: list[str], port: int | None = None, env: dict[str, str] | None = None):
        self.name, self.command, self.port, self.env = name, command, port, env or {}
        self.log = BENCH_DIR / "load" / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("w") as log:
            self.process = subprocess.Popen(self.command, cwd=ROOT,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self) -> None:
        """Until an HTTP GET / answers below 500 (every worker of a multi-process server may not be up yet)."""
        if self.port is None:
            return
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} s'est arrêté :\n{self.log.read_text()[-3000:]}")
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                connection.request("GET", "/", headers={"X-Forwarded-Proto": "https"})
                if connection.getresponse().status < 500:
                    return
            except (OSError, http.client.HTTPException):
                pass
            finally:
                connection.close()
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} ne répond pas :\n{self.log.read_text()[-3000:]}")

    def cpu_seconds(self) -> float:
        if self.process is None:
            return 0.0
        return sum(_process_cpu_seconds(pid) for pid in _descendants(self.process.pid))

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)  # its own session: the server and its workers
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _daphne(name: str) -> Process:
    port = _free_port()
    return Process(name, [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "--proxy-headers",
                          "config.asgi:application"], port)


def _uvicorn(name: str) -> Process:
    port = _free_port()
    return Process(name, [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
                          "--port", str(port), "--workers", str(UVICORN_WORKERS), "--proxy-headers",
                          "--forwarded-allow-ips", "127.0.0.1", "--lifespan", "off", "--no-access-log"], port)


DESCRIPTIONS = {
    "daphne": "daphne seul (HTTP + websockets)",
    "uvicorn": f"uvicorn --workers {UVICORN_WORKERS} (HTTP) + daphne (websockets)",
    "daphne-x2": "2 × daphne (HTTP, en alternance) + daphne (websockets)",
}


def build_processes(topologies: Sequence[str]) -> tuple[list[Process], dict[str, list[Process]], Process]:
    """Every server the topologies need, the HTTP servers of each topology, and the websocket server.

    One daphne serves the websockets throughout, and HTTP too in the blocks of the `daphne` topology:
    there it is daphne alone (docker-compose.yml), elsewhere the daphne kept for websockets beside the
    HTTP servers. Idle servers cost nothing while another topology serves.
    """
    daphne = _daphne("daphne")
    processes, http = [daphne], {}
    for name in topologies:
        if name == "daphne":
            http[name] = [daphne]
        elif name == "uvicorn":
            http[name] = [_uvicorn("uvicorn")]
        elif name == "daphne-x2":
            http[name] = [_daphne("daphne-http-1"), _daphne("daphne-http-2")]
        else:
            raise ValueError(f"topologie inconnue : {name}")
        processes += [process for process in http[name] if process not in processes]
    processes.append(Process("db_worker", [sys.executable, "manage.py", "db_worker"]))  # as docker-compose.yml
    return processes, http, daphne


def locust_process(plan_path: Path, users: int, run_time_s: float) -> Process:
    """Locust, headless, with the members of bench/locustfile.py (its CSV report beside the servers' logs).

    All users are started at once; each waits for its own moment of the ramp-up (the plan's offsets).
    `--run-time` is only a safety: the locustfile stops the test itself at the end of the measured window.
    """
    return Process("locust", [
        sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
        "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{int(run_time_s) + 1}s",
        "--stop-timeout", str(int(REQUEST_TIMEOUT_S + ACK_TIMEOUT_S)), "--exit-code-on-error", "0",
        "--only-summary", "--csv", str(BENCH_DIR / "load" / "locust"), "--loglevel", "WARNING",
    ], env={"PASSERELLES_LOAD_PLAN": str(plan_path), "PYTHONPATH": str(ROOT)})


def run_load(members: Sequence[Member], settings: Settings) -> list[dict]:
    """Start the servers, run the members (Locust) through the schedule, stop the servers; one result per
    topology."""
    processes, http_servers, ws = build_processes(settings.topologies)
    schedule = block_schedule(settings.warmup, settings.seconds, settings.topologies)
    for name in settings.topologies:
        print(f"  {name} : {DESCRIPTIONS[name]}", flush=True)
    print(f"  {len(schedule)} blocs de {schedule[0].end - schedule[0].start:.0f} s en alternance : "
          f"{' '.join(block.topology for block in schedule)}", flush=True)
    exited: dict[str, int] = {}
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_ready()
        plan = Plan(t0=time.monotonic() + LOCUST_START_S, warmup=settings.warmup, seconds=settings.seconds,
                    think=settings.think, members=list(members),
                    offsets=start_offsets(len(members), settings.ramp, random.Random(SEED)),
                    http_ports={name: [p.port for p in servers] for name, servers in http_servers.items()},
                    ws_port=ws.port, schedule=schedule, seed=SEED,
                    samples_path=str(BENCH_DIR / "load" / "samples.json"), page_origin=SITE_URL)
        results = measure(plan, processes, http_servers, settings)
        # A server or the worker that died during the run (its log says why) invalidates the numbers.
        exited = {p.name: p.process.returncode for p in processes if p.process.poll() is not None}
    finally:
        for process in reversed(processes):
            process.stop()
    tracebacks = {p.name: _tracebacks(p.log) for p in processes}
    for process_name, code in exited.items():
        print(f"  ATTENTION : {process_name} s'est arrêté pendant la mesure (code {code}, "
              f"voir {(BENCH_DIR / 'load' / f'{process_name}.log').relative_to(ROOT)}).", flush=True)
    for result in results:
        result["processes_exited"] = exited
        result["server_log_tracebacks"] = tracebacks
    return results


def _tracebacks(log: Path) -> int:
    """Tracebacks a server wrote to its log (errors the client may not see, e.g. in a background task)."""
    try:
        return log.read_text(errors="replace").count("Traceback (most recent call last)")
    except OSError:
        return 0


@dataclass
class Usage:
    """CPU and wall time a topology's blocks added up."""

    wall: float = 0.0
    client: float = 0.0
    processes: Counter = field(default_factory=Counter)
    machine_busy: float = 0.0
    machine_total: float = 0.0


def measure(plan: Plan, processes: Sequence[Process], http_servers: dict[str, list[Process]],
            settings: Settings) -> list[dict]:
    """Run Locust through the plan while this process reads CPU at every block boundary and PostgreSQL's
    connections every second; then the per-topology results from the samples Locust wrote."""
    samples_path = Path(plan.samples_path)
    samples_path.parent.mkdir(parents=True, exist_ok=True)
    samples_path.unlink(missing_ok=True)
    plan_path = samples_path.with_name("plan.json")
    plan.write(plan_path)
    locust = locust_process(plan_path, len(plan.members), LOCUST_START_S + plan.warmup + plan.seconds + STOP_GRACE_S)
    usage: dict[str, Usage] = defaultdict(Usage)
    connections: dict[str, list[int]] = defaultdict(list)
    done = threading.Event()
    end = plan.t0 + plan.warmup + plan.seconds

    def snapshot() -> tuple:
        return (time.monotonic(), locust.cpu_seconds(), {p.name: p.cpu_seconds() for p in processes}, machine_cpu())

    def sample_cpu() -> None:
        # One reading at each block boundary; what happened in between goes to the block's topology.
        for block in plan.schedule:
            if done.wait(max(0.0, plan.t0 + block.start - time.monotonic())):
                return
            before = snapshot()
            if done.wait(max(0.0, plan.t0 + block.end - time.monotonic())):
                return
            after = snapshot()
            spent = usage[block.topology]
            spent.wall += after[0] - before[0]
            spent.client += after[1] - before[1]
            spent.processes.update({name: after[2][name] - before[2][name] for name in after[2]})
            spent.machine_busy += after[3][0] - before[3][0]
            spent.machine_total += after[3][1] - before[3][1]

    def sample_connections() -> None:
        # Every second of the measured window (the monitor's own connection is not counted: other database).
        if done.wait(max(0.0, plan.t0 + plan.warmup - time.monotonic())):
            return
        while time.monotonic() < end and not done.is_set():
            count = database_connections()
            serving = topology_at(plan.schedule, time.monotonic() - plan.t0)
            if count is not None and serving is not None:
                connections[serving].append(count)
            done.wait(1.0)

    samplers = [threading.Thread(target=sample_cpu, daemon=True),
                threading.Thread(target=sample_connections, daemon=True)]
    locust.start()
    try:
        for sampler in samplers:
            sampler.start()
        try:
            locust.process.wait(timeout=LOCUST_START_S + plan.warmup + plan.seconds + 2 * STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            print("  Locust n'avait pas fini à l'heure : arrêté.", flush=True)
        for sampler in samplers:
            sampler.join(timeout=5)
    finally:
        done.set()
        locust.stop()
    if not samples_path.exists():
        raise RuntimeError(f"Locust n'a rien écrit ({samples_path}) :\n{locust.log.read_text()[-3000:]}")
    measured = json.loads(samples_path.read_text())
    return results_by_topology(
        samples=[Sample(**sample) for sample in measured["samples"]],
        sent=[SentMessage(**message) for message in measured["sent"]],
        deliveries=measured["deliveries"], error_frames=measured["error_frames"], schedule=plan.schedule,
        settings=settings, usage=usage, connections=connections, processes=processes, http_servers=http_servers)


def results_by_topology(*, samples: Sequence[Sample], sent: Sequence[SentMessage], deliveries: Sequence,
                        error_frames: dict[str, int], schedule: Sequence[Block], settings: Settings,
                        usage: dict[str, Usage], connections: dict[str, list[int]], processes: Sequence[Process],
                        http_servers: dict[str, list[Process]]) -> list[dict]:
    """One result per topology: requests per kind, HTTP and overall, chat, CPU, database connections."""
    load_average = [round(v, 2) for v in os.getloadavg()]
    max_connections = postgres_max_connections()
    window = (settings.warmup, settings.warmup + settings.seconds)
    results = []
    for name in settings.topologies:
        spent = usage[name]
        seconds = sum(block.end - block.start for block in schedule if block.topology == name)
        wall = max(spent.wall, 1e-9)
        http_requests = summarize(samples, window=window, kinds=HTTP_KINDS - {"login"}, topology=name)["n"]
        # Server CPU per HTTP request (its HTTP servers only; for `daphne`, its websocket work too): what a
        # request costs, whatever else runs on the machine.
        http_cpu = sum(spent.processes[p.name] for p in http_servers[name])
        cpu = {
            "client_process_percent_of_one_core": round(100 * spent.client / wall, 1),
            "servers_percent_of_one_core": {p.name: round(100 * spent.processes[p.name] / wall, 1)
                                            for p in processes},
            "machine_busy_percent_all_cores": round(100 * spent.machine_busy / max(spent.machine_total, 1), 1),
            "cores": os.cpu_count(),
            "load_average_1_5_15_at_end": load_average,
            "http_server_cpu_ms_per_request": round(1000 * http_cpu / http_requests, 1) if http_requests else None,
        }
        database = {"connections_max": max(connections[name], default=None),
                    "connections_mean": round(statistics.fmean(connections[name]), 1) if connections[name] else None,
                    "postgres_max_connections": max_connections}
        per_kind = {}
        for kind in KINDS:
            if kind == "login":  # the ramp-up's: whichever topology served them, not at a steady rate
                summary = summarize(samples, window=(0.0, window[1]), kinds=[kind], topology=name)
                summary["requests_per_s"] = None
            else:
                summary = summarize(samples, window=window, kinds=[kind], topology=name, seconds=seconds)
            if summary["n"]:
                per_kind[kind] = summary
        blocks = [{"start_s": round(block.start, 1), "end_s": round(block.end, 1),
                   **{k: v for k, v in summarize(samples, window=(block.start, block.end), topology=name,
                                                 kinds=HTTP_KINDS - {"login"}).items()
                      if k in ("n", "p50_ms", "p95_ms", "errors")}}
                  for block in schedule if block.topology == name]
        results.append({
            "topology": name, "description": DESCRIPTIONS[name], "window_s": list(window), "seconds_served": seconds,
            "blocks": blocks, "per_kind": per_kind,
            "http": summarize(samples, window=window, kinds=HTTP_KINDS - {"login"}, topology=name, seconds=seconds),
            "all": summarize(samples, window=window, kinds=set(KINDS) - {"login"}, topology=name, seconds=seconds),
            "chat": chat_summary(sent, deliveries, error_frames, window, topology=name), "cpu": cpu,
            "database_connections": database,
        })
    return results


# --- capacity run ------------------------------------------------------------------------------------


def _status_kb(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (its peak) of one process, in kB (/proc/<pid>/status)."""
    memory = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                memory[line.split(":")[0]] = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return memory


def _command_line(pid: int) -> str:
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return ""
    return " ".join(word.decode(errors="replace") for word in words if word)[:160]


def process_memory(process: Process) -> dict:
    """Resident memory of a server and of every process under it (uvicorn's workers): kB each and in all."""
    if process.process is None or process.process.poll() is not None:
        return {"rss_kb": None, "processes": []}
    members = []
    for pid in _descendants(process.process.pid):
        memory = _status_kb(pid)
        if "VmRSS" in memory:
            members.append({"pid": pid, "role": "principal" if pid == process.process.pid else "enfant",
                            "command": _command_line(pid), "rss_kb": memory["VmRSS"],
                            "peak_rss_kb": memory.get("VmHWM")})
    return {"rss_kb": sum(m["rss_kb"] for m in members), "processes": members}


def run_capacity(members: Sequence[Member], settings: CapacitySettings) -> dict:
    """The production topology (uvicorn for HTTP, daphne for websockets, db_worker) under the ramp; stop
    the servers; the steps, the capacity and the memory of every process."""
    processes, http_servers, ws = build_processes(("uvicorn",))
    steps = step_schedule(settings.warmup, settings.rates, settings.step_seconds)
    print(f"  {DESCRIPTIONS['uvicorn']}, db_worker ; {len(steps)} paliers de {settings.step_seconds:g} s au plus : "
          f"{', '.join(f'{rate:g}' for rate in settings.rates)} req/s offertes", flush=True)
    scenario = Scenario(weights=ACTIONS, think_mean_s=THINK_MEAN_S)
    exited: dict[str, int] = {}
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_ready()
        plan = Plan(t0=time.monotonic() + LOCUST_START_S, warmup=settings.warmup,
                    seconds=len(steps) * settings.step_seconds,
                    think=len(members) * scenario.requests_per_action() / settings.rates[0], members=list(members),
                    offsets=start_offsets(len(members), settings.ramp, random.Random(SEED)),
                    http_ports={"uvicorn": [p.port for p in http_servers["uvicorn"]]}, ws_port=ws.port,
                    schedule=[Block("uvicorn", settings.warmup, steps[-1].end)], seed=SEED,
                    samples_path=str(BENCH_DIR / "load" / "samples.json"), page_origin=SITE_URL, steps=steps,
                    requests_per_action=scenario.requests_per_action(), p95_limit_ms=TARGET_P95_MS)
        result = measure_capacity(plan, processes, http_servers["uvicorn"], ws)
        exited = {p.name: p.process.returncode for p in processes if p.process.poll() is not None}
    finally:
        for process in reversed(processes):
            process.stop()
    for process_name, code in exited.items():
        print(f"  ATTENTION : {process_name} s'est arrêté pendant la mesure (code {code}, "
              f"voir {(BENCH_DIR / 'load' / f'{process_name}.log').relative_to(ROOT)}).", flush=True)
    result["processes_exited"] = exited
    result["server_log_tracebacks"] = {p.name: _tracebacks(p.log) for p in processes}
    if exited:  # a server that died makes every later step meaningless
        for step in result["steps"]:
            step["sustained"], step["reason"] = False, "un processus s'est arrêté pendant la mesure"
        result["capacity"] = choose_capacity(result["steps"])
    return result


def measure_capacity(plan: Plan, processes: Sequence[Process], http: Sequence[Process], ws: Process) -> dict:
    """Run Locust through the steps (it stops after the first that fails) while this process reads CPU at
    every step boundary and PostgreSQL's connections every second; then each complete step's figures,
    the capacity, and every process's memory at the end."""
    samples_path = Path(plan.samples_path)
    samples_path.parent.mkdir(parents=True, exist_ok=True)
    samples_path.unlink(missing_ok=True)
    plan_path = samples_path.with_name("plan.json")
    plan.write(plan_path)
    locust = locust_process(plan_path, len(plan.members), LOCUST_START_S + plan.warmup + plan.seconds + STOP_GRACE_S)
    usage: dict[int, Usage] = {}
    connections: dict[int, list[int]] = defaultdict(list)
    done = threading.Event()

    def snapshot() -> tuple:
        return (time.monotonic(), locust.cpu_seconds(), {p.name: p.cpu_seconds() for p in processes}, machine_cpu())

    def sample_cpu() -> None:
        for index, step in enumerate(plan.steps):
            if done.wait(max(0.0, plan.t0 + step.start - time.monotonic())):
                return
            before = snapshot()
            if done.wait(max(0.0, plan.t0 + step.end - time.monotonic())):
                return
            after = snapshot()
            usage[index] = Usage(wall=after[0] - before[0], client=after[1] - before[1],
                                 processes=Counter({name: after[2][name] - before[2][name] for name in after[2]}),
                                 machine_busy=after[3][0] - before[3][0], machine_total=after[3][1] - before[3][1])

    def sample_connections() -> None:
        if done.wait(max(0.0, plan.t0 + plan.warmup - time.monotonic())):
            return
        while not done.is_set() and time.monotonic() < plan.t0 + plan.steps[-1].end:
            count = database_connections()
            if count is not None:
                connections[step_index(plan.steps, time.monotonic() - plan.t0)].append(count)
            done.wait(1.0)

    samplers = [threading.Thread(target=sample_cpu, daemon=True),
                threading.Thread(target=sample_connections, daemon=True)]
    locust.start()
    memory: dict[str, dict] = {}
    try:
        for sampler in samplers:
            sampler.start()
        try:
            locust.process.wait(timeout=LOCUST_START_S + plan.warmup + plan.seconds + 2 * STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            print("  Locust n'avait pas fini à l'heure : arrêté.", flush=True)
        done.set()
        for sampler in samplers:
            sampler.join(timeout=5)
        # At the end of the load, servers still up: what production would hold after such a peak.
        memory = {p.name: process_memory(p) for p in processes}
    finally:
        done.set()
        locust.stop()
    if not samples_path.exists():
        raise RuntimeError(f"Locust n'a rien écrit ({samples_path}) :\n{locust.log.read_text()[-3000:]}")
    measured = json.loads(samples_path.read_text())
    client_memory = measured.get("client_memory_kb", {})
    memory["locust"] = {"rss_kb": client_memory.get("VmRSS"), "processes": [
        {"pid": None, "role": "principal", "command": "locust (bench/locustfile.py)",
         "rss_kb": client_memory.get("VmRSS"), "peak_rss_kb": client_memory.get("VmHWM")}]}
    steps = capacity_steps(
        samples=[Sample(**sample) for sample in measured["samples"]],
        sent=[SentMessage(**message) for message in measured["sent"]], deliveries=measured["deliveries"],
        error_frames=measured["error_frames"], steps=plan.steps, stopped_at=measured["stopped_at"], usage=usage,
        connections=connections, processes=processes, http=http, ws=ws)
    return {"steps": steps, "capacity": choose_capacity(steps), "memory": memory,
            "judged_by_client": measured.get("judged_steps", []),
            "postgres_max_connections": postgres_max_connections()}


def capacity_steps(*, samples: Sequence[Sample], sent: Sequence[SentMessage], deliveries: Sequence,
                   error_frames: dict[str, int], steps: Sequence[Step], stopped_at: float, usage: dict[int, Usage],
                   connections: dict[int, list[int]], processes: Sequence[Process], http: Sequence[Process],
                   ws: Process) -> list[dict]:
    """Every step that ran to its end: offered and achieved rates, HTTP percentiles, errors (missing chat
    deliveries included), whether it held, CPU (of each process, and per request of the HTTP servers)."""
    results = []
    for index, step in enumerate(steps):
        if step.end > stopped_at + 1e-6:  # the ramp stopped before this step's end: not measured
            break
        summary = step_sample_summary(samples, step)
        chat = chat_summary(sent, deliveries, error_frames, (step.start, step.end))
        if chat["deliveries_missing"]:
            summary["errors"] += chat["deliveries_missing"]
            summary["error_kinds"] = {**summary["error_kinds"], "livraison manquante": chat["deliveries_missing"]}
        held, reason = step_sustained(summary, TARGET_P95_MS)
        spent = usage.get(index)
        cpu = None
        if spent is not None:
            wall = max(spent.wall, 1e-9)
            http_cpu = sum(spent.processes[p.name] for p in http)
            cpu = {
                "http_server_cpu_ms_per_request": round(1000 * http_cpu / summary["http_requests"], 1)
                if summary["http_requests"] else None,
                "ws_server_cpu_ms_per_chat_message": round(1000 * spent.processes[ws.name] / chat["messages"], 1)
                if chat["messages"] else None,
                "servers_percent_of_one_core": {p.name: round(100 * spent.processes[p.name] / wall, 1)
                                                for p in processes},
                "client_process_percent_of_one_core": round(100 * spent.client / wall, 1),
                "machine_busy_percent_all_cores": round(100 * spent.machine_busy / max(spent.machine_total, 1), 1),
            }
        results.append({
            "step": index + 1, "start_s": round(step.start, 1), "end_s": round(step.end, 1), **summary,
            "sustained": held, "reason": reason,
            "chat": {k: chat[k] for k in ("messages", "deliveries", "deliveries_missing", "delivery_p95_ms")},
            # Which pages slow down first.
            "per_kind": {kind: {k: v for k, v in kind_summary.items() if k in ("n", "p50_ms", "p95_ms", "errors")}
                         for kind in KINDS
                         if (kind_summary := summarize(samples, window=(step.start, step.end), kinds=[kind]))["n"]},
            "cpu": cpu,
            "database_connections_max": max(connections.get(index, []), default=None),
        })
    return results


def format_capacity_table(steps: Sequence[dict]) -> str:
    columns = [("step", "palier", "<"), ("offered_per_s", "offert req/s", ">"),
               ("achieved_per_s", "obtenu req/s", ">"), ("p50_ms", "p50 ms", ">"), ("p95_ms", "p95 ms", ">"),
               ("p99_ms", "p99 ms", ">"), ("errors", "erreurs", ">"), ("cpu_ms", "CPU ms/req HTTP", ">"),
               ("machine", "machine %", ">"), ("sustained", "tenu", "<")]

    def cell(step: dict, key: str) -> str:
        if key == "cpu_ms":
            value = (step["cpu"] or {}).get("http_server_cpu_ms_per_request")
        elif key == "machine":
            value = (step["cpu"] or {}).get("machine_busy_percent_all_cores")
        elif key == "sustained":
            return "oui" if step["sustained"] else f"non ({step['reason']})"
        else:
            value = step.get(key)
        return "–" if value is None else f"{value:g}" if isinstance(value, float) else str(value)

    body = [[cell(step, key) for key, _label, _align in columns] for step in steps]
    header = [label for _key, label, _align in columns]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(widths[i]) if columns[i][2] == "<" else c.rjust(widths[i]) for i, c in enumerate(line))
             for line in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def capacity_summary_line(capacity: dict, target: float = TARGET_CAPACITY_PER_S) -> str:
    """The capacity figure and the target's verdict, in French."""
    value = capacity["capacity_per_s"]
    if value is None:
        held = "aucun palier tenu"
    elif capacity["limit_reached"]:
        held = f"{value:g} req/s (le palier de {capacity['first_failing_rate_per_s']:g} req/s n'a pas tenu)"
    else:
        held = f"au moins {value:g} req/s (tous les paliers ont tenu : la limite est au-delà)"
    return (f"Capacité (plus haut palier tenu : p95 HTTP < {TARGET_P95_MS:g} ms, aucune erreur) : {held}. "
            f"Objectif ≥ {target:g} req/s (besoin estimé d'une fédération de 2 000 membres à la pointe : "
            f"≈ {PEAK_NEED_PER_S:g} req/s) : {capacity_verdict(value, target)}.")


def format_memory(memory: dict[str, dict]) -> str:
    lines = []
    for name, entry in memory.items():
        parts = ", ".join(f"{m['role']} {m['rss_kb'] / 1024:.0f} Mo" for m in entry["processes"] if m["rss_kb"])
        total = entry["rss_kb"]
        lines.append(f"  {name} : {'–' if total is None else f'{total / 1024:.0f} Mo'}"
                     + (f" ({parts})" if len(entry["processes"]) > 1 else ""))
    return "\n".join(lines)


# --- report ------------------------------------------------------------------------------------------


def rows_for(result: dict) -> list[dict]:
    name = result["topology"]
    rows = []
    for kind, summary in result["per_kind"].items():
        rows.append({"name": f"{name} · {KINDS[kind]}", "topology": name, "kind": kind, **summary})
    rows.append({"name": f"{name} · HTTP, toutes pages", "topology": name, "kind": "http", **result["http"]})
    rows.append({"name": f"{name} · tout (HTTP + websocket)", "topology": name, "kind": "all", **result["all"]})
    chat = result["chat"]
    rows.append({"name": f"{name} · discussions : livraison", "topology": name, "kind": "chat_delivery",
                 "n": chat["deliveries"], "p50_ms": chat["delivery_p50_ms"], "p95_ms": chat["delivery_p95_ms"],
                 "p99_ms": chat["delivery_p99_ms"], "errors": chat["deliveries_missing"],
                 "error_rate": round(chat["deliveries_missing"] / chat["deliveries_expected"], 5)
                 if chat["deliveries_expected"] else 0.0})
    return rows


def format_table(rows: Sequence[dict]) -> str:
    columns = [("name", "mesure", "<"), ("n", "n", ">"), ("requests_per_s", "req/s", ">"), ("p50_ms", "p50 ms", ">"),
               ("p95_ms", "p95 ms", ">"), ("p99_ms", "p99 ms", ">"), ("errors", "erreurs", ">"),
               ("error_rate", "taux", ">")]

    def cell(row: dict, key: str) -> str:
        value = row.get(key)
        if value is None:
            return "–"
        if key == "error_rate":
            return f"{100 * value:.2f} %"
        return str(value)

    body = [[cell(row, key) for key, _label, _align in columns] for row in rows]
    header = [label for _key, label, _align in columns]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(widths[i]) if columns[i][2] == "<" else c.rjust(widths[i]) for i, c in enumerate(line))
             for line in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def verdict(result: dict) -> dict:
    errors = result["all"]["errors"] + result["chat"]["deliveries_missing"]
    attempts = result["all"]["n"] + result["chat"]["deliveries_expected"]
    error_rate = errors / attempts if attempts else 0.0
    p95 = result["http"]["p95_ms"]
    return {"error_rate": round(error_rate, 5), "error_rate_met": error_rate < TARGET_ERROR_RATE,
            "http_p95_ms": p95, "http_p95_met": p95 is not None and p95 < TARGET_P95_MS,
            "every_process_ran": not result.get("processes_exited")}


def compare(results: Sequence[dict]) -> dict | None:
    """Which topology served HTTP faster (lower p95), and by how much.

    Only topologies that met the error target, with every process up to the end, are ranked:
    answering errors quickly is not being fast.
    """
    measured = [r for r in results if r["http"]["p95_ms"] is not None]
    if len(measured) < 2:
        return None
    clean = [r for r in measured if verdict(r)["error_rate_met"] and verdict(r)["every_process_ran"]]
    ranked = sorted(clean, key=lambda r: r["http"]["p95_ms"])
    baseline = next((r for r in measured if r["topology"] == "daphne"), measured[0])
    return {
        "http_p95_ms": {r["topology"]: r["http"]["p95_ms"] for r in measured},
        "http_p50_ms": {r["topology"]: r["http"]["p50_ms"] for r in measured},
        "not_ranked": [r["topology"] for r in measured if r not in clean],
        "faster": ranked[0]["topology"] if ranked else None,
        "p95_ratio_vs_daphne": {r["topology"]: round(r["http"]["p95_ms"] / baseline["http"]["p95_ms"], 3)
                                for r in measured} if baseline["http"]["p95_ms"] else None,
    }


def _members_ready(users: int) -> tuple[list[Member], int, bool, float | None]:
    """PostgreSQL and Redis answer (else exit 2), the database seeded (or reused), `users` members chosen.
    Returns the members, the scale, whether the database was reused and how long seeding took."""
    problems = services_answer()
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr, flush=True)
        print("Test de charge arrêté : PostgreSQL et Redis doivent répondre (voir bench/bench_load.py).",
              file=sys.stderr, flush=True)
        raise SystemExit(2)

    from django.db import connection

    scale = seed_scale()
    reused, seed_seconds = prepare_database(scale)
    print(f"Choix de {users} membres…", flush=True)
    started = time.monotonic()
    members = choose_members(users)
    print(f"  {len(members)} membres choisis en {time.monotonic() - started:.0f} s.", flush=True)
    _clear_redis()
    connection.close()  # the servers are the only database clients during the run
    return members, scale, reused, seed_seconds


@register("load", "Charge : capacité d'uvicorn + daphne (paliers de requêtes/s), PostgreSQL et Redis",
          environment=environment)
def load_benchmark() -> Report:
    if comparison_asked():
        return comparison_benchmark()
    return capacity_benchmark()


def capacity_benchmark() -> Report:
    """The production topology under offered loads in steps; the capacity is the highest step held."""
    settings = read_capacity_settings()
    members, scale, reused, seed_seconds = _members_ready(settings.users)
    print(f"{settings.users} membres se connectent en {settings.ramp:g} s (+ {settings.settle:g} s), puis paliers "
          f"de {settings.step_seconds:g} s : {', '.join(f'{rate:g}' for rate in settings.rates)} req/s offertes, "
          f"arrêt après le premier palier qui ne tient pas ({settings.longest_seconds:g} s au plus).", flush=True)
    try:
        result = run_capacity(members, settings)
    finally:
        _clear_redis()
    capacity = result["capacity"]
    verdict_text = capacity_verdict(capacity["capacity_per_s"], TARGET_CAPACITY_PER_S)

    print()
    print(format_capacity_table(result["steps"]))
    print()
    print(capacity_summary_line(capacity))
    print("Mémoire résidente à la fin (VmRSS, processus enfants compris) :")
    print(format_memory(result["memory"]))
    print(flush=True)

    rows = [{"name": f"palier {step['step']} : {step['offered_per_s']:g} req/s offertes, "
                     f"{step['achieved_per_s']:g} obtenues{'' if step['sustained'] else ' (non tenu)'}",
             "n": step["requests"], "p50_ms": step["p50_ms"], "p95_ms": step["p95_ms"], "p99_ms": step["p99_ms"],
             "errors": step["errors"], "offered_per_s": step["offered_per_s"],
             "achieved_per_s": step["achieved_per_s"], "sustained": step["sustained"]}
            for step in result["steps"]]
    data = {
        "mode": "capacité",
        "topology": DESCRIPTIONS["uvicorn"] + ", db_worker",
        "scale": scale,
        "database": describe_database(),
        "database_reused": reused,
        "seed_seconds": seed_seconds,
        "redis": redis_url(),
        "members": settings.users,
        "trial_run": settings.rates != DEFAULT_STEPS or settings.step_seconds != DEFAULT_STEP_SECONDS
        or settings.users != DEFAULT_USERS or scale != DEFAULT_SCALE,
        "steps": result["steps"],
        "capacity_per_s": capacity["capacity_per_s"],
        "capacity": capacity,
        "target": {"capacity_per_s_at_least": TARGET_CAPACITY_PER_S, "peak_need_per_s": PEAK_NEED_PER_S,
                   "http_p95_ms_under": TARGET_P95_MS, "errors": 0,
                   "achieved_share_at_least": MIN_ACHIEVED_SHARE},
        "verdict": verdict_text,
        "memory_at_end": result["memory"],
        "judged_by_client": result["judged_by_client"],
        "postgres_max_connections": result["postgres_max_connections"],
        "server_log_tracebacks": result["server_log_tracebacks"],
        "processes_exited": result["processes_exited"],
        "static_files": "exclus : nginx les sert en production (deploy/nginx.conf), ils n'atteignent pas Django",
        "search_store": "base de données (PostgreSQL) : pas d'Elasticsearch sur cette machine",
        "rate_limits": f"relevées à {RAISED_RATE_LIMIT} (connexion, adresse, forum, recherche, discussions) : "
                       "tous les membres simulés partagent une adresse",
        "password_hasher": "MD5 (PASSERELLES_FAST_PASSWORD_HASHER=1), comme les autres bancs",
    }
    parameters = {
        "users": settings.users, "steps_requests_per_s": list(settings.rates), "step_seconds": settings.step_seconds,
        "ramp_seconds": settings.ramp, "settle_seconds": settings.settle, "uvicorn_workers": UVICORN_WORKERS,
        "pacing": "chaque membre agit selon un processus de Poisson ; ensemble, ils offrent le débit du palier "
                  "(load_scenario.ramp_pause)",
        "requests_per_action": round(Scenario(weights=ACTIONS, think_mean_s=THINK_MEAN_S).requests_per_action(), 3),
        "conn_max_age": int(os.environ["PASSERELLES_LOAD_CONN_MAX_AGE"])
        if os.environ.get("PASSERELLES_LOAD_CONN_MAX_AGE") else "config/settings.py",
        "actions": ACTIONS, "request_timeout_s": REQUEST_TIMEOUT_S, "ack_timeout_s": ACK_TIMEOUT_S,
        "client": "Locust (bench/locustfile.py, gevent), HTTP/1.1 une connexion par requête (Connection: close, "
                  "comme nginx vers l'amont) + websocket-client (une connexion par membre)",
        "seed": SEED,
    }
    return Report(rows=rows, data=data, parameters=parameters)


# What the comparison's JSON keeps of each topology's result.
TOPOLOGY_RESULT_KEYS = ("description", "http", "all", "chat", "cpu", "window_s", "seconds_served", "blocks",
                        "database_connections", "server_log_tracebacks", "processes_exited")


def comparison_benchmark() -> Report:
    """The topologies of PASSERELLES_LOAD_TOPOLOGIES in turns under the same members (issue 8)."""
    settings = read_settings()
    members, scale, reused, _seed_seconds = _members_ready(settings.users)
    scenario = Scenario(weights=ACTIONS, think_mean_s=settings.think)
    print(f"{settings.users} membres, montée en charge {settings.ramp:g} s, {settings.settle:g} s de mise en "
          f"route, puis {settings.seconds:g} s mesurées "
          f"(topologies en alternance), réflexion moyenne {settings.think:g} s "
          f"(≈ {scenario.actions_per_second(settings.users):.1f} actions/s).", flush=True)
    try:
        results = run_load(members, settings)
    finally:
        _clear_redis()
    rows = [row for result in results for row in rows_for(result)]
    verdicts = {r["topology"]: verdict(r) for r in results}
    comparison = compare(results)

    print()
    print(format_table(rows))
    print()
    for result in results:
        v, cpu, chat = verdicts[result["topology"]], result["cpu"], result["chat"]
        print(f"{result['topology']} ({result['description']}) : HTTP p95 {v['http_p95_ms']} ms "
              f"({'< ' if v['http_p95_met'] else '≥ '}{TARGET_P95_MS:g} ms), erreurs {100 * v['error_rate']:.3f} % "
              f"({'<' if v['error_rate_met'] else '≥'} {100 * TARGET_ERROR_RATE:g} %), livraison discussions p95 "
              f"{chat['delivery_p95_ms']} ms ({chat['deliveries_missing']} manquantes sur "
              f"{chat['deliveries_expected']}) ; CPU client {cpu['client_process_percent_of_one_core']} % d'un cœur, "
              f"serveurs {cpu['servers_percent_of_one_core']}, machine {cpu['machine_busy_percent_all_cores']} % "
              f"de {cpu['cores']} cœurs ; CPU des serveurs HTTP {cpu['http_server_cpu_ms_per_request']} ms par "
              f"requête ; connexions PostgreSQL jusqu'à {result['database_connections']['connections_max']} "
              f"(max_connections {result['database_connections']['postgres_max_connections']}).")
    if comparison:
        print(f"Plus rapide en HTTP (p95) : {comparison['faster'] or 'aucune (erreurs)'} — p95 "
              f"{comparison['http_p95_ms']} ms"
              + (f" ; non classées (erreurs ou processus arrêté) : {', '.join(comparison['not_ranked'])}"
                 if comparison["not_ranked"] else "") + ".")
    print(flush=True)

    data = {
        "mode": "comparaison",
        "scale": scale,
        "database": describe_database(),
        "database_reused": reused,
        "redis": redis_url(),
        "members": settings.users,
        "smoke_run": settings.users < DEFAULT_USERS or settings.seconds < DEFAULT_SECONDS,
        "offered_actions_per_s": round(scenario.actions_per_second(settings.users), 2),
        "http_requests_per_action": round(scenario.http_requests_per_action(), 3),
        "topologies": {r["topology"]: {k: r[k] for k in TOPOLOGY_RESULT_KEYS} for r in results},
        "verdicts": verdicts,
        "comparison": comparison,
        "targets": {"error_rate_under": TARGET_ERROR_RATE, "http_p95_ms_under": TARGET_P95_MS},
        "static_files": "exclus : nginx les sert en production (deploy/nginx.conf), ils n'atteignent pas Django",
        "search_store": "base de données (PostgreSQL) : pas d'Elasticsearch sur cette machine",
        "rate_limits": f"relevées à {RAISED_RATE_LIMIT} (connexion, adresse, forum, recherche, discussions) : "
                       "tous les membres simulés partagent une adresse",
        "password_hasher": "MD5 (PASSERELLES_FAST_PASSWORD_HASHER=1), comme les autres bancs",
    }
    parameters = {
        "users": settings.users, "measured_seconds": settings.seconds, "ramp_seconds": settings.ramp,
        "settle_seconds": settings.settle,
        "think_mean_seconds": settings.think, "think_distribution": "exponentielle",
        "topologies": list(settings.topologies), "uvicorn_workers": UVICORN_WORKERS,
        "conn_max_age": int(os.environ["PASSERELLES_LOAD_CONN_MAX_AGE"])
        if os.environ.get("PASSERELLES_LOAD_CONN_MAX_AGE") else "pool psycopg (config/settings.py)",
        "actions": ACTIONS, "request_timeout_s": REQUEST_TIMEOUT_S, "ack_timeout_s": ACK_TIMEOUT_S,
        "client": "Locust (bench/locustfile.py, gevent), HTTP/1.1 une connexion par requête (Connection: close, "
                  "comme nginx vers l'amont) + websocket-client (une connexion par membre)",
        "seed": SEED,
    }
    return Report(rows=rows, data=data, parameters=parameters)


def _clear_redis() -> None:
    """Forget this run's keys (cache, rate-limit counters, channel layer) in the load's Redis database."""
    try:
        import redis

        client = redis.Redis.from_url(redis_url(), socket_timeout=3)
        keys = list(client.scan_iter(match=f"*{PREFIX}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start:start + 1000])
    except Exception as error:  # cleaning is best effort: the next run uses a new prefix anyway
        print(f"Nettoyage Redis incomplet : {error}", file=sys.stderr, flush=True)
