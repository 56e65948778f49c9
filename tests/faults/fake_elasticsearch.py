"""A loopback stand-in for an Elasticsearch node, with just enough of the API for indexing: it keeps the
documents it is sent (bulk index and delete through the alias) so that a test can check what reached it.

It can fail in the ways a real cluster does, one at a time:
- `stop()`: nothing listens on its port any more (connection refused), until `start()` on the same port;
- `mode = "unavailable"`: every request answers 503 (a node without a master, a cluster starting);
- `mode = "drop"`: connections are accepted, then closed without an answer (a proxy in front of a dead node).
Searches answer no hit (searching is not what these tests look at).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


class FakeElasticsearch:
    def __init__(self, alias: str = "passerelles"):
        self.alias = alias
        self.documents: dict[str, dict[str, Any]] = {}
        self.mode = "up"
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.port = 0
        self.connections: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self.server, self.port = server, server.server_address[1]
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop listening and cut the connections clients keep alive: from now on, nothing answers."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        with self.lock:
            connections, self.connections = list(self.connections), set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self.thread is not None:
            self.thread.join(timeout=5)
            self.thread = None

    def titles(self) -> dict[str, str]:
        with self.lock:
            return {key: source.get("title", "") for key, source in self.documents.items()}

    # What the node does with a request (called by the handler; returns status and JSON body).

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        self.requests.append(f"{method} {path}")
        if method == "GET" and path == "/":
            return 200, {"name": "faux-noeud", "cluster_name": "panne", "version": {"number": "8.19.0"},
                         "tagline": "You Know, for Search"}
        if method == "HEAD" and path == f"/_alias/{self.alias}":
            return 200, None
        if method in ("PUT", "POST") and path == "/_bulk":
            return 200, self._bulk(body)
        if method in ("GET", "POST") and path == f"/{self.alias}/_search":
            return 200, {"took": 1, "timed_out": False, "hits": {"total": {"value": 0, "relation": "eq"},
                                                                 "max_score": None, "hits": []},
                         "aggregations": {name: {"buckets": []} for name in ("kind", "theme", "region")}}
        if method == "POST" and path == f"/{self.alias}/_refresh":
            return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        return 400, {"error": {"type": "faux_noeud", "reason": f"{method} {path} non pris en charge"}, "status": 400}

    def _bulk(self, body: bytes) -> dict[str, Any]:
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        items = []
        position = 0
        with self.lock:
            while position < len(lines):
                ((operation, meta),) = lines[position].items()
                key = meta["_id"]
                if operation == "delete":
                    found = self.documents.pop(key, None) is not None
                    items.append({"delete": {"_index": f"{self.alias}-1", "_id": key, "status": 200 if found else 404,
                                             "result": "deleted" if found else "not_found"}})
                    position += 1
                else:
                    self.documents[key] = lines[position + 1]
                    items.append({operation: {"_index": f"{self.alias}-1", "_id": key, "status": 201,
                                              "result": "created"}})
                    position += 2
        return {"took": 1, "errors": False, "items": items}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        fake: FakeElasticsearch = self.server.fake  # type: ignore[attr-defined]
        with fake.lock:
            fake.connections.add(self.connection)

    def finish(self) -> None:
        fake: FakeElasticsearch = self.server.fake  # type: ignore[attr-defined]
        with fake.lock:
            fake.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def _handle(self) -> None:
        fake: FakeElasticsearch = self.server.fake  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if fake.mode == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fake.mode == "unavailable":
            status, answer = 503, {"error": {"type": "cluster_block_exception", "reason": "pas de maître élu"},
                                   "status": 503}
        else:
            status, answer = fake.answer(self.command, urlsplit(self.path).path, body)
        payload = b"" if self.command == "HEAD" or answer is None else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

    def log_message(self, *args: Any) -> None:
        pass
