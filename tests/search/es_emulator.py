"""An Elasticsearch 8 emulator on loopback for the live tests (README, "Recherche : ce qui est vérifié où").

osmem-server (a dev dependency: an in-memory OpenSearch-compatible server, one bundled binary) answers
behind a small proxy that speaks what the Elasticsearch 8 Python client expects:

- the client sends `application/vnd.elasticsearch+json; compatible-with=8` (and `+x-ndjson` for bulk) as
  Content-Type and Accept, which osmem refuses with 406: the proxy sends `application/json` (and
  `application/x-ndjson`) upstream, and labels the answer with the media type that was asked for;
- the client refuses an answer without `X-Elastic-Product: Elasticsearch` (UnsupportedProductError): the
  proxy adds it to any answer without it (osmem 0.1.6 sends it already);
- every answer carries `X-Passerelles-Emulator`, and the info answer (`GET /`) keeps osmem's own version
  (`distribution: opensearch`): the live tests recognise the emulator by it (`is_emulator`), so their
  emulator-only xfails never apply to a real Elasticsearch.

One request body is adapted, for the emulator only: osmem's `light_french` stemmer turns every word into
the empty term when it indexes and when it searches (its `_analyze` shows the right stems, its term vectors
show only ""), so that every search finds every document. The proxy takes that stemmer out of each index
creation (`without_broken_stemmers`): searches then run on the folded words, unstemmed. The production
mapping (search/stores/elastic.py) is never changed; the live tests whose result needs the stemmer, or
osmem's other known difference (it accepts the `elision` filter but ignores it: "l'éthique" is indexed
"l'ethique"), are strict xfails on the emulator only (tests/search/test_elastic_store.py).

    .venv/bin/python -m tests.search.es_emulator    # prints the URL on its first line, serves until SIGTERM/SIGINT

`.ci/run` starts it and runs `pytest -m live_es` with ELASTICSEARCH_URL set to that URL.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import signal
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

EMULATOR_HEADER = "X-Passerelles-Emulator"
EMULATOR_NAME = "osmem-server"
# `application/vnd.elasticsearch+json; compatible-with=8` → `application/json`, same for x-ndjson.
COMPATIBLE_MEDIA_TYPE = re.compile(r"application/vnd\.elasticsearch\+([\w.-]+)\s*;\s*compatible-with=(\d+)", re.I)
# Not forwarded as such: the proxy frames each message itself (Content-Length, keep-alive on both sides).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
              "host", "content-length"}


# Stemmers that osmem accepts but that reduce every word to the empty term.
BROKEN_STEMMERS = {"light_french"}


def plain_media_type(value: str) -> str:
    return COMPATIBLE_MEDIA_TYPE.sub(lambda match: f"application/{match.group(1)}", value)


def is_emulator(info: dict[str, Any]) -> bool:
    """True when the info answer (`GET /`) comes from osmem rather than Elasticsearch."""
    version = info.get("version", {})
    return version.get("distribution") == "opensearch" and version.get("build_hash") == "osmem"


def without_broken_stemmers(body: bytes) -> bytes:
    """An index creation body without the stemmer filters osmem gets wrong (and their uses in analysers)."""
    try:
        definition = json.loads(body)
    except ValueError:
        return body
    settings = definition.get("settings") if isinstance(definition, dict) else None
    if not isinstance(settings, dict):
        return body
    analysis = settings.get("analysis") or settings.get("index", {}).get("analysis") or {}
    filters = analysis.get("filter", {})
    broken = {name for name, definition_ in filters.items()
              if definition_.get("type") == "stemmer" and definition_.get("language") in BROKEN_STEMMERS}
    if not broken:
        return body
    for name in broken:
        del filters[name]
    for analyser in analysis.get("analyzer", {}).values():
        analyser["filter"] = [name for name in analyser.get("filter", []) if name not in broken]
    return json.dumps(definition).encode()


def is_index_creation(method: str, path: str) -> bool:
    """`PUT /<index>`: the one request that carries an index's analysis."""
    target = urlsplit(path).path.strip("/")
    return method == "PUT" and bool(target) and "/" not in target and not target.startswith("_")


class CompatibilityProxy(ThreadingHTTPServer):
    """Forwards every request to `upstream`, translating the Elasticsearch 8 compatibility media types."""

    daemon_threads = True

    def __init__(self, upstream: str, address: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        super().__init__(address, _ProxyHandler)
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    def upstream_connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=120)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client's connection pool reuses its connections
    server: CompatibilityProxy
    _upstream: http.client.HTTPConnection | None = None

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if body and is_index_creation(self.command, self.path):
            body = without_broken_stemmers(body)
        asked = self.headers.get("Accept", "")
        headers = {name: plain_media_type(value) if name.lower() in ("content-type", "accept") else value
                   for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
        status, reason, answer_headers, payload = self._ask_upstream(headers, body)

        self.send_response(status, reason)
        compatible = COMPATIBLE_MEDIA_TYPE.search(asked)
        for name, value in answer_headers:
            if name.lower() in HOP_BY_HOP:
                continue
            if name.lower() == "content-type" and compatible and value.lower().startswith("application/json"):
                # What Elasticsearch 8 answers to a client asking for the compatible media type.
                value = f"application/vnd.elasticsearch+json;compatible-with={compatible.group(2)}"
            self.send_header(name, value)
        if not any(name.lower() == "x-elastic-product" for name, _ in answer_headers):
            self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header(EMULATOR_HEADER, EMULATOR_NAME)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _ask_upstream(self, headers: dict[str, str], body: bytes | None):
        for attempt in (1, 2):
            if self._upstream is None:
                self._upstream = self.server.upstream_connection()
            try:
                self._upstream.request(self.command, self.path, body=body, headers=headers)
                response = self._upstream.getresponse()
                payload = response.read()
                return response.status, response.reason, response.getheaders(), payload
            except (ConnectionError, http.client.HTTPException):
                # A kept-alive upstream connection closed meanwhile: one new connection, then give up.
                self._upstream.close()
                self._upstream = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

    def finish(self) -> None:
        super().finish()
        if self._upstream is not None:
            self._upstream.close()

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def running_proxy(upstream: str) -> Iterator[CompatibilityProxy]:
    proxy = CompatibilityProxy(upstream)
    thread = threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def running_emulator() -> Iterator[str]:
    """osmem-server and its proxy, both on loopback; yields the URL to give as ELASTICSEARCH_URL."""
    from osmem_server import OsmemServer  # dev dependency, needed only here

    server = OsmemServer.start(japanese=False)
    try:
        with running_proxy(server.url) as proxy:
            yield proxy.url
    finally:
        server.close()


def main() -> None:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with running_emulator() as url:
        print(url, flush=True)
        while not stop.wait(1):
            pass


if __name__ == "__main__":
    sys.exit(main())
