"""The Elasticsearch store: its index definition and request bodies (no server needed), its behaviour when
the cluster cannot answer (a real closed port, and a loopback stub speaking the HTTP API for error
statuses and the rebuild protocol), and its search quality on a real cluster when ELASTICSEARCH_URL answers.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from search.documents import Kind, SearchDocument, SearchQuery, SearchResults
from search.stores.base import IndexMissing, StoreUnavailable
from search.stores.elastic import FRENCH_STOP_WORDS, ElasticsearchStore, document_source, index_definition
from tests.search.elastic_stub import StubCluster, bulk_answer, error_body, running
from tests.search.es_emulator import is_emulator

# Nothing listens on the discard port: the connection is refused at once.
CLOSED_URL = "http://127.0.0.1:9"
NASTY_TEXTS = [
    'AND OR NOT ( ) : * ~ ^ " \\ /',
    '"unclosed phrase',
    "title:(a OR b)^3 AND body:*~2 \\\\ / [1 TO 5] {x} && || !",
    "l'éthique — « citation » ’ <script>alert(1)</script>",
    ('financement AND "x OR (y:* ~ ^ \\ /' * 200)[:5000],
]


def a_query(text: str = "financement", audience: frozenset[str] = frozenset({"members"}), **kwargs: Any):
    return SearchQuery(text=text, audience=audience, **kwargs)


def a_document(key: str, title: str, body: str = "", *, kind: str = Kind.PAGE,
               audience: tuple[str, ...] = ("members",), **kwargs: Any) -> SearchDocument:
    return SearchDocument(key=key, kind=kind, title=title, body=body, url=f"/{key.replace(':', '/')}/",
                          audience=audience, **kwargs)


def analysis() -> dict[str, Any]:
    return index_definition("passerelles-test").to_dict()["settings"]["analysis"]


def properties() -> dict[str, Any]:
    return index_definition("passerelles-test").to_dict()["mappings"]["properties"]


def filter_types(analyser_name: str) -> list[str]:
    definitions = analysis()
    filters = definitions["analyzer"][analyser_name]["filter"]
    return [definitions["filter"][name]["type"] if name in definitions["filter"] else name for name in filters]


# The index definition


def test_the_french_analyser_elides_lowercases_folds_drops_stop_words_then_stems():
    definitions = analysis()

    assert definitions["analyzer"]["french_text"]["tokenizer"] == "standard"
    assert filter_types("french_text") == ["elision", "lowercase", "asciifolding", "stop", "stemmer"]


def test_elision_removes_every_french_article_whatever_its_case():
    elision = analysis()["filter"]["french_elision"]

    assert elision["articles_case"] is True
    assert set(elision["articles"]) == {"l", "m", "t", "qu", "n", "s", "j", "d", "c", "jusqu", "quoiqu", "lorsqu",
                                        "puisqu"}


def test_stop_words_are_french_and_folded_because_they_run_after_ascii_folding():
    stop_words = analysis()["filter"]["french_stop"]["stopwords"]

    assert {"le", "la", "les", "de", "des", "et", "ou", "a", "ete", "etes", "meme"} <= set(stop_words)
    assert all(word.isascii() for word in stop_words)  # "à" or "où" would never meet a folded token
    assert not {"financement", "ethique", "association", "justice"} & set(stop_words)
    assert tuple(stop_words) == FRENCH_STOP_WORDS


def test_the_stemmer_is_the_light_french_one():
    assert analysis()["filter"]["french_stemmer"] == {"type": "stemmer", "language": "light_french"}


def test_text_fields_use_the_french_analyser():
    fields = properties()

    for name in ("title", "body", "author"):
        assert fields[name]["type"] == "text"
        assert fields[name]["analyzer"] == "french_text"
    assert fields["author"]["fields"]["keyword"]["type"] == "keyword"
    assert fields["body"]["index_options"] == "offsets"


def test_the_title_autocomplete_subfield_makes_prefixes_at_index_time_only():
    subfield = properties()["title"]["fields"]["autocomplete"]
    definitions = analysis()

    assert subfield["analyzer"] == "autocomplete"
    assert subfield["search_analyzer"] == "autocomplete_search"
    assert filter_types("autocomplete") == ["elision", "lowercase", "asciifolding", "edge_ngram"]
    assert definitions["filter"]["autocomplete_edge_ngram"]["min_gram"] == 2
    assert definitions["filter"]["autocomplete_edge_ngram"]["max_gram"] == 20
    assert "edge_ngram" not in filter_types("autocomplete_search")
    assert filter_types("autocomplete_search")[:3] == ["elision", "lowercase", "asciifolding"]


def test_filter_fields_are_keywords_and_the_url_is_stored_only():
    fields = properties()

    for name in ("key", "kind", "audience", "themes", "region"):
        assert fields[name] == {"type": "keyword"}
    assert fields["url"] == {"type": "keyword", "index": False, "doc_values": False}
    assert fields["date"] == {"type": "date"}


def test_the_mapping_refuses_unknown_fields():
    assert index_definition("passerelles-test").to_dict()["mappings"]["dynamic"] == "strict"


def test_a_document_is_sent_with_every_mapped_field_and_its_key_as_id():
    document = a_document("post:42", "Titre", "Corps", kind=Kind.POST, audience=("forum:2", "members"),
                          themes=("ethique",), region="bretagne", author="Anne Martin",
                          date=datetime(2025, 3, 1, 9, 30, tzinfo=UTC))

    source = document_source(document)

    assert source == {"key": "post:42", "kind": "post", "title": "Titre", "body": "Corps", "url": "/post/42/",
                      "audience": ["forum:2", "members"], "themes": ["ethique"], "region": "bretagne",
                      "author": "Anne Martin", "date": "2025-03-01T09:30:00+00:00"}
    assert set(source) <= set(properties())


# The search request


def test_the_audience_filter_is_in_the_query_filter_with_exactly_the_callers_keys():
    body = ElasticsearchStore(CLOSED_URL).search_body(
        a_query(audience=frozenset({"members", "forum:12", "room:7"}), kind=Kind.POST))

    assert body["query"]["bool"]["filter"] == [{"terms": {"audience": ["forum:12", "members", "room:7"]}}]
    assert "should" not in body["query"]["bool"]
    assert "audience" not in json.dumps(body["query"]["bool"]["must"])
    assert "audience" not in json.dumps(body["post_filter"])


def test_no_audience_key_means_no_document():
    body = ElasticsearchStore(CLOSED_URL).search_body(a_query(audience=frozenset()))

    assert body["query"]["bool"]["filter"] == [{"terms": {"audience": []}}]


def test_chosen_kind_theme_and_region_go_to_the_post_filter_so_facet_counts_ignore_them():
    body = ElasticsearchStore(CLOSED_URL).search_body(a_query(kind=Kind.DOCUMENT, theme="ethique", region="bretagne"))

    assert body["post_filter"] == {"bool": {"filter": [{"term": {"kind": "document"}},
                                                       {"term": {"themes": "ethique"}},
                                                       {"term": {"region": "bretagne"}}]}}
    assert len(body["query"]["bool"]["filter"]) == 1


def test_without_a_chosen_facet_there_is_no_post_filter():
    assert "post_filter" not in ElasticsearchStore(CLOSED_URL).search_body(a_query())


def test_facets_are_terms_aggregations_on_kind_themes_and_region():
    aggregations = ElasticsearchStore(CLOSED_URL).search_body(a_query())["aggs"]

    assert aggregations == {"kind": {"terms": {"field": "kind", "size": 10}},
                            "theme": {"terms": {"field": "themes", "size": 20}},
                            "region": {"terms": {"field": "region", "size": 20}}}


def test_matches_are_marked_in_escaped_html_with_a_snippet_even_without_a_match():
    highlight = ElasticsearchStore(CLOSED_URL).search_body(a_query())["highlight"]

    assert highlight["pre_tags"] == ["<mark>"]
    assert highlight["post_tags"] == ["</mark>"]
    assert highlight["encoder"] == "html"
    assert set(highlight["fields"]) == {"body", "title"}
    assert highlight["fields"]["body"] == {"fragment_size": 160, "number_of_fragments": 1, "no_match_size": 160}


def test_the_page_sets_from_and_size_and_the_total_is_exact():
    body = ElasticsearchStore(CLOSED_URL).search_body(a_query(page=3, per_page=20))

    assert body["from"] == 40
    assert body["size"] == 20
    assert body["track_total_hits"] is True


def test_the_body_is_not_fetched_with_the_hits():
    assert "body" not in ElasticsearchStore(CLOSED_URL).search_body(a_query())["_source"]


@pytest.mark.parametrize("text", NASTY_TEXTS, ids=["operators", "quote", "field-syntax", "unicode-html", "5000"])
def test_any_typed_text_lands_unchanged_in_a_multi_match_and_is_never_parsed(text):
    body = ElasticsearchStore(CLOSED_URL).search_body(a_query(text=text))

    (matched,) = body["query"]["bool"]["must"]
    assert matched["multi_match"]["query"] == text
    assert matched["multi_match"]["operator"] == "and"
    assert matched["multi_match"]["fields"] == ["title^3", "body", "author"]
    assert "query_string" not in json.dumps(body)  # neither query_string nor simple_query_string


def test_the_relaxed_body_asks_for_any_word_with_the_same_filters():
    store = ElasticsearchStore(CLOSED_URL)
    strict = store.search_body(a_query("charte inexistante", kind=Kind.PAGE))
    relaxed = store.search_body(a_query("charte inexistante", kind=Kind.PAGE), any_word=True)

    assert relaxed["query"]["bool"]["must"][0]["multi_match"]["operator"] == "or"
    assert relaxed["query"]["bool"]["filter"] == strict["query"]["bool"]["filter"]
    assert relaxed["post_filter"] == strict["post_filter"]


@pytest.mark.parametrize("query", [a_query(text="   "), a_query(audience=frozenset())], ids=["blank", "no-key"])
def test_a_blank_text_or_no_audience_key_finds_nothing_without_asking_the_cluster(query):
    assert ElasticsearchStore(CLOSED_URL).search(query) == SearchResults(store="elasticsearch")


# The autocomplete request


def test_autocomplete_filters_on_audience_and_kinds():
    body = ElasticsearchStore(CLOSED_URL).autocomplete_body("bord", frozenset({"members", "group:presidents"}),
                                                            Kind.AUTOCOMPLETE, limit=5)

    assert body["query"]["bool"]["filter"] == [
        {"terms": {"audience": ["group:presidents", "members"]}},
        {"terms": {"kind": ["association", "person", "page"]}},
    ]
    assert body["size"] == 5


def test_autocomplete_matches_every_typed_word_on_the_prefix_subfield():
    body = ElasticsearchStore(CLOSED_URL).autocomplete_body('Asso "bord (', frozenset({"members"}), (Kind.ASSOCIATION,))

    assert body["query"]["bool"]["must"] == [
        {"match": {"title.autocomplete": {"query": 'Asso "bord (', "operator": "and"}}}]


@pytest.mark.parametrize(("text", "audience", "kinds"), [
    ("  ", frozenset({"members"}), Kind.AUTOCOMPLETE),
    ("bord", frozenset(), Kind.AUTOCOMPLETE),
    ("bord", frozenset({"members"}), ()),
], ids=["blank", "no-key", "no-kind"])
def test_autocomplete_that_cannot_match_asks_nothing(text, audience, kinds):
    assert ElasticsearchStore(CLOSED_URL).autocomplete(text, audience, kinds) == []


# An unreachable cluster


def test_the_client_is_created_only_when_first_needed():
    store = ElasticsearchStore(CLOSED_URL, index="anything")

    assert store._client is None
    assert store.alias == "anything"


@pytest.mark.parametrize("operation", [
    pytest.param(lambda store: store.search(a_query()), id="search"),
    pytest.param(lambda store: store.autocomplete("bord", frozenset({"members"}), Kind.AUTOCOMPLETE),
                 id="autocomplete"),
    pytest.param(lambda store: store.index([a_document("page:1", "Titre")]), id="index"),
    pytest.param(lambda store: store.delete(["page:1"]), id="delete"),
    pytest.param(lambda store: store.rebuild([a_document("page:1", "Titre")]), id="rebuild"),
    pytest.param(lambda store: store.count(), id="count"),
    pytest.param(lambda store: store.ping(), id="ping"),
])
def test_a_refused_connection_is_store_unavailable_and_fails_fast(operation):
    store = ElasticsearchStore(CLOSED_URL)
    started = time.monotonic()

    with pytest.raises(StoreUnavailable):
        operation(store)

    assert time.monotonic() - started < 5


# A stub cluster on loopback (tests/search/elastic_stub.py): real client, real HTTP, canned answers


@pytest.fixture
def stub() -> Iterator[StubCluster]:
    with running(StubCluster()) as cluster:
        yield cluster


SEARCH_RESPONSE = {
    "took": 3, "timed_out": False,
    "hits": {"total": {"value": 2, "relation": "eq"}, "max_score": None, "hits": [
        {"_index": "passerelles-1", "_id": "page:1", "_score": 2.0,
         "_source": {"key": "page:1", "kind": "page", "title": "Guide des financements", "url": "/guide/",
                     "date": "2025-03-01T09:30:00+00:00", "author": "Anne Martin"},
         "highlight": {"body": ["Les <mark>financements</mark> &lt;publics&gt;"],
                       "title": ["Guide des <mark>financements</mark>"]}},
        {"_index": "passerelles-1", "_id": "document:2", "_score": 1.0,
         "_source": {"key": "document:2", "kind": "document", "title": "Financement", "url": "/doc/2/"},
         "highlight": {"title": ["<mark>Financement</mark>"]}},
    ]},
    "aggregations": {
        "kind": {"buckets": [{"key": "page", "doc_count": 4}, {"key": "document", "doc_count": 1}]},
        "theme": {"buckets": [{"key": "financement", "doc_count": 3}]},
        "region": {"buckets": []},
    },
}


def test_a_search_answer_becomes_hits_snippets_and_facets(stub):
    stub.route("POST", "/passerelles/_search", body=SEARCH_RESPONSE)

    results = ElasticsearchStore(stub.url).search(a_query())

    assert results.store == "elasticsearch"
    assert results.total == 2
    first, second = results.hits
    assert first.key == "page:1"
    assert first.snippet == "Les <mark>financements</mark> &lt;publics&gt;"
    assert first.date == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    assert first.author == "Anne Martin"
    assert second.snippet == "<mark>Financement</mark>"  # empty body: the title fragment
    assert second.date is None
    assert [(value.value, value.count) for value in results.facets["kind"]] == [("page", 4), ("document", 1)]
    assert results.facets["region"] == []


def test_the_search_sends_the_body_it_shows(stub):
    stub.route("POST", "/passerelles/_search", body=SEARCH_RESPONSE)
    store = ElasticsearchStore(stub.url)
    query = a_query(kind=Kind.PAGE, page=2)

    store.search(query)

    assert stub.json_of("POST", "/passerelles/_search") == store.search_body(query)


def test_when_no_document_has_every_word_any_of_them_will_do_and_the_results_say_so(stub):
    def answer(raw: bytes) -> dict[str, Any]:
        operator = json.loads(raw)["query"]["bool"]["must"][0]["multi_match"]["operator"]
        return SEARCH_RESPONSE if operator == "or" else {**SEARCH_RESPONSE, "hits": {
            "total": {"value": 0, "relation": "eq"}, "hits": []}}

    stub.route("POST", "/passerelles/_search", body=answer)

    results = ElasticsearchStore(stub.url).search(a_query("financements inexistants"))

    assert results.relaxed is True
    assert results.total == 2
    assert len(stub.requests) == 2


def test_a_single_word_is_never_relaxed(stub):
    stub.route("POST", "/passerelles/_search", body={**SEARCH_RESPONSE, "hits": {
        "total": {"value": 0, "relation": "eq"}, "hits": []}})

    results = ElasticsearchStore(stub.url).search(a_query("inexistant"))

    assert (results.total, results.relaxed, len(stub.requests)) == (0, False, 1)


def test_a_refused_search_request_gives_no_result_instead_of_an_error(stub):
    stub.route("POST", "/passerelles/_search", 400, error_body(400, "search_phase_execution_exception"))

    assert ElasticsearchStore(stub.url).search(a_query()) == SearchResults(store="elasticsearch")


@pytest.mark.parametrize(("status", "error_type"), [(503, "cluster_block_exception"), (429, "es_rejected_execution"),
                                                    (404, "index_not_found_exception"), (401, "security_exception")])
def test_an_overloaded_failing_or_missing_index_is_store_unavailable(stub, status, error_type):
    stub.route("POST", "/passerelles/_search", status, error_body(status, error_type))

    with pytest.raises(StoreUnavailable):
        ElasticsearchStore(stub.url).search(a_query())


def test_a_server_that_is_not_elasticsearch_is_store_unavailable(stub):
    stub.says_it_is_elasticsearch = False
    stub.route("GET", "/", body={"hello": "world"})

    with pytest.raises(StoreUnavailable):
        ElasticsearchStore(stub.url).ping()


def test_autocomplete_answers_suggestions(stub):
    stub.route("POST", "/passerelles/_search", body={"hits": {"total": {"value": 1, "relation": "eq"}, "hits": [
        {"_id": "association:3", "_source": {"kind": "association", "title": "Association Bordelaise",
                                             "url": "/annuaire/3/"}}]}})

    suggestions = ElasticsearchStore(stub.url).autocomplete("bord", frozenset({"members"}), Kind.AUTOCOMPLETE)

    assert [(s.kind, s.title, s.url) for s in suggestions] == [
        ("association", "Association Bordelaise", "/annuaire/3/")]


def test_a_write_to_a_missing_alias_creates_nothing_and_says_the_index_is_missing(stub):
    stub.route("HEAD", "/_alias/passerelles", 404)

    with pytest.raises(IndexMissing):
        ElasticsearchStore(stub.url).index([a_document("page:1", "Titre")])
    with pytest.raises(IndexMissing):
        ElasticsearchStore(stub.url).delete(["page:1"])

    # No empty index that searches would answer from instead of falling back to the database.
    assert stub.calls() == ["HEAD /_alias/passerelles", "HEAD /_alias/passerelles"]


def test_ensure_index_creates_the_first_index_and_its_alias_then_writes_go_through(stub):
    stub.route("HEAD", "/_alias/passerelles", 404)
    stub.route("PUT", r"/passerelles-\d+", body={"acknowledged": True, "index": "passerelles-1"})
    stub.route("PUT", "/_bulk", body=bulk_answer())
    store = ElasticsearchStore(stub.url)

    store.ensure_index()
    written = store.index([a_document("page:1", "Titre", version=7), a_document("page:2", "Autre", version=7)])

    assert written == 2
    method, path, raw = stub.requests[1]
    created = json.loads(raw)
    assert created["aliases"] == {"passerelles": {"is_write_index": True}}
    assert "french_text" in created["settings"]["analysis"]["analyzer"]
    bulk_lines = [json.loads(line) for line in stub.requests[2][2].decode().splitlines()]
    assert bulk_lines[0] == {"index": {"_index": "passerelles", "_id": "page:1", "version": 7,
                                       "version_type": "external"}}


@pytest.mark.parametrize(("status", "error_type"), [
    (500, "illegal_state_exception"),  # "alias [passerelles] has more than one write index"
    (400, "resource_already_exists_exception"),
    (400, "invalid_alias_name_exception"),
])
def test_losing_a_concurrent_first_creation_still_writes_the_batch_at_once(stub, status, error_type):
    # Another worker creates the index between our check and our creation: the cluster refuses ours.
    stub.route("HEAD", "/_alias/passerelles", 404, times=1)
    stub.route("HEAD", "/_alias/passerelles", 200)
    stub.route("PUT", r"/passerelles-\d+", status, error_body(status, error_type))
    stub.route("PUT", "/_bulk", body=bulk_answer())
    store = ElasticsearchStore(stub.url)

    store.ensure_index()
    written = store.index([a_document("page:1", "Titre")])

    assert written == 1
    assert [call.split(" ")[0] for call in stub.calls()] == ["HEAD", "PUT", "HEAD", "PUT"]
    assert stub.calls()[-1] == "PUT /_bulk"


def test_a_creation_failing_for_another_reason_is_not_taken_for_a_race(stub):
    stub.route("HEAD", "/_alias/passerelles", 404)
    stub.route("PUT", r"/passerelles-\d+", 500, error_body(500, "illegal_state_exception"))

    with pytest.raises(StoreUnavailable) as raised:
        ElasticsearchStore(stub.url).ensure_index()

    assert not isinstance(raised.value, IndexMissing)


def test_an_index_squatting_the_alias_name_is_index_missing_so_a_rebuild_removes_it(stub):
    stub.route("HEAD", "/_alias/passerelles", 404)
    stub.route("PUT", r"/passerelles-\d+", 400, error_body(400, "invalid_alias_name_exception"))

    with pytest.raises(IndexMissing):
        ElasticsearchStore(stub.url).ensure_index()


def test_an_alias_lost_since_it_was_seen_is_index_missing(stub):
    stub.route("HEAD", "/_alias/passerelles", 200)
    stub.route("PUT", "/_bulk", body=lambda raw: {"took": 1, "errors": True, "items": [{"index": {
        "_index": "passerelles", "_id": "page:1", "status": 404,
        "error": {"type": "index_not_found_exception", "reason": "no such index [passerelles]"}}}]})

    with pytest.raises(IndexMissing):
        ElasticsearchStore(stub.url).index([a_document("page:1", "Titre")])


def test_bulk_writes_wait_longer_than_searches(stub):
    def slow_bulk(raw: bytes) -> dict[str, Any]:
        time.sleep(0.6)
        return bulk_answer()(raw)

    def slow_search(raw: bytes) -> dict[str, Any]:
        time.sleep(0.6)
        return SEARCH_RESPONSE

    stub.route("HEAD", "/_alias/passerelles", 200)
    stub.route("PUT", "/_bulk", body=slow_bulk)
    stub.route("POST", "/passerelles/_search", body=slow_search)
    store = ElasticsearchStore(stub.url, timeout=0.3)

    assert store.index([a_document("page:1", "Titre")]) == 1
    with pytest.raises(StoreUnavailable):
        store.search(a_query())


def test_deletions_carry_the_version_of_the_read_that_found_the_document_gone(stub):
    stub.route("HEAD", "/_alias/passerelles", 200)
    stub.route("PUT", "/_bulk", body=bulk_answer([200]))

    ElasticsearchStore(stub.url).delete(["page:1"], version=1234)

    (line,) = [json.loads(line) for line in stub.requests[1][2].decode().splitlines()]
    assert line == {"delete": {"_index": "passerelles", "_id": "page:1", "version": 1234, "version_type": "external"}}


def test_a_version_conflict_means_a_newer_state_is_in_and_is_not_an_error(stub, caplog):
    stub.route("HEAD", "/_alias/passerelles", 200)
    stub.route("PUT", "/_bulk", body=lambda raw: {"took": 1, "errors": True, "items": [{"index": {
        "_index": "passerelles-1", "_id": "page:1", "status": 409,
        "error": {"type": "version_conflict_engine_exception", "reason": "current version [9] is higher"}}}]})

    written = ElasticsearchStore(stub.url).index([a_document("page:1", "Titre", version=3)])

    assert written == 0
    assert not [record for record in caplog.records if record.levelname in ("ERROR", "WARNING")]


def test_index_writes_require_the_alias_so_no_stray_index_is_created(stub):
    stub.route("HEAD", "/_alias/passerelles", 200)
    stub.route("PUT", "/_bulk", body=bulk_answer())
    store = ElasticsearchStore(stub.url)

    store.index([a_document("page:1", "Titre")])
    store.index([a_document("page:2", "Titre")])

    assert stub.calls() == ["HEAD /_alias/passerelles", "PUT /_bulk", "PUT /_bulk"]  # alias checked once


def test_deleting_unknown_keys_is_fine_and_counts_what_was_deleted(stub):
    stub.route("HEAD", "/_alias/passerelles", 200)
    stub.route("PUT", "/_bulk", body=bulk_answer([200, 404]))

    assert ElasticsearchStore(stub.url).delete(["page:1", "page:unknown"]) == 1


def test_a_rejected_bulk_item_is_store_unavailable_so_the_task_retries(stub):
    stub.route("HEAD", "/_alias/passerelles", 200)
    stub.route("PUT", "/_bulk", body=bulk_answer([201, 429]))

    with pytest.raises(StoreUnavailable, match="surchargé"):
        ElasticsearchStore(stub.url).index([a_document("page:1", "Titre"), a_document("page:2", "Titre")])


def test_a_document_refused_by_the_mapping_is_logged_and_not_counted(stub, caplog):
    stub.route("HEAD", "/_alias/passerelles", 200)
    stub.route("PUT", "/_bulk", body=bulk_answer([201, 400]))

    written = ElasticsearchStore(stub.url).index([a_document("page:1", "Titre"), a_document("page:2", "Titre")])

    assert written == 1
    assert "page:2" in caplog.text


def rebuild_routes(stub: StubCluster, *, bulk_status: int = 200) -> None:
    stub.route("PUT", r"/passerelles-\d+", body={"acknowledged": True})
    if bulk_status == 200:
        stub.route("PUT", "/_bulk", body=bulk_answer())
    else:
        stub.route("PUT", "/_bulk", bulk_status, error_body(bulk_status, "unavailable_shards_exception"))
    stub.route("PUT", r"/passerelles-\d+/_settings", body={"acknowledged": True})
    stub.route("POST", r"/passerelles-\d+/_refresh", body={"_shards": {"total": 1, "successful": 1, "failed": 0}})
    stub.route("GET", "/_alias/passerelles", body={"passerelles-old": {"aliases": {"passerelles": {}}}})
    stub.route("POST", "/_aliases", body={"acknowledged": True})
    stub.route("DELETE", r"/passerelles-[\w-]+", body={"acknowledged": True})


def test_rebuild_loads_a_new_index_then_moves_the_alias_in_one_call_then_drops_the_old(stub):
    rebuild_routes(stub)
    progress: list[int] = []
    documents = [a_document(f"page:{number}", f"Page {number}") for number in range(3)]

    written = ElasticsearchStore(stub.url).rebuild(iter(documents), total=3, progress=progress.append)

    assert written == 3
    assert progress == [3]
    new_index = stub.requests[0][1].lstrip("/")
    assert json.loads(stub.requests[0][2])["settings"]["refresh_interval"] == "-1"
    assert "aliases" not in json.loads(stub.requests[0][2])  # not searchable before it is complete
    assert stub.calls()[1:] == ["PUT /_bulk", f"PUT /{new_index}/_settings", f"POST /{new_index}/_refresh",
                                "GET /_alias/passerelles", "POST /_aliases", "DELETE /passerelles-old"]
    assert stub.json_of("POST", "/_aliases") == {"actions": [
        {"remove": {"index": "passerelles-old", "alias": "passerelles"}},
        {"add": {"index": new_index, "alias": "passerelles", "is_write_index": True}},
    ]}


def test_rebuild_reports_progress_after_each_batch(stub):
    rebuild_routes(stub)
    progress: list[int] = []
    documents = (a_document(f"page:{number}", "Page") for number in range(1203))

    ElasticsearchStore(stub.url).rebuild(documents, progress=progress.append)

    assert progress == [200] * 6 + [3]  # each batch as it lands, like the database store


def test_a_failed_rebuild_drops_its_new_index_and_leaves_the_alias_alone(stub):
    rebuild_routes(stub, bulk_status=503)

    with pytest.raises(StoreUnavailable):
        ElasticsearchStore(stub.url).rebuild([a_document("page:1", "Titre")])

    new_index = stub.requests[0][1].lstrip("/")
    assert stub.calls() == [f"PUT /{new_index}", "PUT /_bulk", f"DELETE /{new_index}"]
    assert "POST /_aliases" not in stub.calls()


# A real cluster (only when ELASTICSEARCH_URL answers): a real Elasticsearch (`docker compose up elasticsearch`),
# or the emulator of `.ci/run` (tests/search/es_emulator.py), where the marks `emulator_differs` are strict xfails.

NO_STEMMER = ("son stemmer light_french réduit chaque mot au terme vide (tout document répond à toute "
              "recherche) ; le proxy de tests/search/es_emulator.py le retire de l'index, donc un pluriel "
              "n'y trouve plus le singulier")
NO_ELISION = ("il accepte le filtre elision mais ne l'applique pas : « l'éthique » et « d'éthique » sont "
              "indexés « l'ethique » et « d'ethique », que « ethique » ne trouve pas")

FRENCH_DOCUMENTS = [
    a_document("page:1", "Financement des associations", "Le financement public des mesures judiciaires.",
               themes=("financement",), region="nouvelle-aquitaine", date=datetime(2025, 1, 10, tzinfo=UTC)),
    a_document("document:2", "Charte", "Une charte d'éthique pour les intervenants <script>x</script>.",
               kind=Kind.DOCUMENT, themes=("ethique",), date=datetime(2025, 2, 1, tzinfo=UTC)),
    a_document("page:3", "Éthique et déontologie", "Le secret professionnel.", themes=("ethique",)),
    a_document("association:4", "Association Bordelaise de Contrôle Judiciaire", "Gironde.",
               kind=Kind.ASSOCIATION, region="nouvelle-aquitaine"),
    a_document("post:5", "Financement du forum privé", "Un financement réservé au forum des directeurs.",
               kind=Kind.POST, audience=("forum:2",), themes=("financement", "secret"), region="bretagne"),
]


def live_url() -> str:
    url = os.environ.get("ELASTICSEARCH_URL", "")
    if not url:
        pytest.skip("ELASTICSEARCH_URL non défini : tests Elasticsearch réels ignorés")
    return url


def drop_indexes(store: ElasticsearchStore) -> None:
    for name in store.client.indices.get(index=f"{store.alias}-*").body:
        store.client.indices.delete(index=name, ignore_unavailable=True)


@pytest.fixture
def live_store(request) -> Iterator[ElasticsearchStore]:
    store = ElasticsearchStore(live_url(), index=f"test-passerelles-{uuid.uuid4().hex[:10]}", timeout=10)
    try:
        store.ping()
    except StoreUnavailable as exc:
        pytest.skip(f"ELASTICSEARCH_URL ne répond pas : tests Elasticsearch réels ignorés ({exc})")
    # A known difference of the emulator (`.ci/run`) is a strict xfail there, and an ordinary test against a
    # real Elasticsearch: the server says which it is in its info answer.
    emulated = is_emulator(store.client.info().body)
    for mark in request.node.iter_markers("emulator_differs"):
        request.applymarker(pytest.mark.xfail(emulated, reason=f"osmem-server : {mark.args[0]}", strict=True))
    yield store
    drop_indexes(store)


@pytest.fixture
def loaded_store(live_store) -> ElasticsearchStore:
    live_store.rebuild(FRENCH_DOCUMENTS)
    return live_store


def keys(results: SearchResults) -> set[str]:
    return {hit.key for hit in results.hits}


def facet(results: SearchResults, name: str) -> dict[str, int]:
    return {value.value: value.count for value in results.facets[name]}


@pytest.mark.live_es
class TestLiveElasticsearch:
    @pytest.mark.emulator_differs(NO_STEMMER)
    def test_a_plural_finds_the_singular(self, loaded_store):
        assert "page:1" in keys(loaded_store.search(a_query("financements")))

    def test_a_word_without_accent_finds_it_with_accent(self, loaded_store):
        assert "page:3" in keys(loaded_store.search(a_query("ethique")))

    @pytest.mark.emulator_differs(NO_ELISION)
    def test_an_elided_article_is_ignored(self, loaded_store):
        assert {"document:2", "page:3"} <= keys(loaded_store.search(a_query("l'éthique")))
        assert {"document:2", "page:3"} <= keys(loaded_store.search(a_query("L’ÉTHIQUE")))

    def test_every_word_is_required_across_title_and_body(self, loaded_store):
        results = loaded_store.search(a_query("charte intervenants"))

        assert (keys(results), results.relaxed) == ({"document:2"}, False)

    def test_with_no_document_having_every_word_any_word_will_do(self, loaded_store):
        results = loaded_store.search(a_query("charte inexistante"))

        assert (keys(results), results.relaxed) == ({"document:2"}, True)

    @pytest.mark.parametrize("text", NASTY_TEXTS[:4])
    def test_nasty_text_is_never_refused(self, loaded_store, text, caplog):
        loaded_store.search(a_query(text))

        assert "refusé" not in caplog.text  # a 400 would be logged (and answered with no result)

    def test_a_document_outside_the_audience_is_never_returned_counted_or_faceted(self, loaded_store):
        results = loaded_store.search(a_query("financement"))

        assert keys(results) == {"page:1"}
        assert results.total == 1
        assert "post" not in facet(results, "kind")
        assert facet(results, "theme") == {"financement": 1}
        assert "bretagne" not in facet(results, "region")

    def test_the_same_search_with_the_forum_key_sees_the_forum_post(self, loaded_store):
        results = loaded_store.search(a_query("financement", audience=frozenset({"members", "forum:2"})))

        assert keys(results) == {"page:1", "post:5"}
        assert facet(results, "theme") == {"financement": 2, "secret": 1}

    @pytest.mark.emulator_differs(f"{NO_ELISION} (le corps de document:2 dit « d'éthique »)")
    def test_a_chosen_kind_narrows_hits_but_not_the_kind_facet(self, loaded_store):
        results = loaded_store.search(a_query("ethique", kind=Kind.DOCUMENT))

        assert keys(results) == {"document:2"}
        assert results.total == 1
        assert facet(results, "kind") == {"document": 1, "page": 1}

    def test_a_chosen_kind_narrows_hits_but_no_facet(self, loaded_store):
        # As above with words that need no elision, so that the emulator checks the post_filter too.
        results = loaded_store.search(a_query("financement", audience=frozenset({"members", "forum:2"}),
                                              kind=Kind.POST))

        assert keys(results) == {"post:5"}
        assert results.total == 1
        assert facet(results, "kind") == {"page": 1, "post": 1}
        assert facet(results, "theme") == {"financement": 2, "secret": 1}

    def test_snippets_mark_matches_and_escape_the_rest(self, loaded_store):
        (hit,) = loaded_store.search(a_query("intervenants")).hits

        assert "<mark>intervenants</mark>" in hit.snippet
        assert "&lt;script&gt;" in hit.snippet
        assert "<script>" not in hit.snippet

    def test_autocomplete_finds_a_title_from_a_word_prefix(self, loaded_store):
        suggestions = loaded_store.autocomplete("bord", frozenset({"members"}), Kind.AUTOCOMPLETE)

        assert [s.title for s in suggestions] == ["Association Bordelaise de Contrôle Judiciaire"]
        assert loaded_store.autocomplete("bord", frozenset({"forum:2"}), Kind.AUTOCOMPLETE) == []
        assert loaded_store.autocomplete("bord", frozenset({"members"}), (Kind.PAGE,)) == []

    def test_index_and_delete_by_key(self, loaded_store):
        loaded_store.index([a_document("page:9", "Médiation pénale", "Nouvelle fiche.")])
        loaded_store.refresh()
        assert keys(loaded_store.search(a_query("mediation"))) == {"page:9"}

        assert loaded_store.delete(["page:9", "page:unknown"]) == 1
        loaded_store.refresh()
        assert keys(loaded_store.search(a_query("mediation"))) == set()
        assert loaded_store.count() == len(FRENCH_DOCUMENTS)

    def test_an_older_version_neither_overwrites_nor_deletes_a_newer_document(self, loaded_store, caplog):
        loaded_store.index([a_document("page:30", "Version nouvelle", version=2_000)])
        loaded_store.index([a_document("page:30", "Version ancienne", version=1_000)])
        assert loaded_store.delete(["page:30"], version=1_500) == 0
        loaded_store.refresh()

        (hit,) = loaded_store.search(a_query("version")).hits
        assert hit.title == "Version nouvelle"
        assert "refusé" not in caplog.text  # a 409 is no error

    def test_a_missing_alias_is_index_missing_until_ensure_index_creates_it(self, live_store):
        with pytest.raises(IndexMissing):
            live_store.index([a_document("page:31", "Premier")])

        live_store.ensure_index()
        assert live_store.index([a_document("page:31", "Premier")]) == 1

    def test_two_workers_creating_the_first_index_at_once_both_write_at_once(self, live_store):
        # Two processes' stores, same alias, no index yet: one creation wins, the other is refused (500
        # illegal_state_exception on Elasticsearch 8: two write indexes) and must still write in the same call.
        stores = [live_store, ElasticsearchStore(live_url(), index=live_store.alias, timeout=10)]
        start = threading.Barrier(len(stores))
        written: list[int] = []
        failures: list[BaseException] = []

        def first_write(store: ElasticsearchStore, number: int) -> None:
            try:
                start.wait()
                store.ensure_index()
                written.append(store.index([a_document(f"page:4{number}", "Course à la création")]))
            except BaseException as exc:  # reported below, in the test's thread
                failures.append(exc)

        threads = [threading.Thread(target=first_write, args=(store, n)) for n, store in enumerate(stores)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert failures == []
        assert written == [1, 1]
        assert len(live_store.client.indices.get_alias(name=live_store.alias).body) == 1
        live_store.refresh()
        assert live_store.count() == 2

    def test_searches_keep_answering_during_a_rebuild_then_see_the_new_index(self, loaded_store):
        client = loaded_store.client
        (old_index,) = client.indices.get_alias(name=loaded_store.alias).body
        seen_during_rebuild: list[set[str]] = []

        def new_documents():
            yield a_document("page:20", "Médiation pénale", "Nouvelle fiche.")
            seen_during_rebuild.append(keys(loaded_store.search(a_query("financement"))))
            seen_during_rebuild.append(keys(loaded_store.search(a_query("mediation"))))

        assert loaded_store.rebuild(new_documents()) == 1

        assert seen_during_rebuild == [{"page:1"}, set()]
        assert keys(loaded_store.search(a_query("mediation"))) == {"page:20"}
        assert keys(loaded_store.search(a_query("financement"))) == set()
        assert old_index not in client.indices.get(index=f"{loaded_store.alias}-*").body
        assert loaded_store.count() == 1
