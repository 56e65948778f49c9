"""Live chat: real daphne, real websocket clients on loopback, Redis channel layer; ours beside a reference.

Two daphne processes run side by side in the same run, on the same machine, the same Redis and the same
clients:

- **ours**: the site's ASGI application (config.asgi: origin check, session auth, chat.consumers): every
  message is validated, rate-limited, saved in the database (numbered under the room's lock), then
  broadcast as a `message` frame;
- **reference**: a bench-only ASGI application (`reference_application` below) whose consumer only
  does `group_send` of whatever it receives: no persistence, no checks, no auth (a stock Channels
  AsyncWebsocketConsumer);
- **reference-direct**: the same consumer without Channels' per-message hop to the database thread
  (`aclose_old_connections` in `AsyncConsumer.dispatch`), which chat.consumers skips too: the ratios
  against it show what persistence and checks cost, everything else being equal.

For 50 and 200 clients connected to one room, it measures:

- **delivery latency**: one sender posts LATENCY_MESSAGES messages, each once the previous one reached
  every client (plus LATENCY_PAUSE_S); for each message and each client (sender included), the time
  from just before the send to the frame's arrival (the send time travels in the client id; clients
  and sender share one clock). p50/p95/p99 over all deliveries.
- **sustained throughput**: SENDERS clients send THROUGHPUT_MESSAGES messages in all, each keeping at
  most WINDOW messages not yet acknowledged (its own message back from the room); messages per second
  = messages / time until the last client received the last one.

Targets (issue 5): p95 under 100 ms to 200 clients; our throughput at least 60 % of the reference's
(the stock one; the ratio against reference-direct is reported beside it).
Without Redis on 127.0.0.1:6379 the benchmark is skipped, and says why in bench/results/chat.json.

Database: a dedicated SQLite file, var/bench/chat.sqlite3 (WAL), or DATABASE_URL if set (its name must
contain "bench"). Redis: database 14 with a key prefix of its own. Everything listens on 127.0.0.1 only,
and every loop is bounded (counts and timeouts).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench.framework import BENCH_DIR, ROOT, Report, production_like_environment, register

DATABASE = BENCH_DIR / "chat.sqlite3"
REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 14
PREFIX = f"passerelles-bench-{os.getpid()}"
CLIENT_COUNTS = (50, 200)
LATENCY_MESSAGES = 60
LATENCY_PAUSE_S = 0.05
LATENCY_WARMUP = 5  # messages sent and not counted, for both targets
THROUGHPUT_MESSAGES = {50: 600, 200: 300}
SENDERS = 5
WINDOW = 8
CONNECT_BATCH = 25
QUIET_S = 1.5
PHASE_TIMEOUT_S = 120.0
START_TIMEOUT_S = 30.0
USERNAME = "bench.chat.{:03d}"


def environment() -> dict[str, str]:
    # The rate limit stays in the path (its cache round trips are measured), far above the load.
    env = production_like_environment(
        allowed_hosts="127.0.0.1,localhost,testserver", REDIS_URL=f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
        REDIS_KEY_PREFIX=PREFIX, CHAT_RATE_LIMIT="1000000", LOG_LEVEL="ERROR")
    if not os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = f"sqlite:///{DATABASE}"
    return env


def redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_timeout=1).ping())
    except Exception:
        return False


# --- the reference: group_send and nothing else ------------------------------------------------------


class _ReferenceApplication:
    """`daphne bench.bench_chat:reference_application`: built on first use, once Django is set up."""

    def __init__(self):
        self.application = None

    async def __call__(self, scope, receive, send):
        if self.application is None:
            self.application = _build_reference_application()
        return await self.application(scope, receive, send)


def _build_reference_application():
    import django

    django.setup()
    from channels.consumer import get_handler_name
    from channels.generic.websocket import AsyncWebsocketConsumer
    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.urls import path

    group = "bench-reference"

    class ReferenceConsumer(AsyncWebsocketConsumer):
        async def connect(self):
            await self.channel_layer.group_add(group, self.channel_name)
            await self.accept()

        async def disconnect(self, code):
            await self.channel_layer.group_discard(group, self.channel_name)

        async def receive(self, text_data=None, bytes_data=None):
            await self.channel_layer.group_send(group, {"type": "relay", "text": text_data})

        async def relay(self, event):
            await self.send(text_data=event["text"])

    class DirectReferenceConsumer(ReferenceConsumer):
        """The same, without Channels' per-message hop to the database thread (as chat.consumers does)."""

        async def dispatch(self, message):
            await getattr(self, get_handler_name(message))(message)

    return ProtocolTypeRouter({"websocket": URLRouter([
        path("ws/reference/", ReferenceConsumer.as_asgi()),
        path("ws/reference-direct/", DirectReferenceConsumer.as_asgi()),
    ])})


reference_application = _ReferenceApplication()


# --- servers -----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, name: str, application: str):
        self.name = name
        self.application = application
        self.port = _free_port()
        self.log = BENCH_DIR / f"chat-{name}.log"
        self.process = None

    def start(self) -> None:
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), self.application]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne ({self.name}) s'est arrêté :\n{self.log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"daphne ({self.name}) n'écoute pas :\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- data --------------------------------------------------------------------------------------------


def prepare(count: int):
    """Migrate; `count` members of one association (one regional room); their session cookies."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from chat import memberships
    from chat.models import ChatMessage, ChatRoom
    from directory import access
    from directory import services as directory_services
    from directory.access import ChatRoomKind
    from directory.models import Association, Region
    from directory.roles import Role

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
    elif "bench" not in str(database["NAME"]):
        raise RuntimeError("DATABASE_URL doit désigner une base dont le nom contient « bench ».")
    else:
        _create_server_database()
    print("Migrations…", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    if database["ENGINE"].endswith("sqlite3"):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
    region = Region.objects.order_by("pk").first()
    association, _created = Association.objects.get_or_create(
        slug="association-de-mesure-discussions",
        defaults={"name": "Association de mesure des discussions", "city": "Bordeaux", "departement": "33",
                  "region": region, "status": Association.Status.MEMBER},
    )
    User = get_user_model()
    existing = set(User.objects.filter(username__startswith="bench.chat.").values_list("username", flat=True))
    for number in range(count):
        username = USERNAME.format(number)
        if username not in existing:
            directory_services.create_person(
                username=username, first_name="Mesure", last_name=f"{number:03d}", association=association,
                roles=[directory_services.RoleSpec(Role.MEMBER)],
            )
    room = ChatRoom.objects.get(key=access.chat_room_key(ChatRoomKind.REGION, association.region_id))
    ChatMessage.objects.filter(room=room).delete()
    memberships.sync_all_memberships()
    cookies = []
    people = {user.username: user for user in User.objects.filter(username__startswith="bench.chat.")}
    for number in range(count):
        client = Client()
        client.force_login(people[USERNAME.format(number)])
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}")
    return room, cookies


def _create_server_database() -> None:
    """PostgreSQL: create the bench database when missing (its name contains "bench", checked above)."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    connection.close()
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")


# --- clients -----------------------------------------------------------------------------------------


class Fleet:
    """N websocket clients of one room; records, per message, when each client received it."""

    def __init__(self, url: str, origin: str, cookies: list[str], count: int, ours: bool):
        self.url, self.origin, self.cookies, self.count, self.ours = url, origin, cookies, count, ours
        self.sockets = []
        self.readers = []
        self.arrivals: dict[str, list[int]] = {}  # client id -> arrival times (ns), one per client
        self.acked: dict[int, asyncio.Event] = {}
        self.complete: dict[str, asyncio.Event] = {}
        self.last_frame = time.monotonic()

    async def open(self) -> None:
        from websockets.asyncio.client import connect

        for start in range(0, self.count, CONNECT_BATCH):
            batch = range(start, min(start + CONNECT_BATCH, self.count))
            self.sockets += await asyncio.gather(*(
                connect(self.url, origin=self.origin, open_timeout=30, ping_interval=None, max_queue=None,
                        additional_headers={"Cookie": self.cookies[index]} if self.ours else None)
                for index in batch
            ))
        self.readers = [asyncio.create_task(self._read(ws)) for ws in self.sockets]
        # Measure the steady state: wait until the greetings (presence of each newcomer, sent to
        # everyone already there) have all been delivered, i.e. QUIET_S without any frame.
        deadline = time.monotonic() + PHASE_TIMEOUT_S
        while time.monotonic() - self.last_frame < QUIET_S and time.monotonic() < deadline:
            await asyncio.sleep(0.2)

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)

    async def _read(self, ws) -> None:
        import websockets

        try:
            async for raw in ws:
                now = time.perf_counter_ns()
                self.last_frame = time.monotonic()
                frame = json.loads(raw)
                if frame.get("type") not in ("message", "send"):
                    continue
                client_id = frame["client_id"]
                arrivals = self.arrivals.setdefault(client_id, [])
                arrivals.append(now)
                if len(arrivals) == self.count and client_id in self.complete:
                    self.complete[client_id].set()
        except websockets.exceptions.ConnectionClosed:
            pass

    async def send(self, sender: int, client_id: str) -> None:
        self.complete[client_id] = asyncio.Event()
        frame = {"type": "send", "client_id": client_id, "body": "Message de mesure : réunion régionale à 14 h."}
        await self.sockets[sender].send(json.dumps(frame))


def _percentile(values: list[float], percent: float) -> float:
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(percent) - 1]


async def measure_latency(fleet: Fleet, run: str) -> dict:
    for number in range(LATENCY_WARMUP):
        client_id = f"{run}-w-{number}-{time.perf_counter_ns()}"
        await fleet.send(0, client_id)
        await asyncio.wait_for(fleet.complete[client_id].wait(), PHASE_TIMEOUT_S)
    ids = []
    for number in range(LATENCY_MESSAGES):
        client_id = f"{run}-l-{number}-{time.perf_counter_ns()}"
        ids.append(client_id)
        await fleet.send(0, client_id)
        # One message at a time: the latency of a delivery, not of a queue behind earlier ones.
        await asyncio.wait_for(fleet.complete[client_id].wait(), PHASE_TIMEOUT_S)
        await asyncio.sleep(LATENCY_PAUSE_S)
    samples, last_arrivals = [], []
    for client_id in ids:
        sent = int(client_id.rsplit("-", 1)[1])
        delays = [(arrival - sent) / 1e6 for arrival in fleet.arrivals[client_id]]
        samples += delays
        last_arrivals.append(round(max(delays), 1))
    return {
        "deliveries": len(samples),
        "p50_ms": round(_percentile(samples, 50), 2),
        "p95_ms": round(_percentile(samples, 95), 2),
        "p99_ms": round(_percentile(samples, 99), 2),
        "mean_ms": round(statistics.fmean(samples), 2),
        "max_ms": round(max(samples), 2),
        # Time for the last client to get each message: the slowest few, and their position in the run.
        "slowest_messages_ms": sorted(((ms, index) for index, ms in enumerate(last_arrivals)), reverse=True)[:3],
    }


async def measure_throughput(fleet: Fleet, run: str, total: int) -> dict:
    per_sender = total // SENDERS
    started = time.perf_counter()

    async def sender(index: int) -> None:
        in_flight: list[str] = []
        for number in range(per_sender):
            if len(in_flight) >= WINDOW:
                oldest = in_flight.pop(0)
                await asyncio.wait_for(fleet.complete[oldest].wait(), PHASE_TIMEOUT_S)
            client_id = f"{run}-t-{index}-{number}-{time.perf_counter_ns()}"
            in_flight.append(client_id)
            await fleet.send(index, client_id)
        for client_id in in_flight:
            await asyncio.wait_for(fleet.complete[client_id].wait(), PHASE_TIMEOUT_S)

    await asyncio.gather(*(sender(index) for index in range(SENDERS)))
    elapsed = time.perf_counter() - started
    messages = per_sender * SENDERS
    return {"messages": messages, "seconds": round(elapsed, 3), "messages_per_s": round(messages / elapsed, 1),
            "deliveries_per_s": round(messages * fleet.count / elapsed)}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to see which side a phase loads."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_target(name: str, server: Server, path: str, cookies: list[str], count: int) -> dict:
    fleet = Fleet(f"ws://127.0.0.1:{server.port}{path}", f"http://127.0.0.1:{server.port}", cookies, count,
                  ours=(name == "ours"))
    await fleet.open()
    try:
        run = uuid.uuid4().hex[:6]
        latency = await measure_latency(fleet, run)
        server_cpu, client_cpu = _cpu_seconds(server.process.pid), time.process_time()
        throughput = await measure_throughput(fleet, run, THROUGHPUT_MESSAGES[count])
        throughput["server_cpu_s"] = round(_cpu_seconds(server.process.pid) - server_cpu, 2)
        throughput["clients_cpu_s"] = round(time.process_time() - client_cpu, 2)
    finally:
        await fleet.close()
    return {"latency": latency, "throughput": throughput}


def _row(name: str, count: int, result: dict) -> dict:
    latency, throughput = result["latency"], result["throughput"]
    return {
        "name": f"{name}, {count} clients",
        "target": name,
        "clients": count,
        "n": latency["deliveries"],
        "p50_ms": latency["p50_ms"],
        "p95_ms": latency["p95_ms"],
        "p99_ms": latency["p99_ms"],
        "mean_ms": latency["mean_ms"],
        "max_ms": latency["max_ms"],
        "slowest_messages_ms": latency["slowest_messages_ms"],
        "messages_per_s": throughput["messages_per_s"],
        "deliveries_per_s": throughput["deliveries_per_s"],
        "throughput_messages": throughput["messages"],
        "throughput_seconds": throughput["seconds"],
        "server_cpu_s": throughput["server_cpu_s"],
        "clients_cpu_s": throughput["clients_cpu_s"],
    }


def print_table(rows: list[dict], ratios: list[dict]) -> None:
    header = (f"{'mesure':<32}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'msg/s':>9}{'livraisons/s':>14}"
              f"{'CPU serveur s':>15}{'CPU clients s':>15}{'durée s':>9}")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['name']:<32}{row['p50_ms']:>9}{row['p95_ms']:>9}{row['p99_ms']:>9}"
              f"{row['messages_per_s']:>9}{row['deliveries_per_s']:>14}{row['server_cpu_s']:>15}"
              f"{row['clients_cpu_s']:>15}{row['throughput_seconds']:>9}")
    for ratio in ratios:
        print(f"nous/référence, {ratio['clients']} clients : p95 × {ratio['p95_ratio']}, "
              f"débit {round(ratio['throughput_ratio'] * 100)} % de la référence "
              f"(référence directe : p95 × {ratio['p95_ratio_direct']}, "
              f"débit {round(ratio['throughput_ratio_direct'] * 100)} %)")
    print(flush=True)


@register("chat", "Discussions : latence et débit, daphne + Redis, face à une référence group_send",
          environment=environment)
def chat() -> Report:
    parameters = {
        "client_counts": list(CLIENT_COUNTS), "latency_messages": LATENCY_MESSAGES,
        "latency_pause_s": LATENCY_PAUSE_S, "latency_warmup": LATENCY_WARMUP,
        "throughput_messages": THROUGHPUT_MESSAGES,
        "senders": SENDERS, "window": WINDOW, "redis_db": REDIS_DB,
        "channel_layer": os.environ.get("REDIS_CHANNEL_LAYER", "pubsub"),
        "server": "daphne (1 process each)", "clients": "websockets (one asyncio process)",
    }
    if not redis_answers():
        reason = f"Redis ne répond pas sur {REDIS_HOST}:{REDIS_PORT} : mesure ignorée (la couche Redis est requise)."
        print(reason, flush=True)
        return Report(rows=[], data={"skipped": reason}, parameters=parameters)

    from django.conf import settings

    room, cookies = prepare(max(CLIENT_COUNTS))
    ours = Server("ours", "config.asgi:application")
    reference = Server("reference", "bench.bench_chat:reference_application")
    rows, ratios = [], []
    try:
        ours.start()
        reference.start()
        for count in CLIENT_COUNTS:
            results = {}
            # Reference first, then ours, for each size: same machine state, same clients.
            for name, server, path in (("reference", reference, "/ws/reference/"),
                                       ("reference-direct", reference, "/ws/reference-direct/"),
                                       ("ours", ours, f"/ws/discussions/{room.pk}/")):
                print(f"  {name} : {count} clients…", flush=True)
                results[name] = asyncio.run(run_target(name, server, path, cookies, count))
                rows.append(_row(name, count, results[name]))
            ratios.append({
                "clients": count,
                "p95_ratio": round(results["ours"]["latency"]["p95_ms"] / results["reference"]["latency"]["p95_ms"], 2),
                "throughput_ratio": round(results["ours"]["throughput"]["messages_per_s"]
                                          / results["reference"]["throughput"]["messages_per_s"], 3),
                "p95_ratio_direct": round(results["ours"]["latency"]["p95_ms"]
                                          / results["reference-direct"]["latency"]["p95_ms"], 2),
                "throughput_ratio_direct": round(results["ours"]["throughput"]["messages_per_s"]
                                                 / results["reference-direct"]["throughput"]["messages_per_s"], 3),
            })
    finally:
        ours.stop()
        reference.stop()
        _forget_redis_keys()
    print_table(rows, ratios)
    biggest = max(CLIENT_COUNTS)
    ours_biggest = next(row for row in rows if row["target"] == "ours" and row["clients"] == biggest)
    data = {
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "room_members": len(cookies),
        "ratios": ratios,
        "targets": {
            "p95_ms_at_200_clients": {"target": 100, "measured": ours_biggest["p95_ms"],
                                      "met": ours_biggest["p95_ms"] < 100},
            "throughput_ratio": {"target": 0.6, "measured": min(r["throughput_ratio"] for r in ratios),
                                 "met": min(r["throughput_ratio"] for r in ratios) >= 0.6},
        },
    }
    return Report(rows=rows, data=data, parameters=parameters)


def _forget_redis_keys() -> None:
    try:
        import redis

        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_timeout=2)
        keys = list(client.scan_iter(match=f"*{PREFIX}*", count=1000))
        if keys:
            client.delete(*keys)
    except Exception:
        pass

