"""A StubCluster (tests/search/test_elastic_store.py) that keeps state like one Elasticsearch 8 node: concrete
indexes behind an alias, documents with external versions (409 for an older one, tombstones for deletes),
index creation with a write alias (500 illegal_state_exception for a second write index, as ES answers the
loser of a concurrent creation), and the rebuild protocol (settings, refresh, get/update aliases, delete).

It records the size of every bulk request (actions and bytes), and can fail the next bulk requests with 503.
Searches answer no hit when the alias exists, 404 index_not_found_exception when it does not.
"""

from __future__ import annotations

import json
from typing import Any

from tests.search.elastic_stub import StubCluster, error_body


class MiniCluster:
    def __init__(self, stub: StubCluster, alias: str = "passerelles"):
        self.stub = stub
        self.alias = alias
        self.indexes: dict[str, dict[str, tuple[int, dict[str, Any]]]] = {}
        self.tombstones: dict[str, dict[str, int]] = {}
        self.aliases: dict[str, str] = {}  # alias → its write index
        self.bulks: list[tuple[int, int]] = []  # (actions, bytes) of each bulk request
        self.failing_bulks = 0
        # The next creation loses a race: another worker's index takes the alias first.
        self.creation_race = False
        stub.handler = self.handle

    def documents(self) -> dict[str, dict[str, Any]]:
        index = self.aliases.get(self.alias)
        return {key: source for key, (_version, source) in self.indexes.get(index, {}).items()} if index else {}

    def versions(self) -> dict[str, int]:
        index = self.aliases.get(self.alias)
        return {key: version for key, (version, _source) in self.indexes.get(index, {}).items()} if index else {}

    def lose_the_index(self) -> None:
        """The volume is gone: no index, no alias."""
        self.indexes.clear()
        self.tombstones.clear()
        self.aliases.clear()

    def _resolve(self, name: str) -> str | None:
        if name in self.aliases:
            return self.aliases[name]
        return name if name in self.indexes else None

    def _missing(self, name: str) -> tuple[int, Any]:
        return 404, error_body(404, "index_not_found_exception") | {"index": name}

    def handle(self, method: str, path: str, raw: bytes) -> tuple[int, Any] | None:
        parts = [part for part in path.split("/") if part]
        if method == "GET" and not parts:
            return 200, {"version": {"number": "8.19.0"}, "tagline": "You Know, for Search"}
        if parts[:1] == ["_alias"]:
            index = self.aliases.get(parts[1])
            if method == "HEAD":
                return (200, None) if index else (404, None)
            return (200, {index: {"aliases": {parts[1]: {}}}}) if index else (404, {"error": "alias missing",
                                                                                    "status": 404})
        if parts == ["_bulk"]:
            return self._bulk(raw)
        if parts == ["_aliases"] and method == "POST":
            for action in json.loads(raw)["actions"]:
                ((name, target),) = action.items()
                if name == "remove":
                    self.aliases.pop(target["alias"], None)
                elif name == "remove_index":
                    self.indexes.pop(target["index"], None)
                else:
                    self.aliases[target["alias"]] = target["index"]
            return 200, {"acknowledged": True}
        if len(parts) == 2 and parts[1] in ("_settings", "_refresh"):
            return 200, {"acknowledged": True, "_shards": {"total": 1, "successful": 1, "failed": 0}}
        if len(parts) == 2 and parts[1] in ("_search", "_count"):
            if self._resolve(parts[0]) is None:
                return self._missing(parts[0])
            return 200, {"count": len(self.documents()), "took": 1, "timed_out": False,
                         "hits": {"total": {"value": 0, "relation": "eq"}, "max_score": None, "hits": []}}
        if len(parts) == 1:
            name = parts[0]
            if method == "HEAD":
                return (200, None) if self._resolve(name) else (404, None)
            if method == "DELETE":
                self.indexes.pop(name, None)
                return 200, {"acknowledged": True}
            if method == "PUT":
                return self._create(name, json.loads(raw or b"{}"))
        return None

    def _create(self, name: str, body: dict[str, Any]) -> tuple[int, Any]:
        if name in self.indexes:
            return 400, error_body(400, "resource_already_exists_exception")
        aliases = body.get("aliases", {})
        if self.creation_race:
            self.creation_race = False
            for alias in aliases:
                self.indexes[f"{alias}-autre-worker"] = {}
                self.aliases[alias] = f"{alias}-autre-worker"
        for alias in aliases:
            if alias in self.indexes:
                return 400, error_body(400, "invalid_alias_name_exception")
            if alias in self.aliases:
                return 500, error_body(500, "illegal_state_exception")
        self.indexes[name] = {}
        for alias in aliases:
            self.aliases[alias] = name
        return 200, {"acknowledged": True, "index": name}

    def _bulk(self, raw: bytes) -> tuple[int, Any]:
        lines = [json.loads(line) for line in raw.decode().splitlines() if line.strip()]
        position, items = 0, []
        actions = 0
        while position < len(lines):
            ((operation, meta),) = lines[position].items()
            source = lines[position + 1] if operation == "index" else None
            position += 2 if operation == "index" else 1
            actions += 1
            items.append({operation: self._apply(operation, meta, source)})
        self.bulks.append((actions, len(raw)))
        if self.failing_bulks:
            self.failing_bulks -= 1
            return 503, error_body(503, "unavailable_shards_exception")
        return 200, {"took": 1, "errors": any(item[next(iter(item))]["status"] >= 300 for item in items),
                     "items": items}

    def _apply(self, operation: str, meta: dict[str, Any], source: dict[str, Any] | None) -> dict[str, Any]:
        if self.failing_bulks:
            return {"status": 503}
        index = self._resolve(meta["_index"])
        key = meta["_id"]
        if index is None:
            return {"_id": key, "status": 404, "error": {"type": "index_not_found_exception"}}
        documents = self.indexes[index]
        tombstones = self.tombstones.setdefault(index, {})
        current = documents[key][0] if key in documents else tombstones.get(key)
        version = meta.get("version")
        if meta.get("version_type") == "external" and current is not None and version <= current:
            return {"_id": key, "status": 409, "error": {"type": "version_conflict_engine_exception"}}
        version = version if version is not None else (current or 0) + 1
        if operation == "delete":
            found = documents.pop(key, None) is not None
            tombstones[key] = version
            return {"_id": key, "status": 200 if found else 404, "result": "deleted" if found else "not_found"}
        documents[key] = (version, source)
        tombstones.pop(key, None)
        return {"_id": key, "status": 201, "result": "created"}
