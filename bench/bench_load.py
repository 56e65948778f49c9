"""Load test (issue 8, items 1 and 6): simulated members against the real servers, PostgreSQL and Redis.

What runs, all on loopback (127.0.0.1), bounded in time and count:

- **data**: a PostgreSQL database of its own (PASSERELLES_LOAD_DATABASE_URL, by default
  postgres://postgres@127.0.0.1:5432/passerelles_load; its name must contain "load") seeded with
  `seed_demo --scale SCALE` the way the forum bench seeds (notifications muted), kept between runs while
  a marker says the same scale and the same seed code; Redis database 13 (PASSERELLES_LOAD_REDIS_URL)
  with a key prefix of the run's own, removed at the end. If PostgreSQL or Redis does not answer, the
  bench says so and stops (exit status 2) without writing a result.
- **members**: USERS people of the seeded network (members of member associations, each in at least
  one chat room and allowed to reply in at least one forum) get a password; everything a member will
  visit is chosen for them beforehand, through the site's own access rules (the forums and topics
  machina lets them read and reply to, the guides Wagtail lets them see, their chat room).
- **servers**, started as production starts them (Dockerfile, docker-compose.yml): DEBUG=0,
  SECRET_KEY and ALLOWED_HOSTS set, SECURE_SSL_REDIRECT=0 (no TLS on loopback; requests carry
  `X-Forwarded-Proto: https` as nginx sends it, so Django sees secure requests: secure cookies, CSRF
  referer checks), uvicorn and daphne with the flags of docker-compose.yml, and the background worker
  (`manage.py db_worker`, django-tasks' database backend: indexing and notifications off the request
  path, as in production). Search uses the database store (PostgreSQL full text): Elasticsearch, which
  production runs, is not on this machine. **Static files are left out**: nginx serves them in
  production (deploy/nginx.conf), so they never reach Django; the simulated browsers do not fetch them.
- **topologies** (PASSERELLES_LOAD_TOPOLOGIES, comma-separated), compared under the same load:
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
- **members' behaviour**: each member starts at a random moment of the ramp-up (RAMP seconds), logs
  in once through the real login form (CSRF token and cookie, as a browser), opens their chat room's
  page and keeps its websocket open, then, until the end, waits an exponential think time (mean
  THINK seconds) and does one action drawn from ACTIONS: pages (home, forum index, a forum, a topic,
  directory, an association, resources, a guide, chat rooms), a search, a forum reply through
  machina's reply form (the form's page, then its POST with the CSRF token: a realistic low rate), or a
  chat message on the websocket. The rate limits (config/ratelimit.py) stay in the request path but
  are raised far above this load (`<NAME>_RATE_LIMIT` = 1 000 000): all members come from one address
  and the ramp-up logs them all in within seconds.
- **measured**: only what starts after the warm-up, for SECONDS seconds in all. The warm-up is the
  ramp-up then half as long again (PASSERELLES_LOAD_SETTLE_SECONDS) for the last logins and websocket
  handshakes to settle; HTTP requests go to each topology in turn during it. Logins are reported from
  the whole run. Each request, chat message and CPU reading counts for the topology serving when it started.
  Per request type and in all: requests/s, p50/p95/p99 latency (connection opened → body read),
  errors: any status other than the expected one (>= 500, unexpected 4xx such as a 403 or a 429, a
  redirect to the login page), timeouts, connection errors, websocket failures (refused handshake,
  unexpected close, error frame, missing acknowledgement).
  Chat: time from `send` to the acknowledgement, and delivery latency to every connection of the room
  (send → frame received; all clients share this process's clock), with deliveries missing after a
  grace period. CPU: this client process (it must not be the bottleneck), the server processes (and
  their CPU per HTTP request, which does not depend on what else the machine runs), and the whole
  machine (/proc/stat, both cores, PostgreSQL and Redis included). PostgreSQL: connections open to the
  load database, sampled every second (pg_stat_activity), against the server's max_connections.

Targets (issue 8): errors under 0.1 %, HTTP p95 under 300 ms.

Found with it (smoke runs, a machine shared with other test suites): config/settings.py keeps database
connections 60 s (conn_max_age=60), but under ASGI each request's synchronous code runs in a thread of
its own (asgiref's ThreadSensitiveContext), so every kept connection belongs to a finished thread and
stays open until the garbage collector closes it. 50 members held up to 78 connections on one daphne;
200 members exhausted PostgreSQL's max_connections (100) and most requests failed. With
PASSERELLES_LOAD_CONN_MAX_AGE=0 the servers run bench/load_settings.py (the same settings but
CONN_MAX_AGE=0: a connection per request, closed at its end); connections then follow the requests in
flight, which one overloaded daphne does not bound either (up to 91 at 200 members).

    make bench BENCH_ARGS=load                                   # 200 members, 600 s (300 s per topology)
    PASSERELLES_LOAD_USERS=50 PASSERELLES_LOAD_SECONDS=60 make bench BENCH_ARGS=load   # smoke run

Environment: PASSERELLES_LOAD_USERS (200), PASSERELLES_LOAD_SECONDS (600 measured, shared by the topologies),
PASSERELLES_LOAD_RAMP_SECONDS (a quarter of SECONDS, 5 to 60), PASSERELLES_LOAD_SETTLE_SECONDS (half the
ramp-up), PASSERELLES_LOAD_THINK_SECONDS (mean think
time, THINK_MEAN_S), PASSERELLES_LOAD_TOPOLOGIES ("daphne,uvicorn"; "daphne-x2" too if listed),
PASSERELLES_LOAD_CONN_MAX_AGE (unset: config/settings.py's), PASSERELLES_LOAD_DATABASE_URL,
PASSERELLES_LOAD_REDIS_URL. Results: bench/results/load.postgresql.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

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

SCALE = 5
MIN_TOPICS = 2_000
DEFAULT_USERS = 200
DEFAULT_SECONDS = 600
# Mean think time between two actions of one member. A person reads a topic or a guide for tens of
# seconds; 20 s keeps 200 members a population (about 10 actions/s in all), not 200 request loops.
THINK_MEAN_S = 20.0
DEFAULT_TOPOLOGIES = ("daphne", "uvicorn")
# The topologies take turns in blocks of about this long (see block_schedule).
BLOCK_S = 30.0
TOPOLOGIES = ("daphne", "uvicorn", "daphne-x2")
UVICORN_WORKERS = 2
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/passerelles_load"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
PREFIX = f"passerelles-load-{os.getpid()}"
PASSWORD = "charge-passerelles"
RAISED_RATE_LIMIT = "1000000"
TARGET_ERROR_RATE = 0.001
TARGET_P95_MS = 300.0
REQUEST_TIMEOUT_S = 30.0
ACK_TIMEOUT_S = 10.0
DELIVERY_GRACE_S = 5.0
START_TIMEOUT_S = 60.0
STOP_GRACE_S = 60.0
SEED = 8_2026
SEED_SOURCES = [*bench_forum.SEED_SOURCES, ROOT / "demo" / "cms.py", ROOT / "demo" / "chat.py"]
SEARCH_QUERIES = [
    "financement", "éthique", "placement à l'extérieur", "violences conjugales", "contrôle judiciaire",
    "médiation pénale", "réunion nationale", "guide juridique", "parrainage", "enquête sociale rapide",
    "hébergement", "conseil d'administration", "stage de citoyenneté", "bénévoles", "convention",
]
CHAT_LINES = [
    "Bonjour à toutes et tous, quelqu'un a-t-il un modèle de convention avec le SPIP ?",
    "Merci pour le compte rendu, je le transmets au conseil d'administration.",
    "La réunion régionale est confirmée jeudi à 14 h.",
    "Nous cherchons un ou une bénévole pour les permanences du mardi.",
    "Le guide sur le financement est à jour, lien dans les ressources.",
]
REPLY_LINES = [
    "Merci pour ce partage, c'est très utile pour notre équipe.",
    "Nous avons eu le même cas l'an dernier : la juridiction a accepté un report.",
    "Je confirme, le formulaire a changé depuis janvier.",
    "Pouvez-vous préciser le calendrier ? Nous aimerions participer.",
]

# Action → relative weight. One action per think time; "reply" is two requests (form, then POST).
# Posting stays rare (1 %: with 200 members and 20 s of think time, about six replies a minute in all).
ACTIONS: dict[str, int] = {
    "home": 12,
    "forum_index": 10,
    "forum": 10,
    "topic": 22,
    "directory": 6,
    "association": 8,
    "resources": 5,
    "guide": 6,
    "chat_rooms": 4,
    "search": 8,
    "reply": 1,
    "chat_message": 8,
}
# Request kinds, in table order, with their French label.
KINDS: dict[str, str] = {
    "login": "connexion (formulaire)",
    "home": "accueil",
    "forum_index": "forum : index",
    "forum": "forum : liste des sujets",
    "topic": "forum : sujet",
    "directory": "annuaire",
    "association": "annuaire : fiche association",
    "resources": "ressources",
    "guide": "ressources : guide",
    "chat_rooms": "discussions : salons",
    "chat_room": "discussions : page du salon",
    "search": "recherche",
    "reply_form": "forum : formulaire de réponse",
    "reply": "forum : réponse (POST)",
    "ws_connect": "discussions : connexion websocket",
    "chat_message": "discussions : message → accusé",
}
HTTP_KINDS = frozenset(KINDS) - {"ws_connect", "chat_message"}


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
        TASKS_BACKEND="django_tasks_db.DatabaseBackend", LOG_LEVEL="WARNING")
    # Every abuse limit stays in the path (its Redis round trips are measured) but far above the load:
    # all simulated members share one address.
    for name in ("LOGIN", "LOGIN_ADDRESS", "FORUM_POSTING", "SEARCH", "SEARCH_SUGGEST", "CHAT"):
        env[f"{name}_RATE_LIMIT"] = RAISED_RATE_LIMIT
    if os.environ.get("PASSERELLES_LOAD_CONN_MAX_AGE"):
        # Opt-in variant (bench/load_settings.py): the servers' CONN_MAX_AGE instead of config's 60 s.
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


def prepare_database() -> bool:
    """Migrate, and seed unless the marker shows this very seed already ran here. True when reused."""
    from django.core.management import call_command
    from django.db import connection
    from machina.apps.forum_conversation.models import Topic

    from forum import notifications

    if connection.vendor != "postgresql":
        raise RuntimeError(f"Le test de charge vise PostgreSQL (trouvé : {connection.vendor}).")
    fingerprint = seed_fingerprint(SEED_SOURCES, SCALE)
    marker = seed_marker("load")
    same_seed = marker.exists() and json.loads(marker.read_text()) == fingerprint
    reset_server_database(required_word="load", create_only=same_seed)
    print("Migrations…", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    if same_seed and Topic.objects.count() >= MIN_TOPICS:
        print(f"Base de charge réutilisée ({describe_database()}, échelle {SCALE}).", flush=True)
        return True
    print(f"seed_demo --scale {SCALE} (une à deux minutes la première fois)…", flush=True)
    with notifications.muted():
        call_command("seed_demo", scale=SCALE)
    if Topic.objects.count() < MIN_TOPICS:
        raise RuntimeError(f"seed_demo --scale {SCALE} a produit moins de {MIN_TOPICS} sujets.")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(fingerprint) + "\n")
    return False


def describe_database() -> str:
    from django.db import connection

    settings = connection.settings_dict
    return f"{connection.vendor} {settings.get('HOST') or 'local'}:{settings.get('PORT') or ''}/{settings['NAME']}"


# --- members -----------------------------------------------------------------------------------------


@dataclass
class Member:
    """One simulated person and what they will visit (URLs are paths on the site)."""

    username: str
    password: str
    room_id: int
    forums: list[str]
    topics: list[str]
    reply_targets: list[str]  # machina's reply form URLs (topics they may reply to)
    associations: list[str]
    guides: list[str]


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


# --- scenario ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    weights: dict[str, int]
    think_mean_s: float

    def next_action(self, rng: random.Random) -> str:
        names = list(self.weights)
        return rng.choices(names, weights=[self.weights[n] for n in names])[0]

    def think(self, rng: random.Random) -> float:
        return rng.expovariate(1.0 / self.think_mean_s)

    def actions_per_second(self, members: int) -> float:
        """Offered load: actions per second for `members` people (service times neglected)."""
        return members / self.think_mean_s

    def http_requests_per_action(self) -> float:
        """HTTP requests an average action makes (a reply is two; a chat message none)."""
        total = sum(self.weights.values())
        per = {name: 0 if name == "chat_message" else (2 if name == "reply" else 1) for name in self.weights}
        return sum(self.weights[n] * per[n] for n in self.weights) / total


def start_offsets(count: int, ramp_s: float, rng: random.Random) -> list[float]:
    """When each member starts, spread evenly over the ramp-up with a little jitter, sorted."""
    if count == 1 or ramp_s == 0:
        return [0.0] * count
    step = ramp_s / count
    return sorted(min(ramp_s, i * step + rng.uniform(0, step)) for i in range(count))


def action_target(action: str, member: Member, rng: random.Random) -> str:
    """The path an action visits for this member."""
    if action == "home":
        return "/"
    if action == "forum_index":
        return "/forum/"
    if action == "forum":
        return rng.choice(member.forums)
    if action == "topic":
        return rng.choice(member.topics)
    if action == "directory":
        return "/annuaire/"
    if action == "association":
        return rng.choice(member.associations)
    if action == "resources":
        return "/ressources/"
    if action == "guide":
        return rng.choice(member.guides) if member.guides else "/ressources/"
    if action == "chat_rooms":
        return "/discussions/"
    if action == "search":
        return "/recherche/?" + urlencode({"q": rng.choice(SEARCH_QUERIES)})
    if action == "reply":
        return rng.choice(member.reply_targets)
    if action == "chat_message":
        return f"/ws/discussions/{member.room_id}/"
    raise ValueError(f"action inconnue : {action}")


# --- statistics --------------------------------------------------------------------------------------


def percentile(values: Sequence[float], percent: float) -> float | None:
    """The `percent`-th percentile (linear interpolation between closest ranks); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    position = (len(ordered) - 1) * percent / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Sample:
    kind: str
    started: float  # seconds since the run's start (this process's monotonic clock)
    latency_s: float
    error: str | None = None  # None: as expected; otherwise "5xx", "4xx", "status 302", "timeout"…
    topology: str | None = None  # the topology serving when the request started


def classify(status: int, expected: Iterable[int]) -> str | None:
    """None when `status` is one of the expected ones; otherwise the error's category."""
    if status in set(expected):
        return None
    if status >= 500:
        return "5xx"
    if status == 429:
        return "429 (limite de débit)"
    if 400 <= status < 500:
        return "4xx"
    return f"statut {status}"


def summarize(samples: Iterable[Sample], *, window: tuple[float, float], kinds: Iterable[str] | None = None,
              topology: str | None = None, seconds: float | None = None) -> dict:
    """Requests/s, p50/p95/p99 (ms, over every sample, errors included) and error rate in `window`.

    Samples are counted when they started inside the window (start included, end excluded), of the
    given kinds and topology (all when None). `seconds`: the time they were sent in, when the topology
    served only part of the window (default: the window's length).
    """
    start, end = window
    wanted = None if kinds is None else set(kinds)
    selected = [s for s in samples if start <= s.started < end and (wanted is None or s.kind in wanted)
                and (topology is None or s.topology == topology)]
    latencies = [s.latency_s * 1000 for s in selected]
    errors = Counter(s.error for s in selected if s.error)
    n = len(selected)
    seconds = max(end - start if seconds is None else seconds, 1e-9)

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 2)

    return {
        "n": n,
        "requests_per_s": round(n / seconds, 3),
        "p50_ms": rounded(percentile(latencies, 50)),
        "p95_ms": rounded(percentile(latencies, 95)),
        "p99_ms": rounded(percentile(latencies, 99)),
        "mean_ms": rounded(statistics.fmean(latencies)) if latencies else None,
        "max_ms": rounded(max(latencies)) if latencies else None,
        "errors": sum(errors.values()),
        "error_rate": round(sum(errors.values()) / n, 5) if n else 0.0,
        "error_kinds": dict(sorted(errors.items())),
    }


# --- HTTP client -------------------------------------------------------------------------------------


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    set_cookies: list[str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


async def http_exchange(host: str, port: int, method: str, target: str, headers: Sequence[tuple[str, str]],
                        body: bytes = b"") -> HttpResponse:
    """One HTTP/1.1 request on a new connection (`Connection: close`), the response read whole.

    Handles Content-Length, chunked and read-to-close bodies: what daphne and uvicorn send.
    """
    reader, writer = await asyncio.open_connection(host, port)
    try:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
                 *(f"{name}: {value}" for name, value in headers)]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionError("connexion fermée sans réponse")
        status = int(status_line.split(None, 2)[1])
        response_headers: dict[str, str] = {}
        set_cookies: list[str] = []
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _sep, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                set_cookies.append(value)
            response_headers[name] = value
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            content = b""
        elif "chunked" in response_headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size = int((await reader.readline()).split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(await reader.readexactly(size))
                await reader.readline()
            content = b"".join(chunks)
        elif "content-length" in response_headers:
            content = await reader.readexactly(int(response_headers["content-length"]))
        else:
            content = await reader.read()
        return HttpResponse(status=status, headers=response_headers, set_cookies=set_cookies, body=content)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


class PageParser(HTMLParser):
    """What a simulated browser needs from a page: its POST forms (the fields a browser would submit,
    no submit buttons) and the chat room's websocket path (`data-ws-url`)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[list[tuple[str, str]]] = []
        self.ws_url: str | None = None
        self._form: list[tuple[str, str]] | None = None
        self._textarea: tuple[str, list[str]] | None = None
        self._select: str | None = None
        self._select_value: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if self.ws_url is None and attributes.get("data-ws-url"):
            self.ws_url = attributes["data-ws-url"]
        if tag == "form":
            self._form = [] if (attributes.get("method") or "").lower() == "post" else None
            return
        if self._form is None:
            return
        if tag == "option" and self._select is not None:
            if "selected" in attributes or self._select_value is None:
                self._select_value = attributes.get("value", "")
            return
        if "name" not in attributes or "disabled" in attributes:
            return
        name = attributes["name"]
        if tag == "input":
            kind = (attributes.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            self._form.append((name, attributes.get("value") or ("on" if kind in ("checkbox", "radio") else "")))
        elif tag == "textarea":
            self._textarea = (name, [])
        elif tag == "select":
            self._select, self._select_value = name, None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag):
        if self._form is None:
            return
        if tag == "textarea" and self._textarea is not None:
            name, parts = self._textarea
            self._form.append((name, "".join(parts).removeprefix("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            self._form.append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "form":
            self.forms.append(self._form)
            self._form = None

    def form_with(self, field_name: str) -> list[tuple[str, str]] | None:
        """The first POST form that has a field named `field_name` (the header's logout form has none)."""
        return next((form for form in self.forms if any(name == field_name for name, _v in form)), None)


def parse_page(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    return parser


def fill_form(fields: Sequence[tuple[str, str]], values: dict[str, str]) -> list[tuple[str, str]]:
    """The form's fields with `values` replacing (or adding) the named ones."""
    filled = [(name, values.get(name, value)) for name, value in fields]
    present = {name for name, _value in fields}
    return filled + [(name, value) for name, value in values.items() if name not in present]


# --- the load ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    topology: str
    start: float  # seconds since the run's start
    end: float


def block_schedule(ramp_s: float, seconds: float, topologies: Sequence[str], block_s: float = BLOCK_S) -> list[Block]:
    """The measured window cut into blocks of about `block_s`, the topologies taking turns (A B A B…).

    Every topology serves the same share of the window, under the same members and machine: slow
    drifts (another process, autovacuum, the database warming up) fall on all of them alike.
    """
    count = len(topologies)
    rounds = max(1, round(seconds / (count * block_s)))
    length = seconds / (rounds * count)
    return [Block(name, ramp_s + (r * count + i) * length, ramp_s + (r * count + i + 1) * length)
            for r in range(rounds) for i, name in enumerate(topologies)]


def topology_at(schedule: Sequence[Block], moment: float) -> str | None:
    """The topology serving at `moment` (seconds since the start); None during the ramp-up."""
    if not schedule or moment < schedule[0].start:
        return None
    for block in schedule:
        if moment < block.end:
            return block.topology
    return schedule[-1].topology


class Router:
    """Where the client sends what, as nginx would route: /ws/ to daphne, HTTP to the serving topology.

    During the ramp-up, HTTP requests go to each topology in turn (all servers warm up); then to the
    topology of the current block, alternating between its servers when it has several.
    """

    def __init__(self, http_ports: dict[str, list[int]], ws_port: int, schedule: Sequence[Block]):
        self.http_ports, self.ws, self.schedule = http_ports, ws_port, list(schedule)
        self.topologies = list(http_ports)
        self._warmup_turn = 0
        self._server_turn: Counter = Counter()

    def topology(self, moment: float) -> str:
        serving = topology_at(self.schedule, moment)
        if serving is None:
            serving = self.topologies[self._warmup_turn % len(self.topologies)]
            self._warmup_turn += 1
        return serving

    def http_port(self, topology: str) -> int:
        ports = self.http_ports[topology]
        port = ports[self._server_turn[topology] % len(ports)]
        self._server_turn[topology] += 1
        return port


@dataclass
class SentMessage:
    topology: str | None
    room_id: int
    sender: int  # the sending connection: its own copy of the message is the acknowledgement
    sent_ns: int
    started: float
    expected: set[int]  # the connections of the room when it was sent, the sender's included
    received: set[int] = field(default_factory=set)
    acked: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class ChatConnection:
    ws: object
    id: int

    @property
    def open(self) -> bool:
        return self.ws.state.name == "OPEN"


class Run:
    """The members, their samples and the chat bookkeeping, for every topology of the schedule."""

    def __init__(self, router: Router, members: Sequence[Member], settings: Settings, seed: int):
        self.router = router
        self.members = members
        self.settings = settings
        self.scenario = Scenario(weights=ACTIONS, think_mean_s=settings.think)
        self.rng = random.Random(seed)
        self.samples: list[Sample] = []
        self.t0 = time.monotonic()
        self.end = self.t0 + settings.warmup + settings.seconds
        self.room_connections: dict[int, set[int]] = defaultdict(set)
        self.sent: dict[str, SentMessage] = {}
        self.deliveries: list[tuple[str | None, float, float]] = []  # (topology, message started, latency ms)
        self.connection_ids = iter(range(10**9))
        self.websockets = []
        self.readers: list[asyncio.Task] = []
        self.unexpected_frames: Counter = Counter()
        self.closing = False

    def now(self) -> float:
        return time.monotonic() - self.t0

    def record(self, kind: str, started: float, error: str | None, topology: str | None = None) -> None:
        moment = started - self.t0
        self.samples.append(Sample(kind=kind, started=moment, latency_s=time.monotonic() - started, error=error,
                                   topology=topology or topology_at(self.router.schedule, moment)))

    # HTTP ---------------------------------------------------------------------------------------

    async def request(self, kind: str, jar: dict[str, str], method: str, path: str, *, expected=(200,),
                      form: Sequence[tuple[str, str]] | None = None, referer: str | None = None) -> HttpResponse | None:
        topology = self.router.topology(self.now())
        port = self.router.http_port(topology)
        origin = f"https://127.0.0.1:{port}"
        headers = [("User-Agent", "passerelles-load/1"), ("Accept", "text/html,application/json"),
                   ("Accept-Language", "fr"), ("X-Forwarded-For", "127.0.0.1"), ("X-Forwarded-Proto", "https")]
        if jar:
            headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in jar.items())))
        body = b""
        if method == "POST":
            body = urlencode(list(form or [])).encode()
            headers += [("Content-Type", "application/x-www-form-urlencoded"), ("Origin", origin),
                        ("Referer", f"{origin}{referer or path}")]
        started = time.monotonic()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                response = await http_exchange("127.0.0.1", port, method, path, headers, body)
        except TimeoutError:
            self.record(kind, started, "timeout", topology)
            return None
        except (OSError, ConnectionError, ValueError, IndexError, asyncio.IncompleteReadError) as error:
            self.record(kind, started, f"connexion ({type(error).__name__})", topology)
            return None
        error = classify(response.status, expected)
        if error is None and response.status in (301, 302) and "/compte/connexion/" in response.headers.get(
                "location", "") and kind != "login":
            error = "redirection vers la connexion"
        self.record(kind, started, error, topology)
        for cookie in response.set_cookies:
            name, _sep, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value in ("", '""') or "max-age=0" in cookie.lower():
                jar.pop(name.strip(), None)
            else:
                jar[name.strip()] = value
        return response if error is None else None

    # websocket -----------------------------------------------------------------------------------

    async def connect_chat(self, member: Member, jar: dict[str, str]):
        from websockets.asyncio.client import connect

        started = time.monotonic()
        url = f"ws://127.0.0.1:{self.router.ws}/ws/discussions/{member.room_id}/"
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                ws = await connect(url, origin=f"https://127.0.0.1:{self.router.ws}", ping_interval=None,
                                   max_queue=None, open_timeout=None,
                                   additional_headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
                                                       "X-Forwarded-Proto": "https"})
        except TimeoutError:
            self.record("ws_connect", started, "timeout")
            return None
        except Exception as error:  # a refused handshake or a network failure: both are websocket failures
            self.record("ws_connect", started, f"websocket ({type(error).__name__})")
            return None
        self.record("ws_connect", started, None)
        connection = ChatConnection(ws=ws, id=next(self.connection_ids))
        self.room_connections[member.room_id].add(connection.id)
        self.websockets.append(ws)
        self.readers.append(asyncio.create_task(self._read(ws, member.room_id, connection.id)))
        return connection

    async def _read(self, ws, room_id: int, connection_id: int) -> None:
        import websockets

        try:
            async for raw in ws:
                arrived = time.perf_counter_ns()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message":
                    sent = self.sent.get(frame.get("client_id"))
                    if sent is not None and connection_id not in sent.received:
                        sent.received.add(connection_id)
                        self.deliveries.append((sent.topology, sent.started, (arrived - sent.sent_ns) / 1e6))
                        if connection_id == sent.sender:
                            sent.acked.set()
                elif kind == "error":
                    self.unexpected_frames[frame.get("code", "?")] += 1
        except websockets.exceptions.ConnectionClosedOK:
            pass
        except websockets.exceptions.ConnectionClosed as closed:
            if not self.closing:
                self.samples.append(Sample("ws_connect", self.now(), 0.0, f"websocket fermée ({closed.rcvd})",
                                           topology_at(self.router.schedule, self.now())))
        finally:
            self.room_connections[room_id].discard(connection_id)

    async def send_chat(self, member: Member, connection: ChatConnection) -> None:
        client_id = f"{member.username}:{uuid.uuid4().hex[:12]}"
        started = time.monotonic()
        message = SentMessage(topology=topology_at(self.router.schedule, started - self.t0),
                              room_id=member.room_id, sender=connection.id, sent_ns=time.perf_counter_ns(),
                              started=started - self.t0, expected=set(self.room_connections[member.room_id]))
        self.sent[client_id] = message
        try:
            frame = {"type": "send", "client_id": client_id, "body": self.rng.choice(CHAT_LINES)}
            await connection.ws.send(json.dumps(frame))
            async with asyncio.timeout(ACK_TIMEOUT_S):
                await message.acked.wait()
        except TimeoutError:
            self.record("chat_message", started, "timeout (pas d'accusé)")
            return
        except Exception as error:
            self.record("chat_message", started, f"websocket ({type(error).__name__})")
            return
        self.record("chat_message", started, None)

    # one member ---------------------------------------------------------------------------------

    async def member(self, member: Member, start_at: float) -> None:
        rng = random.Random(f"{member.username}-{self.rng.random()}")
        await asyncio.sleep(max(0.0, start_at - self.now()))
        jar: dict[str, str] = {}
        # A person whose login fails tries again after a pause (the failure is counted), as long as the
        # test lasts: the population stays the same whatever the errors.
        while not await self.login(member, jar):
            pause = self.scenario.think(rng)
            if time.monotonic() + pause >= self.end:
                return
            await asyncio.sleep(pause)
        await self.request("home", jar, "GET", "/")
        room = await self.request("chat_room", jar, "GET", f"/discussions/{member.room_id}/")
        chat = await self.connect_chat(member, jar) if room is not None else None
        # The websocket stays open after the member's last action: Run.run closes every connection
        # once late deliveries had DELIVERY_GRACE_S to arrive.
        while True:
            pause = self.scenario.think(rng)
            if time.monotonic() + pause >= self.end:
                break
            await asyncio.sleep(pause)
            action = self.scenario.next_action(rng)
            target = action_target(action, member, rng)
            if action == "chat_message":
                if chat is None or not chat.open:  # as chat.js does: reconnect, then send
                    chat = await self.connect_chat(member, jar)
                if chat is not None:
                    await self.send_chat(member, chat)
            elif action == "reply":
                await self.reply(member, jar, target, rng)
            else:
                await self.request(action, jar, "GET", target)

    async def login(self, member: Member, jar: dict[str, str]) -> bool:
        """The login form, as a browser fills it: its page (CSRF cookie and token), then its POST."""
        page = await self.request("login", jar, "GET", "/compte/connexion/")
        if page is None:
            return False
        fields = parse_page(page.text).form_with("password")
        if fields is None:
            self.samples[-1].error = "formulaire de connexion introuvable"
            return False
        form = fill_form(fields, {"username": member.username, "password": member.password})
        return await self.request("login", jar, "POST", "/compte/connexion/", form=form, expected=(302,)) is not None

    async def reply(self, member: Member, jar: dict[str, str], path: str, rng: random.Random) -> None:
        page = await self.request("reply_form", jar, "GET", path)
        if page is None:
            return
        fields = parse_page(page.text).form_with("content")
        if fields is None:
            self.samples[-1].error = "formulaire de réponse introuvable"
            return
        body = f"{rng.choice(REPLY_LINES)}\n\n(réponse de charge {uuid.uuid4().hex[:8]})"
        await self.request("reply", jar, "POST", path, form=fill_form(fields, {"content": body}), expected=(302,),
                           referer=path)

    async def run(self, offsets: Sequence[float]) -> None:
        tasks = [asyncio.create_task(self.member(m, offset)) for m, offset in zip(self.members, offsets, strict=True)]
        try:
            async with asyncio.timeout(self.settings.warmup + self.settings.seconds + STOP_GRACE_S):
                await asyncio.gather(*tasks)
        except TimeoutError:
            print("  des membres n'avaient pas fini à l'heure : arrêtés.", flush=True)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.sleep(DELIVERY_GRACE_S)  # deliveries still on their way
            self.closing = True
            await asyncio.gather(*(ws.close() for ws in self.websockets), return_exceptions=True)
            for reader in self.readers:
                reader.cancel()
            await asyncio.gather(*self.readers, return_exceptions=True)

    def chat_summary(self, window: tuple[float, float], topology: str | None = None) -> dict:
        start, end = window
        in_window = [m for m in self.sent.values() if start <= m.started < end
                     and (topology is None or m.topology == topology)]
        expected = sum(len(m.expected) for m in in_window)
        received = sum(len(m.received) for m in in_window)
        latencies = [ms for serving, started, ms in self.deliveries if start <= started < end
                     and (topology is None or serving == topology)]
        return {
            "messages": len(in_window),
            "deliveries": received,
            "deliveries_expected": expected,
            "deliveries_missing": max(0, expected - received),
            "delivery_p50_ms": _round(percentile(latencies, 50)),
            "delivery_p95_ms": _round(percentile(latencies, 95)),
            "delivery_p99_ms": _round(percentile(latencies, 99)),
            "error_frames": dict(self.unexpected_frames),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


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
    def __init__(self, name: str, command: list[str], port: int | None = None):
        self.name, self.command, self.port = name, command, port
        self.log = BENCH_DIR / "load" / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("w") as log:
            self.process = subprocess.Popen(self.command, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self) -> None:
        """Until an HTTP GET / answers below 500 (every worker of a multi-process server may not be up yet)."""
        if self.port is None:
            return
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} s'est arrêté :\n{self.log.read_text()[-3000:]}")
            try:
                response = asyncio.run(http_exchange("127.0.0.1", self.port, "GET", "/", [
                    ("X-Forwarded-Proto", "https")]))
                if response.status < 500:
                    return
            except OSError:
                pass
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


def run_load(members: Sequence[Member], settings: Settings) -> list[dict]:
    """Start the servers, run the members through the schedule, stop the servers; one result per topology."""
    processes, http, ws = build_processes(settings.topologies)
    schedule = block_schedule(settings.warmup, settings.seconds, settings.topologies)
    for name in settings.topologies:
        print(f"  {name} : {DESCRIPTIONS[name]}", flush=True)
    print(f"  {len(schedule)} blocs de {schedule[0].end - schedule[0].start:.0f} s en alternance : "
          f"{' '.join(block.topology for block in schedule)}", flush=True)
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_ready()
        router = Router({name: [p.port for p in servers] for name, servers in http.items()}, ws.port, schedule)
        results = asyncio.run(_measure(router, processes, http, members, settings))
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


async def _measure(router: Router, processes: Sequence[Process], http: dict[str, list[Process]],
                   members: Sequence[Member], settings: Settings) -> list[dict]:
    run = Run(router, members, settings, seed=SEED)
    offsets = start_offsets(len(members), settings.ramp, random.Random(SEED))
    usage: dict[str, Usage] = defaultdict(Usage)
    connections: dict[str, list[int]] = defaultdict(list)

    def snapshot() -> tuple:
        return (time.monotonic(), time.process_time(), {p.name: p.cpu_seconds() for p in processes}, machine_cpu())

    async def sample_cpu() -> None:
        # One reading at each block boundary; what happened in between goes to the block's topology.
        for block in router.schedule:
            await asyncio.sleep(max(0.0, run.t0 + block.start - time.monotonic()))
            before = snapshot()
            await asyncio.sleep(max(0.0, run.t0 + block.end - time.monotonic()))
            after = snapshot()
            spent = usage[block.topology]
            spent.wall += after[0] - before[0]
            spent.client += after[1] - before[1]
            spent.processes.update({name: after[2][name] - before[2][name] for name in after[2]})
            spent.machine_busy += after[3][0] - before[3][0]
            spent.machine_total += after[3][1] - before[3][1]

    async def sample_connections() -> None:
        # Every second of the measured window (the monitor's own connection is not counted: other database).
        await asyncio.sleep(settings.warmup)
        while time.monotonic() < run.end:
            count = await asyncio.to_thread(database_connections)
            serving = topology_at(router.schedule, run.now())
            if count is not None and serving is not None:
                connections[serving].append(count)
            await asyncio.sleep(1.0)

    sampler = asyncio.create_task(sample_cpu())
    monitor = asyncio.create_task(sample_connections())
    await run.run(offsets)
    await asyncio.gather(sampler, return_exceptions=True)
    monitor.cancel()
    await asyncio.gather(monitor, return_exceptions=True)
    load_average = [round(v, 2) for v in os.getloadavg()]
    max_connections = postgres_max_connections()
    window = (settings.warmup, settings.warmup + settings.seconds)
    results = []
    for name in settings.topologies:
        spent = usage[name]
        seconds = sum(block.end - block.start for block in router.schedule if block.topology == name)
        wall = max(spent.wall, 1e-9)
        http_requests = summarize(run.samples, window=window, kinds=HTTP_KINDS - {"login"}, topology=name)["n"]
        # Server CPU per HTTP request (its HTTP servers only; for `daphne`, its websocket work too): what a
        # request costs, whatever else runs on the machine.
        http_cpu = sum(spent.processes[p.name] for p in http[name])
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
                summary = summarize(run.samples, window=(0.0, window[1]), kinds=[kind], topology=name)
                summary["requests_per_s"] = None
            else:
                summary = summarize(run.samples, window=window, kinds=[kind], topology=name, seconds=seconds)
            if summary["n"]:
                per_kind[kind] = summary
        blocks = [{"start_s": round(block.start, 1), "end_s": round(block.end, 1),
                   **{k: v for k, v in summarize(run.samples, window=(block.start, block.end), topology=name,
                                                 kinds=HTTP_KINDS - {"login"}).items()
                      if k in ("n", "p50_ms", "p95_ms", "errors")}}
                  for block in router.schedule if block.topology == name]
        results.append({
            "topology": name, "description": DESCRIPTIONS[name], "window_s": list(window), "seconds_served": seconds,
            "blocks": blocks, "per_kind": per_kind,
            "http": summarize(run.samples, window=window, kinds=HTTP_KINDS - {"login"}, topology=name,
                              seconds=seconds),
            "all": summarize(run.samples, window=window, kinds=set(KINDS) - {"login"}, topology=name,
                             seconds=seconds),
            "chat": run.chat_summary(window, topology=name), "cpu": cpu, "database_connections": database,
        })
    return results


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


@register("load", "Charge : membres simulés sur daphne / uvicorn, PostgreSQL et Redis", environment=environment)
def load_benchmark() -> Report:
    settings = read_settings()
    problems = services_answer()
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr, flush=True)
        print("Test de charge arrêté : PostgreSQL et Redis doivent répondre (voir bench/bench_load.py).",
              file=sys.stderr, flush=True)
        raise SystemExit(2)

    from django.db import connection

    reused = prepare_database()
    print(f"Choix de {settings.users} membres…", flush=True)
    members = choose_members(settings.users)
    _clear_redis()
    connection.close()  # the servers are the only database clients during the run
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
        "scale": SCALE,
        "database": describe_database(),
        "database_reused": reused,
        "redis": redis_url(),
        "members": settings.users,
        "smoke_run": settings.users < DEFAULT_USERS or settings.seconds < DEFAULT_SECONDS,
        "offered_actions_per_s": round(scenario.actions_per_second(settings.users), 2),
        "http_requests_per_action": round(scenario.http_requests_per_action(), 3),
        "topologies": {r["topology"]: {k: r[k] for k in ("description", "http", "all", "chat", "cpu", "window_s",
                                                               "seconds_served", "blocks", "database_connections",
                                                               "server_log_tracebacks", "processes_exited")}
                       for r in results},
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
        if os.environ.get("PASSERELLES_LOAD_CONN_MAX_AGE") else "config/settings.py (60 s)",
        "actions": ACTIONS, "request_timeout_s": REQUEST_TIMEOUT_S, "ack_timeout_s": ACK_TIMEOUT_S,
        "client": "asyncio, HTTP/1.1 une connexion par requête (Connection: close, comme nginx vers l'amont) "
                  "+ websockets (une connexion par membre)",
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
