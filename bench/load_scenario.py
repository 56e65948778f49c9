"""What the load test's simulated members do and how it is measured, shared by the Locust users
(bench/locustfile.py, in Locust's own process) and the driver that starts the servers and reports
(bench/bench_load.py): the mix of actions, each member's targets, the blocks in which the topologies take
turns, the routing an nginx in front would do, and the statistics. Neither Django nor Locust is imported
here: the Locust process runs under gevent, the driver under Django.
"""

from __future__ import annotations

import json
import math
import random
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bs4 import BeautifulSoup

REQUEST_TIMEOUT_S = 30.0
ACK_TIMEOUT_S = 10.0
DELIVERY_GRACE_S = 5.0
# The topologies take turns in blocks of about this long (see block_schedule).
BLOCK_S = 30.0
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
# What the members ask for once logged in (HTTP pages, form posts, chat messages): the offered and achieved
# rates of the capacity test count these. Logins, the room's page and its websocket come once per member.
REQUEST_KINDS = frozenset(KINDS) - {"login", "chat_room", "ws_connect"}



# --- members and their plan --------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Plan:
    """Everything the Locust process needs, written by the driver as JSON (PASSERELLES_LOAD_PLAN).

    Times are on the machine's monotonic clock (time.monotonic(), the same in every process): members
    start at `t0 + offsets[i]`, the measured window is `[t0 + warmup, t0 + warmup + seconds)`.
    """

    t0: float
    warmup: float
    seconds: float
    think: float
    members: list[Member]
    offsets: list[float]
    http_ports: dict[str, list[int]]
    ws_port: int
    schedule: list[Block]
    seed: int
    samples_path: str
    delivery_grace_s: float = DELIVERY_GRACE_S
    # The origin of the site's pages (its SITE_URL), which a browser sends with the chat's handshake.
    page_origin: str | None = None
    # Capacity test (empty otherwise): the offered load's steps; members pace themselves by them
    # (ramp_pause) and Locust stops after the first step that fails (step_sustained).
    steps: list[Step] = field(default_factory=list)
    requests_per_action: float = 1.0
    p95_limit_ms: float = 300.0

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def read(cls, path: Path) -> Plan:
        raw = json.loads(path.read_text())
        return cls(**{**raw, "members": [Member(**m) for m in raw["members"]],
                      "schedule": [Block(**b) for b in raw["schedule"]],
                      "steps": [Step(**s) for s in raw.get("steps", [])]})


@dataclass(frozen=True)
class Scenario:
    weights: dict[str, int]
    think_mean_s: float

    def think(self, rng: random.Random) -> float:
        return rng.expovariate(1.0 / self.think_mean_s)

    def actions_per_second(self, members: int) -> float:
        """Offered load: actions per second for `members` people (service times neglected)."""
        return members / self.think_mean_s

    def requests_per_action(self) -> float:
        """Requests an average action makes, chat messages included (a reply is two: its form, its POST)."""
        total = sum(self.weights.values())
        return sum(weight * (2 if name == "reply" else 1) for name, weight in self.weights.items()) / total

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


# --- forms ------------------------------------------------------------------------------------------


def form_fields(html: str, field_name: str) -> list[tuple[str, str]] | None:
    """The fields a browser would submit from the first POST form that has a field named `field_name`
    (the header's logout form has none): no buttons, no files, unticked boxes left out."""
    for form in BeautifulSoup(html, "html.parser").find_all("form"):
        if (form.get("method") or "").lower() != "post" or not form.find(attrs={"name": field_name}):
            continue
        fields = []
        for element in form.find_all(["input", "textarea", "select"]):
            name = element.get("name")
            if not name or element.has_attr("disabled"):
                continue
            if element.name == "textarea":
                fields.append((name, element.get_text().removeprefix("\n")))
            elif element.name == "select":
                options = element.find_all("option")
                chosen = next((o for o in options if o.has_attr("selected")), options[0] if options else None)
                fields.append((name, chosen.get("value", "") if chosen else ""))
            else:
                kind = (element.get("type") or "text").lower()
                if kind in ("submit", "button", "image", "reset", "file"):
                    continue
                if kind in ("checkbox", "radio"):
                    if element.has_attr("checked"):
                        fields.append((name, element.get("value") or "on"))
                    continue
                fields.append((name, element.get("value") or ""))
        return fields
    return None


def fill_form(fields: Sequence[tuple[str, str]], values: dict[str, str]) -> list[tuple[str, str]]:
    """The form's fields with `values` replacing (or adding) the named ones."""
    filled = [(name, values.get(name, value)) for name, value in fields]
    present = {name for name, _value in fields}
    return filled + [(name, value) for name, value in values.items() if name not in present]


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
    started: float  # seconds since the plan's t0
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


# --- schedule and routing ----------------------------------------------------------------------------


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




# --- chat --------------------------------------------------------------------------------------------


@dataclass
class SentMessage:
    """A chat message a member sent: the connections of the room when it was sent (the sender's
    included: its own copy is the acknowledgement) and those it reached."""

    topology: str | None
    room_id: int
    sender: int
    sent_ns: int  # time.perf_counter_ns() in the Locust process, for the delivery latencies
    started: float  # seconds since t0
    expected: list[int]
    received: list[int]


def chat_summary(sent: Iterable[SentMessage], deliveries: Iterable[Sequence], error_frames: dict[str, int],
                 window: tuple[float, float], topology: str | None = None) -> dict:
    """Messages sent in `window` (by the topology serving then), their deliveries and delivery latencies.

    `deliveries`: (topology, message started, latency ms) for every connection a message reached.
    """
    start, end = window
    in_window = [m for m in sent if start <= m.started < end and (topology is None or m.topology == topology)]
    expected = sum(len(m.expected) for m in in_window)
    received = sum(len(m.received) for m in in_window)
    latencies = [ms for serving, started, ms in deliveries if start <= started < end
                 and (topology is None or serving == topology)]
    return {
        "messages": len(in_window),
        "deliveries": received,
        "deliveries_expected": expected,
        "deliveries_missing": max(0, expected - received),
        "delivery_p50_ms": rounded(percentile(latencies, 50)),
        "delivery_p95_ms": rounded(percentile(latencies, 95)),
        "delivery_p99_ms": rounded(percentile(latencies, 99)),
        "error_frames": dict(error_frames),
    }


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# --- capacity: the offered load in steps ---------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step of the capacity test: `rate` requests/s offered (HTTP and chat messages) in [start, end)."""

    rate: float
    start: float  # seconds since the plan's t0
    end: float


def step_schedule(start_s: float, rates: Sequence[float], step_s: float) -> list[Step]:
    """Consecutive steps of `step_s` seconds from `start_s`, one per offered rate, in the given order."""
    return [Step(float(rate), start_s + i * step_s, start_s + (i + 1) * step_s) for i, rate in enumerate(rates)]


def step_index(steps: Sequence[Step], moment: float) -> int:
    """The step in force at `moment`: the first one before it (warm-up), the last one after the end."""
    for index, step in enumerate(steps):
        if moment < step.end:
            return index
    return len(steps) - 1


def ramp_pause(moment: float, rng: random.Random, steps: Sequence[Step], members: int,
               requests_per_action: float) -> float:
    """One member's think time from `moment`, so that `members` people offer each step's rate together.

    Each member acts as a Poisson process of rate (step rate / members / requests per action): the pause
    is exponential. When it would cross into the next step, the rest is drawn again at the next step's
    rate from the boundary, which is exact for an exponential (it has no memory): the offered load
    changes at the boundary, not one think time later.
    """
    index = step_index(steps, moment)
    at = moment
    while True:
        step = steps[index]
        per_member = step.rate / members / requests_per_action  # actions/s of one member
        pause = rng.expovariate(per_member)
        if at + pause < step.end or index == len(steps) - 1:
            return at + pause - moment
        at, index = step.end, index + 1


def step_sample_summary(samples: Iterable[Sample], step: Step) -> dict:
    """What the members saw during one step (requests that started in it): achieved rate, HTTP percentiles
    and errors of every kind (a login or a websocket that fails counts too)."""
    samples = list(samples)
    window = (step.start, step.end)
    requests = summarize(samples, window=window, kinds=REQUEST_KINDS)
    http = summarize(samples, window=window, kinds=HTTP_KINDS - {"login"})
    every = summarize(samples, window=window)
    return {
        "offered_per_s": step.rate, "achieved_per_s": requests["requests_per_s"], "requests": requests["n"],
        "http_requests": http["n"], "p50_ms": http["p50_ms"], "p95_ms": http["p95_ms"], "p99_ms": http["p99_ms"],
        "errors": every["errors"], "error_kinds": every["error_kinds"],
    }


# Below this share of the offered rate, the members (a closed loop: each waits for an answer before
# thinking again) or the client could not send the step's load: it says nothing about the site at that rate.
MIN_ACHIEVED_SHARE = 0.8


def step_sustained(summary: dict, p95_limit_ms: float) -> tuple[bool, str]:
    """Whether a step held (HTTP p95 under the limit, no error, the offered rate achieved) and why not."""
    if summary["p95_ms"] is None:
        return False, "aucune requête HTTP mesurée"
    reasons = []
    if summary["p95_ms"] >= p95_limit_ms:
        reasons.append(f"p95 HTTP {summary['p95_ms']:g} ms ≥ {p95_limit_ms:g} ms")
    if summary["errors"]:
        reasons.append(f"{summary['errors']} erreur(s)")
    if summary["achieved_per_s"] < MIN_ACHIEVED_SHARE * summary["offered_per_s"]:
        reasons.append(f"{summary['achieved_per_s']:g} req/s obtenues pour {summary['offered_per_s']:g} offertes "
                       f"(moins de {100 * MIN_ACHIEVED_SHARE:g} %)")
    return not reasons, " ; ".join(reasons)


def choose_capacity(steps: Sequence[dict]) -> dict:
    """The capacity: the highest offered rate of the steps held before the first one that failed.

    `steps`: in the order they ran, each with `offered_per_s` and `sustained`. Steps after the first
    failure (there should be none: the ramp stops there) do not count, even if they held.
    """
    capacity, failed_at = None, None
    for index, step in enumerate(steps):
        if not step["sustained"]:
            failed_at = index
            break
        capacity = step["offered_per_s"] if capacity is None else max(capacity, step["offered_per_s"])
    return {"capacity_per_s": capacity, "first_failing_step": failed_at,
            "first_failing_rate_per_s": None if failed_at is None else steps[failed_at]["offered_per_s"],
            # Every step held: the capacity is at least the last one (the ramp did not reach the limit).
            "limit_reached": failed_at is not None}


def capacity_verdict(capacity: float | None, target: float) -> str:
    """« atteint » when the capacity reaches the target rate, else « non atteint »."""
    return "atteint" if capacity is not None and capacity >= target else "non atteint"
