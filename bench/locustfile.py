"""The load test's simulated members, as Locust users (issue 15: Locust instead of a hand-written client).

Started by bench/bench_load.py (`make bench BENCH_ARGS=load`), which starts the servers, writes the plan
(bench/load_scenario.Plan: members, their targets, start offsets, server ports, the topologies' blocks)
and runs `locust --headless -f bench/locustfile.py` with PASSERELLES_LOAD_PLAN pointing at it. Locust's own
report (its CSV files) lands beside the servers' logs; every request and chat message is also written,
with the topology serving when it started, to the plan's `samples_path`, from which the driver computes
the per-topology comparison of bench/results/load.postgresql.json.

Each user is one member: at their moment of the ramp-up they log in through the real login form (CSRF
token and cookie, as a browser), open their chat room's page and keep its websocket open; then, until the
end, one action per think time (exponential, mean PLAN.think), drawn by Locust from the weights of
load_scenario.ACTIONS. HTTP goes where an nginx in front would send it (load_scenario.Router), one
connection per request (`Connection: close`: deploy/nginx.conf keeps no upstream connection), with
`X-Forwarded-Proto: https` so that Django sees the secure requests production sees. Locust has no
websocket client: websocket-client's blocking sockets, which Locust's gevent makes cooperative, carry
the chat, one reader greenlet per connection.

Capacity test (the plan has `steps`): the think time is no longer a fixed mean but the pace that makes the
members together offer the current step's requests/s (load_scenario.ramp_pause); a greenlet judges each
step shortly after its end (load_scenario.step_sustained) and ends the test after the first one that did
not hold. The samples file then also says when the members stopped, how Locust judged the steps and
Locust's own resident memory.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path

import gevent
import requests
import websocket
from gevent.event import Event
from locust import HttpUser, events

from bench.load_scenario import (
    ACK_TIMEOUT_S,
    ACTIONS,
    CHAT_LINES,
    KINDS,
    REPLY_LINES,
    REQUEST_TIMEOUT_S,
    Plan,
    Router,
    Sample,
    SentMessage,
    action_target,
    classify,
    fill_form,
    form_fields,
    ramp_pause,
    step_sample_summary,
    step_sustained,
    topology_at,
)

PLAN = Plan.read(Path(os.environ["PASSERELLES_LOAD_PLAN"]))
ROUTER = Router(PLAN.http_ports, PLAN.ws_port, PLAN.schedule)
END = PLAN.t0 + PLAN.warmup + PLAN.seconds
# The capacity test's steps are judged this long after their end (answers still on their way land first).
STEP_JUDGE_DELAY_S = 2.0
# Set when a step of the capacity test failed: the ramp stops there.
STOP = Event()


def now() -> float:
    """Seconds since the plan's t0 (the monotonic clock is the machine's: the driver reads the same)."""
    return time.monotonic() - PLAN.t0


class Measures:
    """Every sample, chat message and delivery of this process, written out at the end."""

    def __init__(self):
        self.samples: list[Sample] = []
        self.sent: dict[str, SentMessage] = {}
        self.acks: dict[str, Event] = {}
        self.deliveries: list[tuple[str | None, float, float]] = []
        self.error_frames: Counter = Counter()
        self.room_connections: dict[int, set[int]] = defaultdict(set)
        self.sockets: list[websocket.WebSocket] = []
        self.closing = False
        self.written = False
        self.stopped_at: float | None = None
        self.judged: list[dict] = []

    def record(self, kind: str, started: float, error: str | None, topology: str | None = None,
               latency_s: float | None = None) -> None:
        moment = started - PLAN.t0
        self.samples.append(Sample(kind=kind, started=moment,
                                   latency_s=time.monotonic() - started if latency_s is None else latency_s,
                                   error=error, topology=topology or topology_at(PLAN.schedule, moment)))

    def write(self) -> None:
        if self.written:
            return
        self.written = True
        Path(PLAN.samples_path).write_text(json.dumps({
            "samples": [asdict(sample) for sample in self.samples],
            "sent": [asdict(message) for message in self.sent.values()],
            "deliveries": self.deliveries,
            "error_frames": dict(self.error_frames),
            "stopped_at": self.stopped_at if self.stopped_at is not None else now(),
            "judged_steps": self.judged,
            "client_memory_kb": _own_memory(),
        }))


MEASURES = Measures()
_members = itertools.count()
_connection_ids = itertools.count()


def _websocket_event(kind: str, started: float, error: str | None) -> None:
    """Chat samples in Locust's own statistics too (its HTTP client reports the pages itself)."""
    events.request.fire(request_type="WS", name=KINDS[kind], response_time=(time.monotonic() - started) * 1000,
                        response_length=0, exception=None if error is None else Exception(error), context={})


def _task(action: str):
    def task(user: PasserellesMember) -> None:
        user.act(action)

    task.__name__ = action
    return task


class PasserellesMember(HttpUser):
    host = "http://127.0.0.1"  # every request names its server (the Router's port)
    tasks = {_task(action): weight for action, weight in ACTIONS.items()}  # Locust draws by these weights

    def wait_time(self) -> float:
        if PLAN.steps:  # capacity test: the members together offer the step's rate
            return ramp_pause(now(), self.rng, PLAN.steps, len(PLAN.members), PLAN.requests_per_action)
        return self.rng.expovariate(1.0 / PLAN.think)

    def on_start(self) -> None:
        index = next(_members) % len(PLAN.members)
        self.member = PLAN.members[index]
        self.rng = random.Random(f"{self.member.username}-{PLAN.seed}")
        self.chat = None
        gevent.sleep(max(0.0, PLAN.offsets[index] - now()))
        # A person whose login fails tries again after a pause (the failure is counted) until the end:
        # the population stays the same whatever the errors.
        while not self.login():
            gevent.sleep(self.wait_time())
        self.request("home", "GET", "/")
        if self.request("chat_room", "GET", f"/discussions/{self.member.room_id}/") is not None:
            self.chat = self.connect_chat()
        gevent.sleep(self.wait_time())  # Locust runs a task at once after on_start: a person reads first

    def act(self, action: str) -> None:
        target = action_target(action, self.member, self.rng)
        if action == "chat_message":
            if self.chat is None or not self.chat[0].connected:  # as chat.js does: reconnect, then send
                self.chat = self.connect_chat()
            if self.chat is not None:
                self.send_chat()
        elif action == "reply":
            self.reply(target)
        else:
            self.request(action, "GET", target)

    # HTTP ---------------------------------------------------------------------------------------

    def request(self, kind: str, method: str, path: str, *, expected=(200,), form=None, referer: str | None = None):
        """One request to the server that serves now; the response when it was the expected one."""
        topology = ROUTER.topology(now())
        port = ROUTER.http_port(topology)
        origin = f"https://127.0.0.1:{port}"
        headers = {"User-Agent": "passerelles-load/2 (locust)", "Accept": "text/html,application/json",
                   "Accept-Language": "fr", "X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "https",
                   "Connection": "close"}
        if method == "POST":
            headers.update({"Origin": origin, "Referer": f"{origin}{referer or path}"})
        started = time.monotonic()
        with self.client.request(method, f"http://127.0.0.1:{port}{path}", name=KINDS[kind], data=form,
                                 headers=headers, allow_redirects=False, timeout=REQUEST_TIMEOUT_S,
                                 catch_response=True) as response:
            latency = time.monotonic() - started
            error = _error_of(response, kind, expected)
            if error is None:
                response.success()
            else:
                response.failure(error)
        MEASURES.record(kind, started, error, topology, latency_s=latency)
        # The site's cookies are `Secure` (production settings); the requests reach the servers in plain
        # HTTP on loopback, as they do behind nginx: the browser's side of the TLS is assumed.
        for cookie in self.client.cookies:
            cookie.secure = False
        return response if error is None else None

    def login(self) -> bool:
        """The login form, as a browser fills it: its page (CSRF cookie and token), then its POST."""
        page = self.request("login", "GET", "/compte/connexion/")
        if page is None:
            return False
        fields = form_fields(page.text, "password")
        if fields is None:
            MEASURES.samples[-1].error = "formulaire de connexion introuvable"
            return False
        form = fill_form(fields, {"username": self.member.username, "password": self.member.password})
        return self.request("login", "POST", "/compte/connexion/", form=form, expected=(302,)) is not None

    def reply(self, path: str) -> None:
        """machina's reply form: its page, then its POST with the fields a browser would send."""
        page = self.request("reply_form", "GET", path)
        if page is None:
            return
        fields = form_fields(page.text, "content")
        if fields is None:
            MEASURES.samples[-1].error = "formulaire de réponse introuvable"
            return
        body = f"{self.rng.choice(REPLY_LINES)}\n\n(réponse de charge {uuid.uuid4().hex[:8]})"
        self.request("reply", "POST", path, form=fill_form(fields, {"content": body}), expected=(302,), referer=path)

    # websocket -----------------------------------------------------------------------------------

    def connect_chat(self) -> tuple[websocket.WebSocket, int] | None:
        """The room's websocket, with the session cookie, and a greenlet reading every frame it receives."""
        started = time.monotonic()
        url = f"ws://127.0.0.1:{PLAN.ws_port}/ws/discussions/{self.member.room_id}/"
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.client.cookies)
        try:
            ws = websocket.create_connection(url, timeout=REQUEST_TIMEOUT_S,
                                             origin=PLAN.page_origin or f"https://127.0.0.1:{PLAN.ws_port}",
                                             header=["X-Forwarded-Proto: https"], cookie=cookie)
        except Exception as error:  # a refused handshake, a timeout or a network failure: websocket failures
            error_text = "timeout" if isinstance(error, TimeoutError | websocket.WebSocketTimeoutException) \
                else f"websocket ({type(error).__name__})"
            MEASURES.record("ws_connect", started, error_text)
            _websocket_event("ws_connect", started, error_text)
            return None
        ws.settimeout(None)
        MEASURES.record("ws_connect", started, None)
        _websocket_event("ws_connect", started, None)
        connection_id = next(_connection_ids)
        MEASURES.room_connections[self.member.room_id].add(connection_id)
        MEASURES.sockets.append(ws)
        gevent.spawn(_read, ws, self.member.room_id, connection_id)
        return ws, connection_id

    def send_chat(self) -> None:
        ws, connection_id = self.chat
        client_id = f"{self.member.username}:{uuid.uuid4().hex[:12]}"
        started = time.monotonic()
        MEASURES.sent[client_id] = SentMessage(
            topology=topology_at(PLAN.schedule, started - PLAN.t0), room_id=self.member.room_id,
            sender=connection_id, sent_ns=time.perf_counter_ns(), started=started - PLAN.t0,
            expected=sorted(MEASURES.room_connections[self.member.room_id]), received=[])
        acked = MEASURES.acks[client_id] = Event()
        try:
            ws.send(json.dumps({"type": "send", "client_id": client_id, "body": self.rng.choice(CHAT_LINES)}))
            error = None if acked.wait(ACK_TIMEOUT_S) else "timeout (pas d'accusé)"
        except Exception as failure:  # the connection broke under the send
            error = f"websocket ({type(failure).__name__})"
        MEASURES.record("chat_message", started, error)
        _websocket_event("chat_message", started, error)


def _read(ws: websocket.WebSocket, room_id: int, connection_id: int) -> None:
    """Every frame of one connection: deliveries (the sender's own copy acknowledges) and error frames."""
    try:
        while True:
            raw = ws.recv()
            arrived = time.perf_counter_ns()
            if not raw:
                if not ws.connected:
                    raise websocket.WebSocketConnectionClosedException("fermée par le serveur")
                continue
            frame = json.loads(raw)
            if frame.get("type") == "message":
                sent = MEASURES.sent.get(frame.get("client_id"))
                if sent is not None and connection_id not in sent.received:
                    sent.received.append(connection_id)
                    MEASURES.deliveries.append((sent.topology, sent.started, (arrived - sent.sent_ns) / 1e6))
                    if connection_id == sent.sender:
                        MEASURES.acks[frame["client_id"]].set()
            elif frame.get("type") == "error":
                MEASURES.error_frames[frame.get("code", "?")] += 1
    except Exception as closed:  # the server closed the connection, or the network broke
        if not MEASURES.closing:
            MEASURES.samples.append(Sample("ws_connect", now(), 0.0, f"websocket fermée ({type(closed).__name__})",
                                           topology_at(PLAN.schedule, now())))
    finally:
        MEASURES.room_connections[room_id].discard(connection_id)


def _error_of(response, kind: str, expected) -> str | None:
    failure = getattr(response, "error", None)
    if response.status_code == 0 or failure is not None:
        if isinstance(failure, requests.Timeout):
            return "timeout"
        return f"connexion ({type(failure).__name__})"
    error = classify(response.status_code, expected)
    if error is None and response.status_code in (301, 302) and "/compte/connexion/" in response.headers.get(
            "location", "") and kind != "login":
        error = "redirection vers la connexion"
    return error


def _own_memory() -> dict[str, int]:
    """This process's resident memory now and at its peak (kB, /proc/self/status)."""
    memory = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                memory[line.split(":")[0]] = int(line.split()[1])
    return memory


@events.test_start.add_listener
def _end_on_time(environment, **_kwargs) -> None:
    gevent.spawn(_finish, environment)
    if PLAN.steps:
        gevent.spawn(_judge_steps)


def _judge_steps() -> None:
    """Capacity test: after each step, whether it held (load_scenario.step_sustained); after the first one
    that did not, stop the ramp (the driver judges again with the chat deliveries, which arrive later)."""
    for step in PLAN.steps:
        gevent.sleep(max(0.0, PLAN.t0 + step.end + STEP_JUDGE_DELAY_S - time.monotonic()))
        summary = step_sample_summary(MEASURES.samples, step)
        held, reason = step_sustained(summary, PLAN.p95_limit_ms)
        MEASURES.judged.append({"offered_per_s": step.rate, "sustained": held, "reason": reason})
        if not held:
            STOP.set()
            return


def _finish(environment) -> None:
    """At the end of the measured window (or of the capacity test's first failed step): stop the members
    (an action under way finishes), give late chat deliveries the plan's grace, close every websocket,
    write the samples and quit."""
    STOP.wait(max(0.0, END - time.monotonic()))
    MEASURES.stopped_at = now()
    environment.runner.stop()
    gevent.sleep(PLAN.delivery_grace_s)
    MEASURES.closing = True
    for ws in MEASURES.sockets:
        with contextlib.suppress(Exception):
            ws.close()
    MEASURES.write()
    environment.runner.quit()


@events.quitting.add_listener
def _write_on_quit(**_kwargs) -> None:
    MEASURES.write()  # stopped early (its --run-time, Ctrl+C): what was measured so far
