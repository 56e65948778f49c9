"""Every request the Elasticsearch store sends, checked against Elasticsearch's own request types.

The real store (search/stores/elastic.py) runs every operation against a node on loopback
(tests/search/elastic_stub.py) that records each HTTP request: method, path, query parameters and body
(NDJSON for _bulk). Each request is matched to its endpoint (ENDPOINTS: an unknown request fails) and
written as a TypeScript object literal typed with that endpoint's request type from the
`@elastic/elasticsearch` 8.x npm package (`estypes`, generated from Elastic's API specification); one
`tsc --strict` run checks them all, so a misspelled key, a wrong value or a feature removed in
Elasticsearch 8 fails the suite. Negative controls prove that it would. Without node_modules (no npm),
the TypeScript tests are skipped with the reason; the endpoint and mapping checks run anyway.
What is verified where: docs/architecture.md, Search.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from search.documents import Kind, SearchDocument, SearchQuery
from search.stores.base import Store
from search.stores.elastic import ElasticsearchStore, index_mapping
from tests.search.elastic_stub import FakeIndex, FakeNode, RecordedRequest, StubCluster, running

BASE_DIR = Path(__file__).resolve().parents[2]
TSC = BASE_DIR / "node_modules" / "typescript" / "bin" / "tsc"
ES_TYPES = BASE_DIR / "node_modules" / "@elastic" / "elasticsearch" / "lib" / "api" / "types.d.ts"
TSC_TIMEOUT = 180

# The endpoints the store may call: a path's named groups are the request type's path parameters, the
# query string gives the rest of its parameters, and the body goes where the type expects it:
# "spread" (its keys are the type's), "ndjson" (bulk lines, each action and document typed on its own),
# a key name (the whole body under that key), or None (no body).
INDEX = r"(?P<index>[^/_][^/]*)"  # an index name never starts with "_"
NAME = r"(?P<name>[^/]+)"


@dataclass(frozen=True)
class Endpoint:
    methods: frozenset[str]
    path: re.Pattern[str]
    type: str
    body: str | None = None


def endpoint(methods: str, path: str, request_type: str, body: str | None = None) -> Endpoint:
    return Endpoint(frozenset(methods.split("|")), re.compile(path), request_type, body)


ENDPOINTS = [
    endpoint("GET", "/", "InfoRequest"),
    endpoint("HEAD", "/", "PingRequest"),
    endpoint("HEAD", f"/_alias/{NAME}", "IndicesExistsAliasRequest"),
    endpoint("HEAD", f"/{INDEX}/_alias/{NAME}", "IndicesExistsAliasRequest"),
    endpoint("GET", "/_alias", "IndicesGetAliasRequest"),
    endpoint("GET", f"/_alias/{NAME}", "IndicesGetAliasRequest"),
    endpoint("GET", f"/{INDEX}/_alias/{NAME}", "IndicesGetAliasRequest"),
    endpoint("POST", "/_aliases", "IndicesUpdateAliasesRequest", "spread"),
    endpoint("PUT|POST", "/_bulk", "BulkRequest", "ndjson"),
    endpoint("PUT|POST", f"/{INDEX}/_bulk", "BulkRequest", "ndjson"),
    endpoint("GET|POST", f"/{INDEX}/_search", "SearchRequest", "spread"),
    endpoint("GET|POST", f"/{INDEX}/_count", "CountRequest", "spread"),
    endpoint("GET|POST", f"/{INDEX}/_refresh", "IndicesRefreshRequest"),
    endpoint("PUT", f"/{INDEX}/_settings", "IndicesPutSettingsRequest", "settings"),
    endpoint("GET", f"/{INDEX}/_settings", "IndicesGetSettingsRequest"),
    endpoint("GET", f"/{INDEX}/_mapping", "IndicesGetMappingRequest"),
    endpoint("GET", f"/{INDEX}/_stats", "IndicesStatsRequest"),
    endpoint("GET", "/_cat/count", "CatCountRequest"),
    endpoint("GET", f"/_cat/count/{INDEX}", "CatCountRequest"),
    endpoint("GET", "/_cat/indices", "CatIndicesRequest"),
    endpoint("GET", f"/_cat/indices/{INDEX}", "CatIndicesRequest"),
    endpoint("GET", "/_cat/aliases", "CatAliasesRequest"),
    endpoint("GET", f"/_cat/aliases/{NAME}", "CatAliasesRequest"),
    endpoint("GET", "/_cluster/health", "ClusterHealthRequest"),
    endpoint("GET", f"/_cluster/health/{INDEX}", "ClusterHealthRequest"),
    endpoint("PUT", f"/{INDEX}", "IndicesCreateRequest", "spread"),
    endpoint("HEAD", f"/{INDEX}", "IndicesExistsRequest"),
    endpoint("GET", f"/{INDEX}", "IndicesGetRequest"),
    endpoint("DELETE", f"/{INDEX}", "IndicesDeleteRequest"),
]

# How a field of the strict mapping is written in a document source.
FIELD_TYPES = {"keyword": "string", "text": "string", "date": "string | number", "boolean": "boolean",
               "long": "number", "integer": "number", "short": "number", "byte": "number", "double": "number",
               "float": "number"}


def endpoint_of(request: RecordedRequest) -> tuple[Endpoint, dict[str, str]] | None:
    for candidate in ENDPOINTS:
        matched = candidate.path.fullmatch(request.path)
        if request.method in candidate.methods and matched:
            return candidate, matched.groupdict()
    return None


# The scenario: every operation of the store, as the site and the commands run them

MEMBER = frozenset({"members", "forum:2"})  # a member with few audience keys
DOCUMENTS = [
    # A line separator (U+2028), which the client sends as it is, inside a JSON string of an NDJSON line.
    SearchDocument(key="post:42", kind=Kind.POST, title="Financement public",
                   body="Le financement des mesures.\u2028Une ligne à part.", url="/forum/sujet/42/",
                   audience=("forum:2", "members"), themes=("financement", "ethique"), region="bretagne",
                   date=datetime(2025, 3, 1, 9, 30, tzinfo=UTC), author="Anne Martin",
                   version=1_764_000_000_000_000_000),
    SearchDocument(key="document:2", kind=Kind.DOCUMENT, title="Charte", body="", url="/documents/2/",
                   audience=("members",)),
]
# The public methods the scenario calls (each sends requests), and those that send none. A method added
# to the store must join one of them: the scenario then records its requests.
DRIVEN = {"ping", "describe", "has_index", "ensure_index", "index", "delete", "refresh", "count", "search",
          "autocomplete", "rebuild"}
WITHOUT_REQUEST = {"search_body", "autocomplete_body", "results_from_response"}


def drive_every_operation(url: str, node: FakeNode) -> None:
    store = ElasticsearchStore(url)
    store.ping()
    store.ensure_index()  # no alias yet: the first index is created with its alias
    store.index(DOCUMENTS)
    store.delete(["document:2", "page:inconnue"], version=1_765_000_000_000_000_000)  # external version
    store.has_index(cached=False)
    store.refresh()
    store.count()
    store.describe()  # `search_index status`: the alias, its index, the count
    store.search(SearchQuery(text="financement introuvable", audience=MEMBER))  # no hit: any word, again
    store.search(SearchQuery(text="charte", audience=MEMBER, kind=Kind.DOCUMENT, theme="ethique", region="bretagne",
                             page=2))
    store.autocomplete("bord", MEMBER, Kind.AUTOCOMPLETE, limit=5)
    store.rebuild(iter(DOCUMENTS))  # the alias moves from the first index, which is dropped
    # A concrete index squatting the alias name (written to before any alias existed) is removed in the
    # same alias call; a rebuild of nothing on an empty cluster only adds the alias.
    node.indices["squat"] = FakeIndex(documents={"page:1": {"key": "page:1"}})
    ElasticsearchStore(url, index="squat").rebuild(iter(DOCUMENTS))
    ElasticsearchStore(url, index="neuf").rebuild(iter([]))


@pytest.fixture(scope="module")
def recorded() -> list[RecordedRequest]:
    node = FakeNode()
    with running(StubCluster(fallback=node)) as cluster:
        try:
            drive_every_operation(cluster.url, node)
        except Exception as exc:
            untyped = [str(request) for request in cluster.recorded if endpoint_of(request) is None]
            pytest.fail(f"Le scénario s'est arrêté ({type(exc).__name__} : {exc}).\n"
                        f"Requêtes sans type déclaré (ENDPOINTS) : {untyped}\n"
                        f"Requêtes inconnues du faux nœud (tests/search/elastic_stub.py, FakeNode) : {node.unknown}\n"
                        "Requêtes envoyées :\n" + "\n".join(map(str, cluster.recorded)), pytrace=False)
    return cluster.recorded


# From recorded requests to TypeScript


def parameter(value: str) -> Any:
    """A query-string value as the client wrote it (true, 12, a,b) back to its JSON type."""
    if value in ("true", "false"):
        return value == "true"
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    return value.split(",") if "," in value else value


def document_interface() -> str:
    """The document sources the strict mapping accepts: its fields, nothing else (null is allowed)."""
    lines = ["interface PasserellesDocument {"]
    for name, definition in index_mapping().to_dict()["properties"].items():
        field_type = definition.get("type", "object")
        if field_type not in FIELD_TYPES:
            raise ValueError(f"Type de champ {field_type!r} ({name}) inconnu de ce test : ajoutez-le à FIELD_TYPES.")
        written = FIELD_TYPES[field_type]
        lines.append(f"  {json.dumps(name)}?: {written} | ({written})[] | null;")
    lines.append("}")
    return "\n".join(lines)


def settings_reset(value: Any) -> Any:
    """Settings updated with null leaves written as `undefined`.

    Elasticsearch documents null in an index settings update as "back to the default value" (the store
    does it for `refresh_interval` after a rebuild's load), but the specification's types have no null
    there. `undefined` keeps the key and lets the type check every other value (BROKEN has a control).
    """
    if value is None:
        return Raw("undefined")
    if isinstance(value, dict):
        return {key: settings_reset(item) for key, item in value.items()}
    return value


class Contract:
    """A TypeScript module of typed literals, one `const` per request (and per bulk line), remembering
    which request each line of the module comes from."""

    def __init__(self) -> None:
        self.lines = [f'import type * as estypes from "{ES_TYPES.with_name("types")}";', "",
                      *document_interface().split("\n"), ""]
        # Every request type of ENDPOINTS exists in the package (even those no recorded request uses).
        self.lines += [f"type Endpoint{number} = estypes.{name};"
                       for number, name in enumerate(sorted({entry.type for entry in ENDPOINTS}))]
        self.lines.append("")
        self.owners: list[tuple[int, int, RecordedRequest]] = []

    def source(self) -> str:
        return "\n".join(self.lines) + "\n"

    def request_at(self, line: int) -> RecordedRequest | None:
        return next((request for first, last, request in self.owners if first <= line <= last), None)

    def add(self, name: str, request: RecordedRequest) -> None:
        found = endpoint_of(request)
        if found is None:
            raise AssertionError(f"Requête sans type déclaré : {request} (ajoutez son point d'accès à ENDPOINTS)")
        entry, path_parameters = found
        first = len(self.lines) + 1
        self.lines.append(f"// {name} : {request} ({entry.type})")
        literal: dict[str, Any] = {key: value.split(",") if "," in value else value
                                   for key, value in path_parameters.items()}
        for key, value in request.params.items():
            if key in literal:
                raise AssertionError(f"{request} : paramètre {key!r} à la fois dans le chemin et la requête")
            literal[key] = parameter(value)
        request_type = f"estypes.{entry.type}"
        if entry.body == "ndjson":
            request_type = f"estypes.{entry.type}<PasserellesDocument>"
            literal["operations"] = [Raw(line) for line in self._bulk_lines(name, request.ndjson())]
        elif request.raw.strip():
            body = request.json()
            if entry.body is None:
                raise AssertionError(f"{request} : corps inattendu pour {entry.type} : {body!r}")
            if entry.body == "spread":
                if not isinstance(body, dict):
                    raise AssertionError(f"{request} : le corps n'est pas un objet JSON : {body!r}")
                for key in set(literal) & set(body):
                    raise AssertionError(f"{request} : {key!r} à la fois dans les paramètres et le corps")
                literal.update(body)
            else:
                literal[entry.body] = settings_reset(body) if entry.type == "IndicesPutSettingsRequest" else body
        self._const(name, request_type, literal)
        self.owners.append((first, len(self.lines), request))

    def _bulk_lines(self, name: str, lines: list[Any]) -> list[str]:
        """Each action line typed as an operation, each source as a document (update: an update action)."""
        names = []
        expects: str | None = None
        for number, line in enumerate(lines, 1):
            line_name = f"{name}_{number}"
            if expects is None:
                self._const(line_name, "estypes.BulkOperationContainer", line)
                operations = list(line) if isinstance(line, dict) else []
                if operations in (["index"], ["create"]):
                    expects = "PasserellesDocument"
                elif operations == ["update"]:
                    expects = "estypes.BulkUpdateAction<PasserellesDocument, Partial<PasserellesDocument>>"
            else:
                self._const(line_name, expects, line)
                expects = None
            names.append(line_name)
        if expects is not None:
            raise AssertionError(f"{name} : la dernière action du bulk n'a pas de document")
        return names

    def _const(self, name: str, type_name: str, value: Any) -> None:
        text = json.dumps(value, indent=2, ensure_ascii=False, default=lambda raw: raw.marker)
        # Raw names (references to other constants) were written as "\u0000name\u0000": unquote them.
        text = re.sub(r'"\\u0000(\w+)\\u0000"', r"\1", text)
        # split("\n"), not splitlines(): json.dumps escapes newlines, but leaves U+2028 or U+0085 as they are.
        self.lines.extend(f"const {name}: {type_name} = {text};".split("\n"))


@dataclass(frozen=True)
class Raw:
    """A TypeScript expression (a constant's name) inside a literal."""

    name: str

    @property
    def marker(self) -> str:
        return f"\0{self.name}\0"


def contract_of(requests: list[RecordedRequest]) -> Contract:
    contract = Contract()
    for number, request in enumerate(requests, 1):
        contract.add(f"r{number}", request)
    return contract


# Running tsc

# "file(line,column): error TS…: message", or "error TS…: message" for the whole run (a file not found).
TSC_ERROR = re.compile(r"^(?:(?P<file>.+?)\((?P<line>\d+),(?P<column>\d+)\): )?error (?P<code>TS\d+): (?P<message>.*)$")


@dataclass(frozen=True)
class TscError:
    file: str
    line: int
    code: str
    message: str


def node_and_typescript() -> str:
    node = shutil.which("node")
    missing = [str(path.relative_to(BASE_DIR)) for path in (TSC, ES_TYPES) if not path.is_file()]
    if node is None or missing:
        absent = ", ".join(["node"] if node is None else missing)
        pytest.skip(f"TypeScript ou les types d'Elasticsearch introuvables ({absent}) : lancez `make install` "
                    "(npm requis) ; les corps de requête Elasticsearch ne sont pas vérifiés contre ses types")
    return node


def type_check(node: str, modules: dict[str, str], directory: Path) -> tuple[list[TscError], str, float]:
    """One tsc run over `modules` (file name → source): its errors, its whole output, its duration."""
    for file_name, source in modules.items():
        (directory / file_name).write_text(source, encoding="utf-8")
    # No @types from anywhere; the package's own declarations are not re-checked (skipLibCheck).
    (directory / "tsconfig.json").write_text(json.dumps({
        "compilerOptions": {"strict": True, "noEmit": True, "skipLibCheck": True, "types": [], "target": "es2022",
                            "module": "esnext", "moduleResolution": "bundler"},
        "files": sorted(modules),
    }), encoding="utf-8")
    started = time.monotonic()
    result = subprocess.run([node, str(TSC), "--strict", "--noEmit", "--pretty", "false", "--project",
                             str(directory / "tsconfig.json")], capture_output=True, text=True, cwd=directory,
                            timeout=TSC_TIMEOUT, check=False)
    seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    errors: list[TscError] = []
    for line in output.splitlines():
        matched = TSC_ERROR.match(line)
        if matched:
            errors.append(TscError(Path(matched["file"] or "").name, int(matched["line"] or 0), matched["code"],
                                   matched["message"]))
        elif errors and line.startswith(" "):  # the rest of the previous message
            last = errors[-1]
            errors[-1] = replace(last, message=f"{last.message}\n{line}")
    if result.returncode != 0 and not errors:
        raise AssertionError(f"tsc a échoué sans message d'erreur lisible (code {result.returncode}) :\n{output}")
    return errors, output, seconds


# Bodies deliberately broken with what Elasticsearch 8 refuses: each must make tsc fail, naming it.


def with_json(request: RecordedRequest, change: Callable[[Any], Any]) -> RecordedRequest:
    return replace(request, raw=json.dumps(change(request.json())).encode())


def bulk_with_type(request: RecordedRequest) -> RecordedRequest:
    lines = request.ndjson()
    ((operation, meta),) = lines[0].items()
    lines[0] = {operation: {**meta, "_type": "_doc"}}  # mapping types are gone since 8.0
    return replace(request, raw="".join(json.dumps(line) + "\n" for line in lines).encode())


def mapping_with_string(body: dict[str, Any]) -> dict[str, Any]:
    body["mappings"]["properties"]["title"]["type"] = "string"  # "string" is "text"/"keyword" since 5.0
    return body


def misspelled_elision(body: dict[str, Any]) -> dict[str, Any]:
    elision = body["settings"]["analysis"]["filter"]["french_elision"]
    elision["articles_cas"] = elision.pop("articles_case")
    return body


def renamed(old: str, new: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda body: {new if key == old else key: value for key, value in body.items()}


def first(requests: list[RecordedRequest], predicate: Callable[[RecordedRequest], bool]) -> RecordedRequest:
    return next(request for request in requests if predicate(request))


def is_bulk(request: RecordedRequest) -> bool:
    return request.path.endswith("/_bulk")


def creates_index(request: RecordedRequest) -> bool:
    return request.method == "PUT" and endpoint_of(request) is not None and endpoint_of(request)[0].type == (
        "IndicesCreateRequest")


def updates_settings(request: RecordedRequest) -> bool:
    return request.method == "PUT" and request.path.endswith("/_settings")


def filtered_search(request: RecordedRequest) -> bool:
    return request.path.endswith("/_search") and "post_filter" in (request.json() or {})


# name → (the broken request made from the record, what tsc's message must name)
BROKEN: dict[str, tuple[Callable[[list[RecordedRequest]], RecordedRequest], str]] = {
    "type-in-bulk-action": (lambda requests: bulk_with_type(first(requests, is_bulk)), "'\"_type\"' does not exist"),
    "string-field": (lambda requests: with_json(first(requests, creates_index), mapping_with_string), '"string"'),
    "post-fitler": (lambda requests: with_json(first(requests, filtered_search), renamed("post_filter", "post_fitler")),
                    "'\"post_fitler\"' does not exist"),
    "hightlight": (lambda requests: with_json(first(requests, filtered_search), renamed("highlight", "hightlight")),
                   "'\"hightlight\"' does not exist"),
    # Inside the analysis too (a union of filter definitions told apart by their type).
    "elision-articles-cas": (lambda requests: with_json(first(requests, creates_index), misspelled_elision),
                             "'\"articles_cas\"' does not exist"),
    # Query parameters are checked too.
    "require-alais": (lambda requests: replace(first(requests, lambda r: "require_alias" in r.params),
                                               params={"require_alais": "true"}),
                      "'\"require_alais\"' does not exist"),
    # null resets a setting (settings_reset), any other value is still checked: a boolean is no duration.
    "refresh-interval-boolean": (lambda requests: with_json(first(requests, updates_settings),
                                                            lambda body: {"index": {"refresh_interval": True}}),
                                 "Type 'true' is not assignable to type 'Duration"),
}


@dataclass
class TypeCheck:
    contract: Contract
    errors: list[TscError]
    output: str
    seconds: float

    def errors_in(self, file_name: str) -> list[TscError]:
        return [error for error in self.errors if error.file == file_name]


@pytest.fixture(scope="module")
def type_checked(recorded, tmp_path_factory) -> TypeCheck:
    """The record and each broken variant, in one tsc run (most of its time is reading the ES types)."""
    node = node_and_typescript()
    contract = contract_of(recorded)
    modules = {"contract.ts": contract.source()}
    for name, (broken, _) in BROKEN.items():
        variant = Contract()
        variant.add("broken", broken(recorded))
        modules[f"broken-{name}.ts"] = variant.source()
    errors, output, seconds = type_check(node, modules, tmp_path_factory.mktemp("elastic-contract"))
    return TypeCheck(contract, errors, output, seconds)


# The tests


def test_every_public_method_of_the_store_is_driven_by_the_scenario_or_sends_nothing():
    public = {name for name in dir(ElasticsearchStore)
              if not name.startswith("_") and callable(getattr(ElasticsearchStore, name))}

    assert public == DRIVEN | WITHOUT_REQUEST, (
        f"Méthodes publiques hors du scénario : {sorted(public - DRIVEN - WITHOUT_REQUEST)} (appelez-les dans "
        f"drive_every_operation et ajoutez-les à DRIVEN) ; disparues : {sorted((DRIVEN | WITHOUT_REQUEST) - public)}")
    assert {name for name in vars(Store) if not name.startswith("_") and callable(vars(Store)[name])} <= DRIVEN


def test_the_record_holds_every_kind_of_request_the_store_makes(recorded):
    def body(request: RecordedRequest) -> str:
        return request.raw.decode()

    expected = {
        "ping": lambda r: str(r) == "GET /",
        "alias check": lambda r: str(r) == "HEAD /_alias/passerelles",
        "first index with its write alias": lambda r: creates_index(r) and '"is_write_index": true' in json.dumps(
            r.json().get("aliases")),
        "rebuilt index without refresh": lambda r: creates_index(r) and r.json()["settings"].get(
            "refresh_interval") == "-1",
        "bulk index through the alias": lambda r: is_bulk(r) and r.params.get("require_alias") == "true"
        and '"index"' in body(r),
        "bulk delete through the alias": lambda r: is_bulk(r) and r.params.get("require_alias") == "true"
        and '"delete"' in body(r),
        "bulk load of a rebuild": lambda r: is_bulk(r) and '"passerelles-' in body(r),
        "search, every word": lambda r: r.path.endswith("/_search") and '"operator": "and"' in json.dumps(r.json()),
        "search, any word": lambda r: r.path.endswith("/_search") and '"operator": "or"' in json.dumps(r.json()),
        "search with chosen kind, theme and region": lambda r: filtered_search(r) and len(
            r.json()["post_filter"]["bool"]["filter"]) == 3,
        "autocomplete": lambda r: r.path.endswith("/_search") and "title.autocomplete" in body(r),
        "count": lambda r: r.path == "/passerelles/_count",
        "refresh": lambda r: r.path == "/passerelles/_refresh",
        "settings restored": updates_settings,
        "refresh of the rebuilt index": lambda r: r.path.startswith("/passerelles-") and r.path.endswith("/_refresh"),
        "aliases read": lambda r: str(r) == "GET /_alias/passerelles",
        "squatting index checked": lambda r: str(r) == "HEAD /squat",
        "alias moved": lambda r: r.path == "/_aliases" and {"remove", "add"} <= {
            operation for action in r.json()["actions"] for operation in action},
        "squatting index removed": lambda r: r.path == "/_aliases" and any(
            "remove_index" in action for action in r.json()["actions"]),
        "old index dropped": lambda r: r.method == "DELETE" and r.path.startswith("/passerelles-"),
    }

    missing = [name for name, seen in expected.items() if not any(seen(request) for request in recorded)]
    assert missing == [], "\n".join(str(request) for request in recorded)


def test_every_request_sent_is_a_known_endpoint_with_the_body_it_takes(recorded):
    # Without node, this still fails on a request no request type is declared for (ENDPOINTS).
    contract = contract_of(recorded)

    assert len(contract.owners) == len(recorded)


def test_every_document_sent_has_only_fields_of_the_strict_mapping(recorded):
    fields = set(index_mapping().to_dict()["properties"])
    sources = []
    for request in filter(is_bulk, recorded):
        lines = request.ndjson()
        sources += [lines[number + 1] for number, line in enumerate(lines[:-1]) if set(line) & {"index", "create"}]

    assert sources
    assert [sorted(set(source) - fields) for source in sources if set(source) - fields] == []


def test_every_recorded_request_matches_the_elasticsearch_8_request_types(type_checked):
    # Every error outside the negative controls: in the record, or of the run itself.
    errors = [error for error in type_checked.errors if not error.file.startswith("broken-")]

    if errors:
        contract = type_checked.contract
        report = []
        for error in errors:
            request = contract.request_at(error.line)
            report.append(f"{error.code} ligne {error.line} : {error.message}")
            if request is not None:
                shown = json.dumps(request.ndjson() if is_bulk(request) else request.json(), indent=2,
                                   ensure_ascii=False)
                report.append(f"  requête : {request}\n  corps : {shown[:4000]}")
        pytest.fail("Corps refusés par les types d'Elasticsearch 8 (tsc --strict) :\n" + "\n".join(report),
                    pytrace=False)


@pytest.mark.parametrize("name", BROKEN)
def test_a_body_with_what_elasticsearch_8_refuses_fails_the_type_check(type_checked, name):
    errors = type_checked.errors_in(f"broken-{name}.ts")
    (_, named) = BROKEN[name]

    assert errors, type_checked.output
    assert all(named in error.message for error in errors), "\n".join(error.message for error in errors)
