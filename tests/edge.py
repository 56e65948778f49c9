"""What stands at the edge of the docker-compose stack, played on loopback by the test process itself.

- `EdgeProxy` does for a browser what the "proxy" service (nginx, deploy/nginx.conf) does: files of
  STATIC_ROOT under /static/, /ws/ to the websocket server (service "ws", daphne, the upgrade passed on),
  everything else to the HTTP server (service "web", uvicorn), with `X-Forwarded-For` written (never
  appended) and `X-Forwarded-Proto` set to the scheme it was reached by (plain HTTP here), one upstream
  connection per request as nginx has (no upstream keepalive). One difference: the Host header is passed
  as the browser sent it, port included (nginx passes `$host`, which drops the port: harmless behind 443,
  but on a loopback port Django would build links and check CSRF origins without it).
- `SmtpSink` is the mail server the web and worker processes send through (EMAIL_HOST/EMAIL_PORT, no
  TLS): it accepts every message and keeps it for the test to read.

Both run in daemon threads of the test process; `stop()` closes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import mimetypes
import re
import socketserver
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote

# Headers that belong to one connection (RFC 9110 §7.6.1), never forwarded as they came.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
HEAD_LIMIT = 64 * 1024


def _parse_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    return lines[0], headers


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _render_head(first_line: str, headers: list[tuple[str, str]]) -> bytes:
    return ("\r\n".join([first_line, *(f"{name}: {value}" for name, value in headers)]) + "\r\n\r\n").encode("latin-1")


class EdgeProxy:
    """nginx of docker-compose.yml on a loopback port (see the module docstring)."""

    def __init__(self, *, web_port: int, ws_port: int, static_root: Path):
        self.web_port = web_port
        self.ws_port = ws_port
        self.static_root = Path(static_root).resolve()
        self.port = 0
        self.errors: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0, limit=HEAD_LIMIT))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="edge-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("le proxy de test n'a pas démarré")

    def stop(self) -> None:
        if self._loop is None:
            return

        async def close() -> None:
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    # --- one client connection: one request (or one websocket) ---------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_writer = None
        try:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            request_line, headers = _parse_head(head)
            method, target, _version = request_line.split(" ", 2)
            path = target.split("?", 1)[0]
            if path.startswith("/static/"):
                await self._static(writer, method, path)
                return
            if _header(headers, "transfer-encoding"):
                # Browsers send forms and uploads with a Content-Length; nothing here needs more.
                writer.write(b"HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            upgrade = _header(headers, "upgrade")
            client_address = writer.get_extra_info("peername")[0]
            forwarded = [(name, value) for name, value in headers
                         if name.lower() not in HOP_BY_HOP | {"x-forwarded-for", "x-forwarded-proto"}]
            forwarded += [("Upgrade", upgrade), ("Connection", "upgrade")] if upgrade else [("Connection", "close")]
            forwarded += [("X-Forwarded-For", client_address), ("X-Forwarded-Proto", "http")]
            port = self.ws_port if path.startswith("/ws/") else self.web_port
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port, limit=HEAD_LIMIT)
            except OSError as error:
                # nginx answers 502 when its upstream is down; the test hears of it too.
                self.errors.append(f"{method} {target} : serveur {port} injoignable ({error})")
                writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
                return
            upstream_writer.write(_render_head(request_line, forwarded))
            length = int(_header(headers, "content-length") or 0)
            if length:
                upstream_writer.write(await reader.readexactly(length))
            await upstream_writer.drain()
            if upgrade:
                await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))
                return
            try:
                response_head = await upstream_reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                self.errors.append(f"{method} {target} : le serveur {port} a fermé sans répondre")
                writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
                return
            status_line, response_headers = _parse_head(response_head)
            response_headers = [(name, value) for name, value in response_headers
                                if name.lower() not in {"connection", "keep-alive"}]
            writer.write(_render_head(status_line, [*response_headers, ("Connection", "close")]))
            await self._pipe(upstream_reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            # The browser went away mid-request (a navigation cancels what the page was loading).
            pass
        except asyncio.CancelledError:
            pass
        except Exception as error:  # reported to the test (Stack.report), never swallowed
            self.errors.append(f"{type(error).__name__}: {error}")
        finally:
            for stream in (upstream_writer, writer):
                if stream is not None:
                    with contextlib.suppress(Exception):
                        stream.close()

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, destination: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(65536):
                destination.write(chunk)
                await destination.drain()
        except ConnectionError:
            pass
        finally:
            with contextlib.suppress(Exception):
                if destination.can_write_eof():
                    destination.write_eof()

    async def _static(self, writer: asyncio.StreamWriter, method: str, path: str) -> None:
        relative = unquote(path[len("/static/"):])
        candidate = (self.static_root / relative).resolve()
        inside = candidate.is_relative_to(self.static_root)
        if method not in {"GET", "HEAD"} or not inside or not candidate.is_file():
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            return
        body = candidate.read_bytes()
        content_type = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
        writer.write(_render_head("HTTP/1.1 200 OK", [
            ("Content-Type", content_type), ("Content-Length", str(len(body))), ("Connection", "close")]))
        if method == "GET":
            writer.write(body)
        await writer.drain()


# --- e-mail ----------------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain", "html"))
        return body.get_content() if body is not None else ""


class _SmtpHandler(socketserver.StreamRequestHandler):
    """The part of SMTP (RFC 5321) Django's smtplib client speaks without TLS or authentication."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        sink: SmtpSink = self.server.sink  # type: ignore[attr-defined]
        self.reply("220 passerelles-test ESMTP")
        sender, recipients = "", []
        while True:
            line = self.rfile.readline(HEAD_LIMIT)
            if not line:
                return
            command = line.decode("utf-8", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-passerelles-test")
                self.reply("250-8BITMIME")
                self.reply("250 SMTPUTF8")
            elif verb == "HELO":
                self.reply("250 passerelles-test")
            elif verb == "MAIL":
                sender, recipients = _address(command), []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(_address(command))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 Fin par <CRLF>.<CRLF>")
                data = bytearray()
                while (chunk := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                sink.received(ReceivedMail(sender, recipients,
                                           email.message_from_bytes(bytes(data), policy=email.policy.default)))
                self.reply("250 OK")
            elif verb in {"RSET", "NOOP"}:
                if verb == "RSET":
                    sender, recipients = "", []
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Au revoir")
                return
            else:
                self.reply("502 Commande non prise en charge")


def _address(command: str) -> str:
    match = re.search(r"<([^>]*)>", command)
    return match.group(1) if match else command.split(":", 1)[-1].strip()


class _ThreadingServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SmtpSink:
    """A mail server on a loopback port that keeps every message (see the module docstring)."""

    def __init__(self) -> None:
        self.messages: list[ReceivedMail] = []
        self._condition = threading.Condition()
        self._server = _ThreadingServer(("127.0.0.1", 0), _SmtpHandler)
        self._server.sink = self  # type: ignore[attr-defined]
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="smtp-sink", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def received(self, mail: ReceivedMail) -> None:
        with self._condition:
            self.messages.append(mail)
            self._condition.notify_all()

    def wait_for(self, recipient: str, *, timeout: float) -> ReceivedMail:
        """The first message sent to `recipient`, waiting for it up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for mail in self.messages:
                    if recipient in mail.recipients:
                        return mail
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(mail.recipients, mail.message["Subject"]) for mail in self.messages]
                    raise AssertionError(f"aucun courriel pour {recipient} après {timeout:.0f} s (reçus : {seen})")
                self._condition.wait(remaining)
