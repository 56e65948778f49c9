"""A loopback stand-in for an Elasticsearch 8 node, spoken to by the real client over real HTTP.

`StubCluster` records every request it receives (method, path, query parameters, raw body) and answers
from `handler` or the routes set by each test; a request neither answers goes to `fallback` when there is one
(`FakeNode`: just enough of a node kept in memory for the store to run every operation), else 500.
The store's contract tests (tests/search/test_elastic_contract.py) read the record; the store tests
(tests/search/test_elastic_store.py) set canned answers.
"""

from __future__ import annotations

import contextlib
import copy
import fnmatch
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

ES_VERSION = "8.19.0"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # percent-decoded
    params: dict[str, str]  # the query string (its last value for a repeated name)
    raw: bytes

    def __str__(self) -> str:
        query = "&".join(f"{name}={value}" for name, value in self.params.items())
        return f"{self.method} {self.path}" + (f"?{query}" if query else "")

    def json(self) -> Any:
        return json.loads(self.raw) if self.raw.strip() else None

    def ndjson(self) -> list[Any]:
        return [json.loads(line) for line in self.raw.decode().split("\n") if line.strip()]


Answer = tuple[int, Any]


class StubCluster:
    """Answers like an Elasticsearch node from routes set by each test, and records every request."""

    def __init__(self, fallback: Callable[[RecordedRequest], Answer] | None = None) -> None:
        self.routes: list[tuple[str, re.Pattern[str], int, Any]] = []
        self.uses: dict[int, int] = {}  # route number → answers left
        # Asked before the routes: (method, path, body) → (status, JSON value), or None for the routes.
        self.handler: Callable[[str, str, bytes], Answer | None] | None = None
        self.fallback = fallback
        self.lock = threading.Lock()
        # (method, path as sent, raw body), and the same requests in full.
        self.requests: list[tuple[str, str, bytes]] = []
        self.recorded: list[RecordedRequest] = []
        self.headers: list[dict[str, str]] = []  # of each request (lower-case names), in the order of `requests`
        self.says_it_is_elasticsearch = True
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _StubHandler)
        self.server.daemon_threads = True
        self.server.cluster = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def route(self, method: str, path: str, status: int = 200, body: Any = None, *, times: int = 0) -> None:
        """`body` is a JSON value, or a function of the request body returning one. A route with `times`
        answers that many requests, then gives way to the next matching one."""
        self.routes.append((method, re.compile(path), status, body))
        if times:
            self.uses[len(self.routes) - 1] = times

    def calls(self) -> list[str]:
        return [f"{method} {path}" for method, path, _ in self.requests]

    def json_of(self, method: str, path: str) -> Any:
        return next(json.loads(raw) for m, p, raw in self.requests if (m, p) == (method, path))

    def answer(self, request: RecordedRequest) -> Answer:
        handled = self.handler(request.method, request.path, request.raw) if self.handler else None
        if handled is not None:
            return handled
        for number, (method, pattern, status, body) in enumerate(self.routes):
            if method == request.method and pattern.fullmatch(request.path) and self.uses.get(number, 1) > 0:
                if number in self.uses:
                    self.uses[number] -= 1
                return status, body(request.raw) if callable(body) else body
        if self.fallback is not None:
            return self.fallback(request)
        return 500, {"error": {"type": "stub_without_route", "reason": f"{request.method} {request.path}"}}


class _StubHandler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        cluster: StubCluster = self.server.cluster  # type: ignore[attr-defined]
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlsplit(self.path)
        request = RecordedRequest(self.command, unquote(url.path), dict(parse_qsl(url.query, keep_blank_values=True)),
                                  raw)
        with cluster.lock:
            cluster.requests.append((self.command, url.path, raw))
            cluster.recorded.append(request)
            cluster.headers.append({name.lower(): value for name, value in self.headers.items()})
            status, body = cluster.answer(request)
        payload = b"" if self.command == "HEAD" else json.dumps(body if body is not None else {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if cluster.says_it_is_elasticsearch:
            self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def running(cluster: StubCluster) -> Iterator[StubCluster]:
    thread = threading.Thread(target=cluster.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield cluster
    finally:
        cluster.server.shutdown()
        cluster.server.server_close()
        thread.join(timeout=5)


def error_body(status: int, error_type: str, reason: str = "stub") -> dict[str, Any]:
    return {"error": {"root_cause": [{"type": error_type, "reason": reason}], "type": error_type, "reason": reason},
            "status": status}


def bulk_answer(statuses: list[int] | None = None) -> Callable[[bytes], dict[str, Any]]:
    """Answers a bulk request item by item (all 201, or the given statuses in order)."""

    def answer(raw: bytes) -> dict[str, Any]:
        lines = [json.loads(line) for line in raw.decode().split("\n") if line.strip()]
        actions = [line for line in lines if set(line) & {"index", "delete"} and len(line) == 1]
        items = []
        for number, action in enumerate(actions):
            ((operation, meta),) = action.items()
            status = statuses[number] if statuses else 201
            item = {"_index": meta["_index"], "_id": meta["_id"], "status": status}
            if status >= 300:
                item["error"] = {"type": "stub_error", "reason": "stub"}
            items.append({operation: item})
        return {"took": 1, "errors": any(status >= 300 for status in statuses or []), "items": items}

    return answer


# A node in memory

INDEX = r"(?P<index>[^/_][^/]*)"  # an index name never starts with "_"
NAME = r"(?P<name>[^/]+)"


@dataclass
class FakeIndex:
    aliases: dict[str, dict[str, Any]] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)


class FakeNode:
    """Indexes, aliases and documents kept in memory, answering the API calls the store makes.

    Enough for every operation of the store to run its normal path: index creation (with its alias),
    alias checks, reads and atomic moves, bulk writes (`require_alias`, external versions), refresh,
    settings, count and deletion. Searches answer no hit (the contract tests look at what is sent).
    Anything else answers 400, after being recorded.
    """

    def __init__(self) -> None:
        self.indices: dict[str, FakeIndex] = {}
        self.unknown: list[str] = []  # the requests it could not answer
        self.lock = threading.Lock()
        self._handlers: list[tuple[set[str], re.Pattern[str], Callable[..., Answer]]] = [
            ({"GET"}, re.compile("/"), self._info),
            ({"HEAD"}, re.compile("/"), lambda request: (200, None)),
            ({"HEAD", "GET"}, re.compile(f"/_alias/{NAME}"), self._alias),
            ({"GET"}, re.compile("/_alias"), self._alias),
            ({"POST"}, re.compile("/_aliases"), self._update_aliases),
            ({"PUT", "POST"}, re.compile("/_bulk"), self._bulk),
            ({"PUT", "POST"}, re.compile(f"/{INDEX}/_bulk"), self._bulk),
            ({"GET", "POST"}, re.compile(f"/{INDEX}/_search"), self._search),
            ({"GET", "POST"}, re.compile(f"/{INDEX}/_count"), self._count),
            ({"GET", "POST"}, re.compile(f"/{INDEX}/_refresh"), self._refresh),
            ({"PUT"}, re.compile(f"/{INDEX}/_settings"), self._put_settings),
            ({"PUT"}, re.compile(f"/{INDEX}"), self._create),
            ({"HEAD", "GET"}, re.compile(f"/{INDEX}"), self._get_index),
            ({"DELETE"}, re.compile(f"/{INDEX}"), self._delete),
        ]

    def __call__(self, request: RecordedRequest) -> Answer:
        with self.lock:
            for methods, pattern, handler in self._handlers:
                matched = pattern.fullmatch(request.path)
                if request.method in methods and matched:
                    return handler(request, **matched.groupdict())
            self.unknown.append(str(request))
        return 400, error_body(400, "faux_noeud", f"{request} non pris en charge")

    # What names point to

    def aliased(self, alias: str) -> list[str]:
        return sorted(name for name, index in self.indices.items() if alias in index.aliases)

    def resolve(self, expression: str) -> list[str]:
        """Concrete indexes named by a comma list of names, aliases and wildcards."""
        found: set[str] = set()
        for part in expression.split(","):
            if part in ("_all", "*"):
                found.update(self.indices)
            elif "*" in part:
                found.update(fnmatch.filter(self.indices, part))
            elif part in self.indices:
                found.add(part)
            else:
                found.update(self.aliased(part))
        return sorted(found)

    def write_index(self, target: str) -> str | None:
        if target in self.indices:
            return target
        behind = self.aliased(target)
        writers = [name for name in behind if self.indices[name].aliases[target].get("is_write_index")]
        if len(writers) == 1:
            return writers[0]
        return behind[0] if len(behind) == 1 else None

    @staticmethod
    def _missing(name: str) -> Answer:
        return 404, error_body(404, "index_not_found_exception", f"no such index [{name}]")

    # Handlers

    def _info(self, request: RecordedRequest) -> Answer:
        return 200, {"name": "faux-noeud", "cluster_name": "contrat", "cluster_uuid": "faux",
                     "version": {"number": ES_VERSION, "build_flavor": "default"}, "tagline": "You Know, for Search"}

    def _alias(self, request: RecordedRequest, name: str = "*") -> Answer:
        found = {index: {"aliases": {alias: options for alias, options in self.indices[index].aliases.items()
                                     if fnmatch.fnmatch(alias, name)}}
                 for index in self.indices}
        found = {index: value for index, value in found.items() if value["aliases"]}
        if not found and name != "*":
            return 404, {"error": f"alias [{name}] missing", "status": 404}
        return 200, found

    def _create(self, request: RecordedRequest, index: str) -> Answer:
        body = request.json() or {}
        if index in self.indices:
            return 400, error_body(400, "resource_already_exists_exception", f"index [{index}] already exists")
        if self.aliased(index):
            return 400, error_body(400, "invalid_index_name_exception", f"[{index}] is an alias")
        aliases = body.get("aliases", {})
        for alias, options in aliases.items():
            if alias in self.indices:
                return 400, error_body(400, "invalid_alias_name_exception", f"[{alias}] is an index")
            if options.get("is_write_index") and any(self.indices[other].aliases[alias].get("is_write_index")
                                                     for other in self.aliased(alias)):
                # What Elasticsearch 8 answers to a second write index for one alias (not a 400).
                reason = f"alias [{alias}] has more than one write index"
                return 500, error_body(500, "illegal_state_exception", reason)
        self.indices[index] = FakeIndex(aliases=copy.deepcopy(aliases),
                                        settings=copy.deepcopy(body.get("settings", {})),
                                        mappings=copy.deepcopy(body.get("mappings", {})))
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": index}

    def _get_index(self, request: RecordedRequest, index: str) -> Answer:
        names = self.resolve(index)
        if not names:
            return self._missing(index)
        return 200, {name: {"aliases": self.indices[name].aliases, "mappings": self.indices[name].mappings,
                            "settings": {"index": self.indices[name].settings}} for name in names}

    def _delete(self, request: RecordedRequest, index: str) -> Answer:
        if not self.resolve(index) and request.params.get("ignore_unavailable") != "true":
            return self._missing(index)
        if index not in self.indices and self.aliased(index):
            return 400, error_body(400, "illegal_argument_exception", f"[{index}] is an alias, not an index")
        for name in self.resolve(index):
            del self.indices[name]
        return 200, {"acknowledged": True}

    def _put_settings(self, request: RecordedRequest, index: str) -> Answer:
        names = self.resolve(index)
        if not names:
            return self._missing(index)
        for name in names:
            self.indices[name].settings.update(request.json() or {})
        return 200, {"acknowledged": True}

    def _refresh(self, request: RecordedRequest, index: str) -> Answer:
        if not self.resolve(index):
            return self._missing(index)
        return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}

    def _count(self, request: RecordedRequest, index: str) -> Answer:
        names = self.resolve(index)
        if not names:
            return self._missing(index)
        return 200, {"count": sum(len(self.indices[name].documents) for name in names),
                     "_shards": {"total": len(names), "successful": len(names), "skipped": 0, "failed": 0}}

    def _search(self, request: RecordedRequest, index: str) -> Answer:
        if not self.resolve(index):
            return self._missing(index)
        body = request.json() or {}
        aggregations = {name: {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": []}
                        for name in body.get("aggs", body.get("aggregations", {}))}
        return 200, {"took": 1, "timed_out": False, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                     "hits": {"total": {"value": 0, "relation": "eq"}, "max_score": None, "hits": []},
                     "aggregations": aggregations}

    def _update_aliases(self, request: RecordedRequest) -> Answer:
        indices = copy.deepcopy(self.indices)  # all the actions or none
        for action in (request.json() or {}).get("actions", []):
            ((operation, options),) = action.items()
            name = options.get("index", "")
            if name not in indices:
                return self._missing(name)
            if operation == "add":
                extra = {key: value for key, value in options.items() if key not in ("index", "alias")}
                indices[name].aliases[options["alias"]] = extra
            elif operation == "remove":
                if indices[name].aliases.pop(options["alias"], None) is None:
                    return 404, {"error": f"aliases [{options['alias']}] missing", "status": 404}
            elif operation == "remove_index":
                del indices[name]
            else:
                return 400, error_body(400, "x_content_parse_exception", f"unknown action [{operation}]")
        self.indices = indices
        return 200, {"acknowledged": True}

    def _bulk(self, request: RecordedRequest, index: str | None = None) -> Answer:
        lines = request.ndjson()
        require_alias = request.params.get("require_alias") == "true"
        items = []
        position = 0
        while position < len(lines):
            ((operation, meta),) = lines[position].items()
            source = lines[position + 1] if operation in ("index", "create", "update") else None
            position += 1 if source is None else 2
            target = meta.get("_index") or index or ""
            items.append({operation: self._bulk_item(operation, meta, source, target, require_alias)})
        errors = any(item["status"] >= 300 for entry in items for item in entry.values())
        return 200, {"took": 1, "errors": errors, "items": items}

    def _bulk_item(self, operation: str, meta: dict[str, Any], source: Any, target: str,
                   require_alias: bool) -> dict[str, Any]:
        key = meta.get("_id", "")
        item: dict[str, Any] = {"_index": target, "_id": key}
        if require_alias and not self.aliased(target):
            reason = f"[require_alias] request flag is [true] and [{target}] is not an alias"
            return {**item, "status": 404, "error": {"type": "index_not_found_exception", "reason": reason}}
        name = self.write_index(target)
        if name is None:
            if operation == "delete" or self.aliased(target):
                return {**item, "status": 404, "error": {"type": "index_not_found_exception", "reason": target}}
            self.indices[name := target] = FakeIndex()  # automatic creation, as a node does
        fake = self.indices[name]
        item["_index"] = name
        current = fake.versions.get(key, 0)
        version = meta.get("version")
        if version is not None and meta.get("version_type") in ("external", "external_gte"):
            newer = version > current or (meta["version_type"] == "external_gte" and version == current)
            if key in fake.versions and not newer:
                reason = f"[{key}]: version conflict, current version [{current}] is higher or equal"
                return {**item, "status": 409, "error": {"type": "version_conflict_engine_exception", "reason": reason}}
        else:
            version = current + 1
        if operation == "delete":
            if fake.documents.pop(key, None) is None:
                return {**item, "status": 404, "result": "not_found"}
            fake.versions[key] = version
            return {**item, "status": 200, "result": "deleted", "_version": version}
        if operation == "update":
            if key not in fake.documents:
                return {**item, "status": 404, "error": {"type": "document_missing_exception", "reason": key}}
            fake.documents[key] = {**fake.documents[key], **(source or {}).get("doc", {})}
        elif operation == "create" and key in fake.documents:
            return {**item, "status": 409, "error": {"type": "version_conflict_engine_exception", "reason": key}}
        created = key not in fake.documents
        if operation != "update":
            fake.documents[key] = source
        fake.versions[key] = version
        return {**item, "status": 201 if created else 200, "result": "created" if created else "updated",
                "_version": version}
