"""A real daphne server on a loopback port and real websocket clients (the `websockets` package).

`DaphneServer` runs `daphne config.asgi:application` as a subprocess on the test database (a file:
config/settings.py), optionally over a Redis channel layer on a dedicated database number and key
prefix; it can be killed (SIGKILL, no goodbye) and started again on the same port.

`ChatClient` behaves like static/js/chat.js: it keeps the timeline by message id and sequence number,
an outbox of sends not yet acknowledged, and on reconnecting resumes after the last message it holds
without a gap, then sends its outbox again with the same client ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import websockets
from websockets.asyncio.client import connect as ws_connect

BASE_DIR = Path(__file__).resolve().parents[2]
LOG_DIR = BASE_DIR / "tests" / "artifacts"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# Not CI's database (15, .ci/run) nor the benchmark's (14): this suite's live servers only.
REDIS_TEST_DB = 12
START_TIMEOUT_S = 30.0


def redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_TEST_DB, socket_timeout=1).ping())
    except Exception:
        return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_of_test_database() -> str:
    from django.db import connection

    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(settings_dict["NAME"])
        if connection.creation.is_in_memory_db(name):
            raise RuntimeError("La base de test SQLite est en mémoire : daphne ne pourrait pas la lire.")
        return f"sqlite:///{Path(name).resolve()}"
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(settings_dict['NAME'], safe='')}"


@contextlib.contextmanager
def started_servers(build: Callable[..., DaphneServer]) -> Iterator[Callable[..., DaphneServer]]:
    """Yields `make(...)`, which builds a server with `build(...)` and starts it; every server made is
    stopped on the way out, whatever the test did."""
    servers: list[DaphneServer] = []

    def make(*args, **kwargs) -> DaphneServer:
        server = build(*args, **kwargs)
        servers.append(server)
        server.start()
        return server

    try:
        yield make
    finally:
        for server in servers:
            server.stop()


class DaphneServer:
    def __init__(self, *, layer: str, name: str, extra_env: dict[str, str] | None = None, prefix: str | None = None):
        self.port = free_port()
        self.layer = layer
        self.log_path = LOG_DIR / f"daphne-{name}.log"
        self.process: subprocess.Popen | None = None
        # Servers given the same prefix share their rooms (channel layer and cache), as behind nginx.
        self.prefix = prefix or f"passerelles-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url_of_test_database(),
            "PASSERELLES_FAST_PASSWORD_HASHER": "1",
            "DEBUG": "1",
            "PYTHONUNBUFFERED": "1",
            # The exchanges below send faster than a person: the limit is tested elsewhere.
            "CHAT_RATE_LIMIT": "100000",
            **(extra_env or {}),
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        env.pop("REDIS_URL", None)
        env.pop("REDIS_KEY_PREFIX", None)
        if layer == "redis":
            env["REDIS_URL"] = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_TEST_DB}"
            env["REDIS_KEY_PREFIX"] = self.prefix
        self.env = env

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"]
        with self.log_path.open("a") as log:
            log.write(f"\n=== démarrage ({self.layer}) ===\n")
            log.flush()
            self.process = subprocess.Popen(command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne s'est arrêté au démarrage :\n{self.log_path.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"daphne n'écoute pas sur le port {self.port} :\n{self.log_path.read_text()}")

    def kill(self) -> None:
        """SIGKILL: the process dies at once, in the middle of whatever it was doing."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.layer == "redis":
            self._forget_redis_keys()

    def _forget_redis_keys(self) -> None:
        try:
            import redis

            client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_TEST_DB, socket_timeout=2)
            keys = list(client.scan_iter(match=f"*{self.prefix}*", count=500))
            if keys:
                client.delete(*keys)
        except Exception:
            pass


class ChatClient:
    """A websocket client of one room that loses nothing (see the module docstring)."""

    def __init__(self, name: str, username: str, server: DaphneServer, room_id: int, cookie: str):
        self.name = name
        self.username = username
        self.server = server
        self.room_id = room_id
        self.cookie = cookie
        self.timeline: dict[int, dict] = {}
        self.by_seq: dict[int, int] = {}
        self.contiguous_seq = 0
        self.contiguous_id = 0
        self.outbox: dict[str, str] = {}
        self.acked: dict[str, int] = {}  # client_id -> message id
        self.received = Counter()  # message id -> frames received (duplicates are allowed, merged by id)
        self.errors: list[dict] = []
        self.online: dict[int, str] = {}  # presence: person id -> username
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.resumed = asyncio.Event()
        self.connections = 0

    @property
    def connected(self) -> bool:
        return self.ws is not None and self.reader is not None and not self.reader.done()

    async def connect(self, timeout: float = 30.0) -> None:
        """Connect (retrying with backoff until `timeout`), resume, then re-send the outbox."""
        deadline = time.monotonic() + timeout
        delay = 0.1
        while True:
            try:
                self.ws = await ws_connect(
                    self.server.ws_url(f"/ws/discussions/{self.room_id}/"),
                    origin=self.server.base_url,
                    additional_headers={"Cookie": self.cookie},
                    open_timeout=5,
                    ping_interval=None,
                )
                break
            except (TimeoutError, OSError, websockets.exceptions.InvalidHandshake):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
        self.connections += 1
        self.resumed.clear()
        self.reader = asyncio.create_task(self._read(self.ws))
        await self._send({"type": "resume", "after": self.contiguous_id})
        await asyncio.wait_for(self.resumed.wait(), timeout=10)
        for client_id, body in list(self.outbox.items()):
            await self._send({"type": "send", "client_id": client_id, "body": body})

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)

    async def send(self, client_id: str, body: str) -> None:
        """Queue the message; it leaves now if connected, else after the next connection."""
        self.outbox[client_id] = body
        await self._send({"type": "send", "client_id": client_id, "body": body})

    async def _send(self, frame: dict) -> None:
        if self.ws is None:
            return
        # A closed connection keeps the message in the outbox: it leaves again after reconnecting.
        with contextlib.suppress(websockets.exceptions.ConnectionClosed):
            await self.ws.send(json.dumps(frame))

    async def _read(self, ws) -> None:
        try:
            async for raw in ws:
                await self._handle(json.loads(raw))
        except websockets.exceptions.ConnectionClosed:
            pass

    async def _handle(self, frame: dict) -> None:
        kind = frame["type"]
        if kind == "message":
            self.received[frame["id"]] += 1
            self.timeline[frame["id"]] = frame
            self.by_seq[frame["seq"]] = frame["id"]
            while self.contiguous_seq + 1 in self.by_seq:
                self.contiguous_seq += 1
                self.contiguous_id = self.by_seq[self.contiguous_seq]
            if frame["author"] == self.username and frame["client_id"] in self.outbox:
                del self.outbox[frame["client_id"]]
                self.acked[frame["client_id"]] = frame["id"]
        elif kind == "resumed":
            if frame["complete"]:
                self.resumed.set()
            else:
                await self._send({"type": "resume", "after": frame["last_id"]})
        elif kind == "presence":
            if "online" in frame:
                self.online = {person["id"]: person["username"] for person in frame["online"]}
            for person in frame.get("joined", []):
                self.online[person["id"]] = person["username"]
            for person in frame.get("left", []):
                self.online.pop(person["id"], None)
        elif kind == "error":
            self.errors.append(frame)

    async def wait_for(self, predicate, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} : délai dépassé (file d'envoi : {len(self.outbox)}, "
                                     f"messages : {len(self.timeline)}, erreurs : {self.errors[-3:]})")
            await asyncio.sleep(0.02)

    def ordered_ids(self) -> list[int]:
        return [self.by_seq[seq] for seq in sorted(self.by_seq)]
