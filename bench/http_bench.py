"""Timing pages through real HTTP servers, variants side by side (the forum bench's machinery).

- `Server`: one uvicorn process started as production starts it (Dockerfile, docker-compose.yml: DEBUG=0,
  SECRET_KEY, ALLOWED_HOSTS, SECURE_SSL_REDIRECT=0, `--proxy-headers --lifespan off --no-access-log`), but a
  single process (no `--workers`): its CPU time, read from /proc/<pid>/stat, is then exactly the server's.
- `Client`: plain HTTP/1.1 on loopback, one connection per request (`Connection: close`, as nginx talks to
  the app, deploy/nginx.conf) and `X-Forwarded-Proto: https` (nginx's header: Django sees secure
  requests); it logs in through the real login form (CSRF cookie and token, then the session cookie).
- `measure_rounds`: for one page, ROUNDS rounds; in each, every variant serves a block of requests in
  turn (A B C, then C B A: what the machine does meanwhile falls on every variant alike); per block,
  wall time of each request and the server's CPU time over the block.
- pure functions (`block_summary`, `ratios`, `verdict`): per-round ratios ours/reference, their minimum
  and median, and whether the page passes (median ratios of wall time and of server CPU ≤ MAX_RATIO).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from bench.framework import ROOT

START_TIMEOUT_S = 90.0
REQUEST_TIMEOUT_S = 60.0
# The verdict: ours may not be slower than the reference, by wall time or by server CPU (median of rounds).
MAX_RATIO = 1.0
LOGIN_PATH = "/compte/connexion/"
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"|value="([^"]+)"\s+name="csrfmiddlewaretoken"')


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (Linux /proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """One uvicorn process serving `application` with `env` added to this process's environment."""

    def __init__(self, name: str, application: str, env: dict[str, str], log_dir: Path):
        self.name, self.application, self.env = name, application, env
        self.port = free_port()
        self.log = log_dir / f"forum-{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "uvicorn", self.application, "--host", "127.0.0.1", "--port",
                   str(self.port), "--proxy-headers", "--forwarded-allow-ips", "127.0.0.1", "--lifespan", "off",
                   "--no-access-log"]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} s'est arrêté :\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if Client(self.port).get(LOGIN_PATH).status < 500:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} ne répond pas :\n{self.log.read_text()[-3000:]}")

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def tracebacks(self) -> int:
        try:
            return self.log.read_text(errors="replace").count("Traceback (most recent call last)")
        except OSError:
            return 0


@dataclass
class Response:
    status: int
    body: bytes
    cookies: dict[str, str]
    location: str = ""


@dataclass
class Client:
    """HTTP/1.1 to one server on loopback, behind a pretend TLS proxy, with the cookies it was given."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict | None = None) -> Response:
        origin = f"https://127.0.0.1:{self.port}"
        headers = {"Host": f"127.0.0.1:{self.port}", "X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1",
                   "Accept": "text/html", "Accept-Language": "fr", "Connection": "close",
                   "User-Agent": "passerelles-bench-forum/2"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers.update({"Content-Type": "application/x-www-form-urlencoded", "Origin": origin,
                            "Referer": f"{origin}{path}"})
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_S)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
            cookies = {}
            for header in response.headers.get_all("Set-Cookie") or []:
                cookies.update({name: morsel.value for name, morsel in SimpleCookie(header).items()})
            return Response(response.status, content, cookies, response.headers.get("Location", ""))
        finally:
            connection.close()

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def login(self, username: str, password: str) -> None:
        """The login form as a browser fills it: its page (CSRF cookie and token), then its POST."""
        page = self.get(LOGIN_PATH)
        self.cookies.update(page.cookies)
        match = _CSRF_INPUT.search(page.body.decode())
        if page.status != 200 or match is None:
            raise RuntimeError(f"Page de connexion inattendue ({page.status}) sur le port {self.port}")
        answer = self.request("POST", LOGIN_PATH, {"csrfmiddlewaretoken": match.group(1) or match.group(2),
                                                   "username": username, "password": password})
        if answer.status != 302 or "sessionid" not in answer.cookies:
            raise RuntimeError(f"Connexion de {username} refusée ({answer.status}) sur le port {self.port}")
        self.cookies.update(answer.cookies)


# --- measuring ------------------------------------------------------------------------------------


@dataclass
class Block:
    """One variant's turn in one round: each request's wall time, and the server's CPU over the block."""

    variant: str
    round: int
    wall_s: list[float]
    cpu_s: float


def run_block(client: Client, server: Server, path: str, n: int, variant: str, round_: int) -> Block:
    wall = []
    cpu_before = server.cpu_seconds()
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path)
        wall.append(time.perf_counter() - start)
        if response.status != 200:
            raise RuntimeError(f"{variant} : GET {path} a répondu {response.status} {response.location}")
    return Block(variant, round_, wall, server.cpu_seconds() - cpu_before)


def round_order(variants: Sequence[str], round_: int) -> list[str]:
    """A B C in even rounds, C B A in odd ones: no variant always follows the same one."""
    return list(variants) if round_ % 2 == 0 else list(reversed(variants))


def measure_rounds(path: str, targets: dict[str, tuple[Client, Server]], *, rounds: int, block: int,
                   warmup: int) -> list[Block]:
    for variant, (client, server) in targets.items():
        run_block(client, server, path, warmup, variant, -1)
    blocks = []
    for round_ in range(rounds):
        for variant in round_order(list(targets), round_):
            client, server = targets[variant]
            blocks.append(run_block(client, server, path, block, variant, round_))
    return blocks


# --- summaries and verdict (pure) -----------------------------------------------------------------


def block_summary(block: Block) -> dict:
    """A block's median wall time and its server CPU per request, in milliseconds."""
    return {"wall_p50_ms": 1000 * statistics.median(block.wall_s),
            "cpu_ms_per_request": 1000 * block.cpu_s / len(block.wall_s)}


def variant_summary(blocks: Sequence[Block], variant: str) -> dict:
    mine = [b for b in blocks if b.variant == variant]
    wall = sorted(1000 * w for b in mine for w in b.wall_s)
    cpu = sum(b.cpu_s for b in mine)
    return {"n": len(wall), "min_ms": round(wall[0], 2), "p50_ms": round(statistics.median(wall), 2),
            "mean_ms": round(statistics.fmean(wall), 2),
            "p95_ms": round(statistics.quantiles(wall, n=100, method="inclusive")[94], 2) if len(wall) > 1
            else round(wall[0], 2),
            "max_ms": round(wall[-1], 2), "server_cpu_ms_per_request": round(1000 * cpu / len(wall), 2)}


def ratios(blocks: Sequence[Block], ours: str, reference: str) -> dict:
    """Per round, ours/reference for the block's median wall time and for server CPU per request; then the
    minimum and the median over the rounds (a round's two blocks ran one after the other, so a ratio of
    one round compares like with like even when the machine's load drifts)."""
    by_round: dict[int, dict[str, dict]] = {}
    for block in blocks:
        by_round.setdefault(block.round, {})[block.variant] = block_summary(block)
    wall, cpu = [], []
    for round_ in sorted(by_round):
        pair = by_round[round_]
        if ours in pair and reference in pair:
            wall.append(pair[ours]["wall_p50_ms"] / pair[reference]["wall_p50_ms"])
            if pair[reference]["cpu_ms_per_request"] > 0:
                cpu.append(pair[ours]["cpu_ms_per_request"] / pair[reference]["cpu_ms_per_request"])
    if not wall:
        raise ValueError(f"Aucune manche ne mesure à la fois {ours} et {reference}.")
    return {"rounds": len(wall),
            "wall_min": round(min(wall), 3), "wall_median": round(statistics.median(wall), 3),
            "wall_max": round(max(wall), 3),
            "cpu_min": round(min(cpu), 3) if cpu else None,
            "cpu_median": round(statistics.median(cpu), 3) if cpu else None,
            "cpu_max": round(max(cpu), 3) if cpu else None}


def verdict(page_ratios: dict, max_ratio: float = MAX_RATIO) -> dict:
    """Not slower than the reference: the median over rounds of both ratios (wall, server CPU) ≤ max_ratio."""
    wall_ok = page_ratios["wall_median"] <= max_ratio
    cpu_ok = page_ratios["cpu_median"] is not None and page_ratios["cpu_median"] <= max_ratio
    return {"max_ratio": max_ratio, "wall_ok": wall_ok, "cpu_ok": cpu_ok, "not_slower": wall_ok and cpu_ok}
