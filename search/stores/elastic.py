"""The Elasticsearch 8 store (docs/architecture.md, Search): one alias, French analysis, audience filtered inside.

Writes and searches go to the alias `<index>`, which points to one concrete index `<index>-<timestamp>`.
A rebuild loads a new concrete index and then moves the alias in one `update_aliases` call, so searches
never see a half-built or empty index. Every failure to reach the cluster becomes `StoreUnavailable`,
which lets searches fall back to the database store and indexing tasks retry. A write to a missing alias
is `IndexMissing`: the store never creates an empty index on its own (the caller knows whether content
must be loaded first, search.indexing); `ensure_index()` creates the first one when asked.

Documents and deletions carry an external version (when their state was read, SearchDocument.version):
the cluster keeps the highest, and answers 409 to an older one, which is fine (a newer state is in).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from elastic_transport import TlsError, TransportError
from elasticsearch import ApiError, BadRequestError, Elasticsearch, NotFoundError, UnsupportedProductError
from elasticsearch.dsl import Date, Index, Keyword, Mapping, Q, Search, Text, analyzer, token_filter
from elasticsearch.helpers import streaming_bulk

from search.documents import FacetValue, Hit, SearchDocument, SearchQuery, SearchResults, Suggestion
from search.stores.base import IndexMissing, Store, StoreUnavailable
from search.stores.credentials import Connection

logger = logging.getLogger(__name__)

# Elided articles: "l'éthique" is indexed and searched as "ethique" (ASCII folding comes later).
FRENCH_ELISIONS = ("l", "m", "t", "qu", "n", "s", "j", "d", "c", "jusqu", "quoiqu", "lorsqu", "puisqu")

# The usual French stop words (articles, pronouns, forms of être and avoir), written already folded,
# because the stop filter runs after ASCII folding: then "a" typed for "à", "ou" for "où" or "ete" for
# "été" are dropped from the query exactly as their accented forms are dropped from the text. With the
# accented `_french_` list after folding, "formation a distance" would keep "a" and, every word being
# required, miss "Formation à distance". Folding merges a few words into stop words ("sûr", "dû", "là",
# "où"), which nobody searches for alone.
FRENCH_STOP_WORDS = tuple(sorted({
    # articles, prepositions, pronouns, conjunctions, elided letters
    "a", "au", "aux", "avec", "c", "ce", "ces", "d", "dans", "de", "des", "du", "elle", "en", "et", "eux", "il",
    "ils", "j", "je", "l", "la", "le", "les", "leur", "lui", "m", "ma", "mais", "me", "meme", "mes", "moi", "mon",
    "n", "ne", "nos", "notre", "nous", "on", "ou", "par", "pas", "pour", "qu", "que", "qui", "s", "sa", "se", "ses",
    "son", "sur", "t", "ta", "te", "tes", "toi", "ton", "tu", "un", "une", "vos", "votre", "vous", "y",
    # être
    "ete", "etee", "etees", "etes", "etant", "etante", "etants", "etantes", "suis", "es", "est", "sommes", "sont",
    "serai", "seras", "sera", "serons", "serez", "seront", "serais", "serait", "serions", "seriez", "seraient",
    "etais", "etait", "etions", "etiez", "etaient", "fus", "fut", "fumes", "futes", "furent", "sois", "soit",
    "soyons", "soyez", "soient", "fusse", "fusses", "fussions", "fussiez", "fussent",
    # avoir
    "ayant", "ayante", "ayantes", "ayants", "eu", "eue", "eues", "eus", "ai", "as", "avons", "avez", "ont", "aurai",
    "auras", "aura", "aurons", "aurez", "auront", "aurais", "aurait", "aurions", "auriez", "auraient", "avais",
    "avait", "avions", "aviez", "avaient", "eut", "eumes", "eutes", "eurent", "aie", "aies", "ait", "ayons", "ayez",
    "aient", "eusse", "eusses", "eussions", "eussiez", "eussent",
}))

AUTOCOMPLETE_MIN_GRAM = 2
AUTOCOMPLETE_MAX_GRAM = 20

french_elision = token_filter("french_elision", "elision", articles_case=True, articles=list(FRENCH_ELISIONS))
french_stop = token_filter("french_stop", "stop", stopwords=list(FRENCH_STOP_WORDS))
french_stemmer = token_filter("french_stemmer", "stemmer", language="light_french")
autocomplete_edge_ngram = token_filter("autocomplete_edge_ngram", "edge_ngram",
                                       min_gram=AUTOCOMPLETE_MIN_GRAM, max_gram=AUTOCOMPLETE_MAX_GRAM)
# On the search side: a word typed longer than the longest indexed prefix still matches that prefix, and
# a one-letter word ("à" in "L'éthique à la cour"), never indexed, is dropped instead of failing the match.
autocomplete_truncate = token_filter("autocomplete_truncate", "truncate", length=AUTOCOMPLETE_MAX_GRAM)
autocomplete_min_length = token_filter("autocomplete_min_length", "length", min=AUTOCOMPLETE_MIN_GRAM)

# Elision first (it needs the apostrophe), lowercase, fold accents, drop (folded) stop words, then stem.
french_text = analyzer("french_text", tokenizer="standard",
                       filter=[french_elision, "lowercase", "asciifolding", french_stop, french_stemmer])
# Prefixes at index time only; the search side keeps the words typed whole (no n-grams), so "bord"
# matches the indexed prefix "bord" of "Bordelaise" and nothing shorter.
autocomplete_index = analyzer("autocomplete", tokenizer="standard",
                              filter=[french_elision, "lowercase", "asciifolding", autocomplete_edge_ngram])
autocomplete_search = analyzer("autocomplete_search", tokenizer="standard",
                               filter=[french_elision, "lowercase", "asciifolding", autocomplete_min_length,
                                       autocomplete_truncate])

# Facet name on the page → (indexed field, number of values returned).
FACETS = {"kind": ("kind", 10), "theme": ("themes", 20), "region": ("region", 20)}
SNIPPET_CHARS = 160
SOURCE_FIELDS = ["key", "kind", "title", "url", "date", "author"]
# Bulk requests: at most 200 actions and 5 MB each. Elastic advises bulk requests of a few megabytes
# and measuring from there; on the single 512 MB-heap node of docker-compose, 200 forum posts (a few KB
# each, well under 5 MB) are indexed in well under a second, so a chunk never comes near its timeout,
# while a chunk of long documents (guides, documents' text) is cut by bytes before it weighs on the heap.
BULK_CHUNK = 200
BULK_MAX_BYTES = 5 * 1024 * 1024
# Writes wait longer than searches (3 s): a busy node (merges, a GC pause) may take seconds to answer a
# chunk, and a task can afford to wait where a page cannot.
BULK_REQUEST_TIMEOUT = 30.0
REBUILD_REQUEST_TIMEOUT = 120.0
# The answers to a creation that lost the race with another worker's (Elasticsearch 8): the name is taken,
# or the alias would get a second write index (a 500, not a 400).
CREATION_RACE_ERRORS = {"resource_already_exists_exception", "invalid_alias_name_exception",
                        "illegal_state_exception"}


def index_mapping() -> Mapping:
    mapping = Mapping()
    # An unknown field is an error rather than a guessed mapping.
    mapping.meta("dynamic", "strict")
    mapping.field("key", Keyword())
    mapping.field("kind", Keyword())
    mapping.field("title", Text(analyzer=french_text, fields={
        "autocomplete": Text(analyzer=autocomplete_index, search_analyzer=autocomplete_search),
    }))
    # Offsets in the postings let the highlighter work on bodies of any length (no re-analysis, no
    # `max_analyzed_offset` error on a long document).
    mapping.field("body", Text(analyzer=french_text, index_options="offsets"))
    mapping.field("url", Keyword(index=False, doc_values=False))
    mapping.field("audience", Keyword())
    mapping.field("themes", Keyword())
    mapping.field("region", Keyword())
    mapping.field("date", Date())
    mapping.field("author", Text(analyzer=french_text, fields={"keyword": Keyword(ignore_above=256)}))
    return mapping


def index_definition(name: str) -> Index:
    """Settings, analysis and mappings of one concrete index (`Index.to_dict()` is the creation body)."""
    index = Index(name)
    # One shard is plenty for a federation's content; a replica only where a second node exists.
    index.settings(number_of_shards=1, auto_expand_replicas="0-1")
    index.mapping(index_mapping())
    return index


def document_source(document: SearchDocument) -> dict[str, Any]:
    source: dict[str, Any] = {
        "key": document.key,
        "kind": document.kind,
        "title": document.title,
        "body": document.body,
        "url": document.url,
        "audience": list(document.audience),
        "themes": list(document.themes),
        "author": document.author,
    }
    if document.region:
        source["region"] = document.region
    if document.date is not None:
        source["date"] = document.date.isoformat()
    return source


@dataclass(frozen=True)
class IndexDescription:
    """What `ElasticsearchStore.describe()` found: `count` is None when there is no index at all."""

    alias: str
    indices: list[str]
    count: int | None
    # A concrete index named like the alias (written to before any alias existed): `rebuild` replaces it.
    squatted: bool = False


class ElasticsearchStore(Store):
    """Search documents in Elasticsearch 8 under the alias `index`.

    Nothing is read from settings: the caller passes the URL (credentials may sit in it), the alias name,
    and optionally an API key and a CA bundle (search.stores.credentials). The client is built on first
    use, with a short timeout and no retry, so an unreachable cluster costs one quick failure; a
    configuration it cannot use (a CA file missing, contradictory credentials) is StoreUnavailable of kind
    "configuration" at that moment, so searches fall back instead of failing. Certificates are always
    verified. `url` holds no credentials and `display_url` masks the password: either may be shown.
    """

    name = "elasticsearch"

    def __init__(self, url: str, index: str = "passerelles", *, timeout: float = 3.0, api_key: str = "",
                 ca_certs: str = ""):
        self.connection = Connection.from_settings(url, api_key=api_key, ca_certs=ca_certs)
        self.url = self.connection.url
        self.display_url = self.connection.display_url
        self.alias = index
        self.timeout = timeout
        self._client: Elasticsearch | None = None
        self._alias_ready = False

    @property
    def client(self) -> Elasticsearch:
        if self._client is None:
            connection = self.connection
            problem = connection.problem()
            if problem:
                raise StoreUnavailable(problem, kind="configuration")
            options: dict[str, Any] = {}
            if connection.basic_auth is not None:
                options["basic_auth"] = connection.basic_auth
            if connection.api_key:
                options["api_key"] = connection.api_key
            if connection.ca_certs:
                options["ca_certs"] = connection.ca_certs
            try:
                self._client = Elasticsearch(connection.url, request_timeout=self.timeout, retry_on_timeout=False,
                                             max_retries=0, verify_certs=True, **options)
            except (ValueError, TypeError, OSError) as exc:  # an unreadable CA bundle, an option refused
                raise StoreUnavailable(f"Configuration Elasticsearch refusée par le client : {exc}",
                                       kind="configuration") from exc
        return self._client

    # Health and index life cycle

    def ping(self) -> bool:
        """True when the cluster answers; raises StoreUnavailable (with the reason) otherwise."""
        with self._reachable("ping"):
            # `client.ping()` swallows the reason into False; `info()` raises it.
            self.client.info()
        return True

    def has_index(self, *, cached: bool = True) -> bool:
        """True when the alias exists (remembered once seen, unless `cached` is False)."""
        if not self._alias_ready or not cached:
            with self._reachable("has_index"):
                self._alias_ready = bool(self.client.indices.exists_alias(name=self.alias))
        return self._alias_ready

    def ensure_index(self) -> None:
        """Create the first concrete index and point the alias to it, unless the alias exists.

        Only for an empty start (nothing to load): when content exists, a rebuild loads it instead."""
        if self.has_index():
            return
        with self._reachable("ensure_index"):
            index = index_definition(self._new_index_name())
            # A write index flag makes a concurrent creation by another worker fail (two write indexes
            # for one alias) instead of leaving an alias over two indexes.
            index.aliases(**{self.alias: {"is_write_index": True}})
            try:
                index.create(using=self.client)
            except ApiError as error:
                # Whatever the loser of a concurrent creation is told (CREATION_RACE_ERRORS), the alias
                # now exists: the write that asked goes on at once.
                if _error_type(error.body) not in CREATION_RACE_ERRORS or not self.client.indices.exists_alias(
                        name=self.alias):
                    if _error_type(error.body) == "invalid_alias_name_exception":
                        # A concrete index squats the alias's name: a rebuild removes it.
                        raise IndexMissing(f"Un index Elasticsearch porte le nom de l'alias {self.alias!r} : "
                                           f"{error}") from error
                    raise
        self._alias_ready = True

    def refresh(self) -> None:
        """Make the latest writes searchable now (tests and commands; the cluster does it every second)."""
        with self._reachable("refresh"):
            self.client.indices.refresh(index=self.alias)

    def count(self) -> int:
        with self._reachable("count"):
            try:
                return int(self.client.count(index=self.alias)["count"])
            except NotFoundError:
                return 0

    def describe(self) -> IndexDescription:
        """The alias, the concrete index(es) behind it and its document count (`search_index status`).

        Reads only; StoreUnavailable when the cluster cannot answer."""
        with self._reachable("describe"):
            indices = self._aliased_indices(self.client)
            squatted = not indices and bool(self.client.indices.exists(index=self.alias))
            count = int(self.client.count(index=self.alias)["count"]) if indices or squatted else None
        return IndexDescription(alias=self.alias, indices=indices, count=count, squatted=squatted)

    # Writes

    def index(self, documents: Iterable[SearchDocument]) -> int:
        """Write `documents` through the alias; IndexMissing when it does not exist (nothing is created)."""
        self._require_index()
        actions = (self._index_action(self.alias, document) for document in documents)
        with self._reachable("index"):
            # `require_alias`: a write never creates a stray concrete index named like the alias.
            return self._bulk(self._writer(), actions, require_alias=True)

    def delete(self, keys: Iterable[str], *, version: int = 0) -> int:
        """Delete `keys` through the alias, unless the cluster holds a newer version of them."""
        self._require_index()
        actions = ({"_op_type": "delete", "_index": self.alias, "_id": key, **_versioned(version)} for key in keys)
        with self._reachable("delete"):
            return self._bulk(self._writer(), actions, require_alias=True)

    def rebuild(self, documents: Iterable[SearchDocument], *, total: int | None = None,
                progress: Callable[[int], None] | None = None) -> int:
        """Load `documents` into a new concrete index, then move the alias to it and drop the old ones.

        Searches keep answering from the old index until the alias moves, in one atomic call. `progress`
        receives the number of documents of each bulk batch as it lands, like the database store's
        (`total` is for the caller's display: the store does not need it). Writes made through `index()`
        while a rebuild runs land in the old index only: they are in the new one if `documents` saw them.
        """
        client = self.client.options(request_timeout=REBUILD_REQUEST_TIMEOUT)
        concrete = self._new_index_name()
        with self._reachable("rebuild"):
            index = index_definition(concrete)
            # No periodic refresh while loading; one refresh before the alias moves.
            index.settings(refresh_interval="-1")
            index.create(using=client)
            try:
                actions = (self._index_action(concrete, document) for document in documents)
                written = self._bulk(client, actions, progress=progress)
                client.indices.put_settings(index=concrete, settings={"index": {"refresh_interval": None}})
                client.indices.refresh(index=concrete)
                previous = self._aliased_indices(client)
                alias_actions: list[dict[str, Any]] = [
                    {"remove": {"index": old, "alias": self.alias}} for old in previous
                ]
                if not previous and client.indices.exists(index=self.alias):
                    # A concrete index squats the alias name (written to before any alias existed).
                    alias_actions.append({"remove_index": {"index": self.alias}})
                alias_actions.append({"add": {"index": concrete, "alias": self.alias, "is_write_index": True}})
                client.indices.update_aliases(actions=alias_actions)
            except BaseException:
                self._drop_quietly(client, concrete)
                raise
            for old in previous:
                self._drop_quietly(client, old)  # searches already use the new index
        self._alias_ready = True
        return written

    # Reads

    def search_body(self, query: SearchQuery, *, any_word: bool = False) -> dict[str, Any]:
        """The request body of `search` (Search.to_dict()), built without a server.

        Every word is required, unless `any_word` (the relaxed second try when that found nothing).
        """
        # The text is sent as typed (the caller trims its length). multi_match analyses it as plain words:
        # quotes, AND/OR/NOT, parentheses, colons, wildcards, backslashes are never parsed as syntax
        # (unlike query_string), so no typed text can make a 400. All fields are text, so there is no type
        # coercion to fail either. cross_fields: each word may be in the title, the body or the author
        # (one analyser, so one group), rather than all the words inside a single field.
        matched = Q("multi_match", query=query.text, type="cross_fields", operator="or" if any_word else "and",
                    fields=["title^3", "body", "author"])
        # The audience filter sits in the query itself: it applies before counting, faceting, scoring and
        # paginating. Empty keys match nothing.
        search = Search().query(Q("bool", must=[matched], filter=[Q("terms", audience=sorted(query.audience))]))

        # The chosen kind/theme/region go into post_filter: hits and total honour them, while the facet
        # counts are computed on the text + audience only, so choosing a facet value never changes the
        # counts shown for the other values (nor for other facets).
        chosen = []
        if query.kind:
            chosen.append(Q("term", kind=query.kind))
        if query.theme:
            chosen.append(Q("term", themes=query.theme))
        if query.region:
            chosen.append(Q("term", region=query.region))
        if chosen:
            search = search.post_filter(Q("bool", filter=chosen))

        for facet, (field, size) in FACETS.items():
            search.aggs.bucket(facet, "terms", field=field, size=size)

        highlight_options = {"fragment_size": SNIPPET_CHARS, "number_of_fragments": 1,
                             "no_match_size": SNIPPET_CHARS}
        # encoder html: the fragment is escaped text, and the only markup is our <mark> tags.
        search = search.highlight("body", "title", **highlight_options).highlight_options(
            pre_tags=["<mark>"], post_tags=["</mark>"], encoder="html")
        search = search.sort("_score", {"date": {"order": "desc", "missing": "_last"}}, "key")
        # The body is left out of the hits: the highlighted fragment carries what the page shows.
        search = search.source(SOURCE_FIELDS).extra(track_total_hits=True, from_=query.offset,
                                                    size=query.per_page)
        return search.to_dict()

    def search(self, query: SearchQuery) -> SearchResults:
        """As the database store: every word required; when that finds nothing and several words were
        typed, any of them (`relaxed`). A blank text or no audience key finds nothing, without a request."""
        if not query.text.strip() or not query.audience:
            return SearchResults(store=self.name)
        results = self._search(query, any_word=False)
        if results.total == 0 and len(query.text.split()) > 1:
            results = self._search(query, any_word=True)
            results.relaxed = results.total > 0
        return results

    def _search(self, query: SearchQuery, *, any_word: bool) -> SearchResults:
        body = self.search_body(query, any_word=any_word)
        try:
            with self._reachable("search"):
                response = self.client.search(index=self.alias, body=body)
        except BadRequestError:
            # The body above cannot be made invalid by typed text; should the cluster refuse it anyway
            # (a limit we did not foresee), the page shows no result rather than an error.
            logger.exception("Elasticsearch a refusé une recherche (%r)", query.text[:80])
            return SearchResults(store=self.name)
        return self.results_from_response(response.body)

    def results_from_response(self, body: dict[str, Any]) -> SearchResults:
        hits = [self._hit(raw) for raw in body["hits"]["hits"]]
        aggregations = body.get("aggregations", {})
        facets = {
            facet: [FacetValue(value=bucket["key"], count=bucket["doc_count"])
                    for bucket in aggregations.get(facet, {}).get("buckets", [])]
            for facet in FACETS
        }
        return SearchResults(total=body["hits"]["total"]["value"], hits=hits, facets=facets, store=self.name)

    def autocomplete_body(self, text: str, audience: frozenset[str], kinds: tuple[str, ...],
                          limit: int = 8) -> dict[str, Any]:
        """The request body of `autocomplete`."""
        filters = [Q("terms", audience=sorted(audience)), Q("terms", kind=list(kinds))]
        # match (not query_string) on the prefix subfield: typed text is never parsed as syntax.
        matched = Q("match", **{"title.autocomplete": {"query": text, "operator": "and"}})
        search = Search().query(Q("bool", must=[matched], filter=filters))
        return search.source(["kind", "title", "url"]).extra(size=limit).to_dict()

    def autocomplete(self, text: str, audience: frozenset[str], kinds: tuple[str, ...],
                     limit: int = 8) -> list[Suggestion]:
        if not text.strip() or not audience or not kinds or limit <= 0:
            return []  # nothing could match: no request
        body = self.autocomplete_body(text, audience, kinds, limit)
        try:
            with self._reachable("autocomplete"):
                response = self.client.search(index=self.alias, body=body)
        except BadRequestError:
            logger.exception("Elasticsearch a refusé une autocomplétion (%r)", text[:80])
            return []
        return [
            Suggestion(kind=raw["_source"]["kind"], title=raw["_source"]["title"], url=raw["_source"]["url"])
            for raw in response.body["hits"]["hits"]
        ]

    # Internals

    @contextlib.contextmanager
    def _reachable(self, action: str) -> Iterator[None]:
        """Turn "the cluster cannot answer" into StoreUnavailable; let real request errors through."""
        try:
            yield
        except TlsError as exc:  # certificate not trusted (ELASTICSEARCH_CA_CERTS), TLS refused
            raise StoreUnavailable(f"Certificat d'Elasticsearch refusé ({action}) : {exc}", kind="tls") from exc
        except TransportError as exc:  # connection refused, timeout, unreadable answer
            raise StoreUnavailable(f"Elasticsearch injoignable ({action}) : {exc}") from exc
        except ApiError as exc:
            status = exc.meta.status
            if action in ("search", "autocomplete") and isinstance(exc, NotFoundError):
                # No index yet (never built, or deleted): the database store answers meanwhile.
                raise StoreUnavailable(f"Index Elasticsearch absent ({action}) : {exc}", kind="missing-index") from exc
            if isinstance(exc, UnsupportedProductError):
                raise StoreUnavailable(f"Ce serveur n'est pas Elasticsearch ({action}) : {exc}",
                                       kind="not-elasticsearch") from exc
            if status in (401, 403):  # wrong or missing credentials, or a user without the rights
                raise StoreUnavailable(f"Elasticsearch refuse l'accès ({action}, {status}) : {exc}",
                                       kind="authentication") from exc
            if status == 429 or status >= 500:  # overload, a node down
                raise StoreUnavailable(f"Elasticsearch indisponible ({action}) : {exc}", kind="overloaded") from exc
            raise

    def _require_index(self) -> None:
        if not self.has_index():
            raise IndexMissing(f"Alias Elasticsearch {self.alias!r} absent : rien n'est écrit sans reconstruction.")

    def _writer(self) -> Elasticsearch:
        """The client with the bulk timeout (BULK_REQUEST_TIMEOUT), not the short search one."""
        return self.client.options(request_timeout=BULK_REQUEST_TIMEOUT)

    def _new_index_name(self) -> str:
        return f"{self.alias}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"

    @staticmethod
    def _index_action(index: str, document: SearchDocument) -> dict[str, Any]:
        return {"_op_type": "index", "_index": index, "_id": document.key, **_versioned(document.version),
                "_source": document_source(document)}

    def _bulk(self, client: Elasticsearch, actions: Iterable[dict[str, Any]], *,
              progress: Callable[[int], None] | None = None, **params: Any) -> int:
        """Send `actions` in batches; returns how many succeeded. Per-document failures are sorted out:
        a missing document on delete is fine, an overloaded or vanished index is StoreUnavailable (the
        caller retries the whole batch: writes by key are idempotent), anything else is logged."""
        succeeded = unreported = 0
        for ok, item in streaming_bulk(client, actions, chunk_size=BULK_CHUNK, max_chunk_bytes=BULK_MAX_BYTES,
                                       raise_on_error=False, **params):
            unreported += 1
            if ok:
                succeeded += 1
            else:
                self._bulk_failure(item)
            if progress is not None and unreported == BULK_CHUNK:
                progress(unreported)
                unreported = 0
        if progress is not None and unreported:
            progress(unreported)
        return succeeded

    def _bulk_failure(self, item: dict[str, Any]) -> None:
        ((operation, info),) = item.items()
        status = info.get("status", 500)
        error = info.get("error")
        error_type = error.get("type", "") if isinstance(error, dict) else ""
        if operation == "delete" and status == 404 and error_type != "index_not_found_exception":
            return  # already absent
        if status == 409 and error_type == "version_conflict_engine_exception":
            return  # the cluster holds a newer state of this document (external versions): nothing to do
        if status == 429 or status >= 500:
            raise StoreUnavailable(f"Elasticsearch surchargé ({operation} {info.get('_id')}) : {error}")
        if error_type == "index_not_found_exception":
            # The alias disappeared since it was seen (data lost): the caller has it rebuilt.
            self._alias_ready = False
            raise IndexMissing(f"Alias Elasticsearch {self.alias!r} absent : {error}")
        logger.error("Elasticsearch a refusé %s %s : %s", operation, info.get("_id"), error)

    def _aliased_indices(self, client: Elasticsearch) -> list[str]:
        try:
            return sorted(client.indices.get_alias(name=self.alias).body)
        except NotFoundError:
            return []

    def _drop_quietly(self, client: Elasticsearch, index: str) -> None:
        """Remove an index left behind by a rebuild; a failure here is logged, never worth an error."""
        try:
            client.indices.delete(index=index, ignore_unavailable=True)
        except (TransportError, ApiError):
            logger.warning("Index Elasticsearch %s non supprimé après une reconstruction", index)

    @staticmethod
    def _hit(raw: dict[str, Any]) -> Hit:
        source = raw["_source"]
        highlight = raw.get("highlight", {})
        # no_match_size gives a body fragment even without a match; the title fragment covers documents
        # whose body is empty. Both are HTML-escaped by the engine (encoder html).
        fragments = highlight.get("body") or highlight.get("title") or [""]
        date = source.get("date")
        return Hit(
            key=source["key"],
            kind=source["kind"],
            title=source["title"],
            url=source["url"],
            snippet=fragments[0],
            date=datetime.fromisoformat(date) if date else None,
            author=source.get("author", ""),
        )


def _versioned(version: int) -> dict[str, Any]:
    """Bulk metadata of an external version: the cluster keeps the highest and refuses older ones (409)."""
    return {"version": version, "version_type": "external"} if version > 0 else {}


def _error_type(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("type", "") if isinstance(error, dict) else ""
