"""Private servers for the fault tests: a redis-server, a PostgreSQL cluster and daphne, each on a free
loopback port, each killed and restarted by the test that owns it.

The shared services (PostgreSQL on 5432, Redis on 6379) are never touched here: CI runs the whole suite
against them while these tests break their own copies.

Every process is started in a session of its own (a process group), so that the fixtures' finalisers
(tests/faults/conftest.py) can kill the whole group even when a test fails half-way.
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from tests.chat.live import LOG_DIR, DaphneServer, free_port

BASE_DIR = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0


def wait_for_port(port: int, process: subprocess.Popen | None, *, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} s'est arrêté au démarrage (code {process.returncode}) :\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} n'écoute pas sur le port {port} après {timeout:.0f} s :\n{_tail(log)}")


def port_is_closed(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except OSError:
        return True


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(pas de journal {path})"


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process and every process of its group (it leads its own session)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)


# --- Redis --------------------------------------------------------------------------------------------


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


class RedisServer:
    """A throw-away redis-server: no persistence (as in docker-compose.yml), so a restart starts empty."""

    def __init__(self, name: str):
        binary = redis_server_binary()
        if binary is None:
            raise RuntimeError("redis-server introuvable")
        self.binary = binary
        self.port = free_port()
        self.log_path = LOG_DIR / f"redis-{name}.log"
        self.workdir = Path(tempfile.mkdtemp(prefix="passerelles-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", str(self.workdir), "--daemonize", "no"]
        with self.log_path.open("a") as log:
            log.write("\n=== démarrage ===\n")
            log.flush()
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(self.port, self.process, timeout=START_TIMEOUT_S, what="redis-server", log=self.log_path)

    def kill(self) -> None:
        """SIGKILL: Redis disappears at once, every connection to it is reset."""
        if self.process is not None:
            kill_group(self.process)

    def cleanup(self) -> None:
        self.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


# --- PostgreSQL ---------------------------------------------------------------------------------------


def postgres_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl (Debian's layout), or the
    directory of an initdb on PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
                        if Path(p).parent.name.isdigit() else 0, reverse=True)
    for candidate in candidates:
        if all(os.access(Path(candidate) / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(candidate)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _run_as_prefix() -> list[str] | None:
    """initdb and pg_ctl refuse to run as root: as root, run them as the `postgres` account."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--"]
    if shutil.which("setpriv"):
        account = pwd.getpwnam("postgres")
        return ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--init-groups", "--"]
    return None


def postgres_unavailable_reason() -> str | None:
    """Why a private PostgreSQL cluster cannot be started here, or None if it can."""
    if postgres_bin_dir() is None:
        return ("Binaires PostgreSQL (initdb, pg_ctl) introuvables / PostgreSQL binaries not found: "
                "installez postgresql pour ce test de panne.")
    if _run_as_prefix() is None:
        return ("Lancé en root sans compte « postgres » ni runuser/setpriv : initdb refuse root / "
                "running as root without a postgres account to run initdb as.")
    return None


@dataclass
class PostgresCluster:
    """A private cluster in a temporary directory, listening on 127.0.0.1:<free port> only."""

    name: str

    def __post_init__(self):
        bin_dir = postgres_bin_dir()
        prefix = _run_as_prefix()
        if bin_dir is None or prefix is None:
            raise RuntimeError(postgres_unavailable_reason())
        self.bin_dir = bin_dir
        self.prefix = prefix
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="passerelles-pg-"))
        self.data_dir = self.root / "data"
        self.log_path = LOG_DIR / f"postgres-{self.name}.log"
        self.server_log = self.root / "server.log"
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name

    def url(self, database: str) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a") as log:
            log.write(f"\n$ {' '.join(args)}\n")
            log.flush()
            return subprocess.run([*self.prefix, *args], stdout=log, stderr=subprocess.STDOUT, timeout=timeout,
                                  check=True, start_new_session=True, cwd=self.root)

    def init(self) -> None:
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", self.user, "--auth=trust",
                  "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")

    def _options(self) -> str:
        # TCP on loopback only, sockets in the cluster's own directory, nothing written twice for nothing.
        return (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")

    def start(self) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.server_log),
                  "-o", self._options(), "-w", "-t", "60", "start")

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every session is cut, the server is back when this returns."""
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.server_log),
                  "-o", self._options(), "-m", "fast", "-w", "-t", "60", "restart")

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=10) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')

    def postmaster_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        return None

    def cleanup(self) -> None:
        """Stop the cluster whatever state it is in, then remove its directory."""
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "-t", "20",
                      "stop", timeout=30)
        pid = self.postmaster_pid()
        if pid is not None:
            # pg_ctl could not stop it: the postmaster leads its own session (pg_ctl calls setsid).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if self.server_log.exists():
            with contextlib.suppress(OSError), self.log_path.open("a") as log:
                log.write("\n=== journal du serveur ===\n" + self.server_log.read_text(errors="replace"))
        shutil.rmtree(self.root, ignore_errors=True)


# --- daphne -------------------------------------------------------------------------------------------


class FaultDaphne(DaphneServer):
    """tests.chat.live's daphne, on the services a fault test owns (its Redis, its database)."""

    def __init__(self, *, name: str, redis_url: str = "", database_url: str = "", extra_env: dict | None = None):
        super().__init__(layer="memory", name=f"panne-{name}", extra_env=extra_env)
        if redis_url:
            self.env["REDIS_URL"] = redis_url
            self.env["REDIS_KEY_PREFIX"] = self.prefix
        if database_url:
            self.env["DATABASE_URL"] = database_url

    def start(self) -> None:
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"]
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a") as log:
            log.write("\n=== démarrage ===\n")
            log.flush()
            self.process = subprocess.Popen(command, cwd=BASE_DIR, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_port(self.port, self.process, timeout=START_TIMEOUT_S, what="daphne", log=self.log_path)
        except RuntimeError:
            kill_group(self.process)
            raise

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        if self.process is not None:
            kill_group(self.process)

    def log_text(self) -> str:
        return _tail(self.log_path, 80)


# --- HTTP ---------------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no HTTP answer at all (connection refused, reset or timed out)
    body: str
    seconds: float
    location: str = ""
    cookies: dict[str, str] = field(default_factory=dict)


def http_request(port: int, path: str, *, cookies: dict[str, str] | None = None, method: str = "GET",
                 form: dict[str, str] | None = None, timeout: float = 10.0) -> Answer:
    """One request to the server on `port` (redirects not followed); never raises: no answer is status 0."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Host": f"127.0.0.1:{port}"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    body = None
    if form is not None:
        body = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        return Answer(response.status, text, time.monotonic() - started, response.getheader("Location") or "",
                      {name: morsel.value for name, morsel in jar.items()})
    except (OSError, http.client.HTTPException) as error:
        return Answer(0, f"{type(error).__name__}: {error}", time.monotonic() - started)
    finally:
        connection.close()


class Visitor:
    """A person's browser, reduced to its cookies: GET pages, POST forms with their CSRF token."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None):
        self.port = port
        self.cookies = dict(cookies or {})

    def get(self, path: str, **kwargs) -> Answer:
        answer = http_request(self.port, path, cookies=self.cookies, **kwargs)
        self.cookies.update(answer.cookies)
        return answer

    def post(self, path: str, form: dict[str, str], *, csrf_from: str) -> Answer:
        """POST `form` to `path` with the CSRF token of the page at `csrf_from` (fetched first)."""
        page = self.get(csrf_from)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        if page.status != 200 or match is None:
            return Answer(page.status, f"pas de jeton CSRF sur {csrf_from} : {page.body[:300]}", page.seconds)
        answer = http_request(self.port, path, cookies=self.cookies, method="POST",
                              form={"csrfmiddlewaretoken": match.group(1), **form})
        self.cookies.update(answer.cookies)
        return answer
