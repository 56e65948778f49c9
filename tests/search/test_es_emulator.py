"""The proxy in front of the emulator of `.ci/run` (tests/search/es_emulator.py), against a loopback upstream
that answers as osmem-server does: 406 to Elasticsearch 8's compatibility media types. No osmem needed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from elasticsearch import ApiError, Elasticsearch, UnsupportedProductError

from search.stores.elastic import index_definition
from tests.search.es_emulator import EMULATOR_HEADER, is_emulator, running_proxy, without_broken_stemmers

OSMEM_INFO = {"cluster_name": "osmem", "version": {"number": "3.8.0", "distribution": "opensearch",
                                                   "build_hash": "osmem"}}
ELASTICSEARCH_INFO = {"cluster_name": "docker-cluster", "tagline": "You Know, for Search",
                      "version": {"number": "8.19.3", "build_flavor": "default", "build_hash": "0c781091a2f5"}}


class Upstream(ThreadingHTTPServer):
    """Answers JSON like osmem (406 to a media type other than plain JSON), without X-Elastic-Product."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _UpstreamHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []


class _UpstreamHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Upstream

    def _answer(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.requests.append((self.command, self.path, headers, raw))
        media_types = [self.headers.get(name, "") for name in ("Accept", "Content-Type")]
        if any("vnd.elasticsearch" in value for value in media_types):
            status, body = 406, {"error": f"Content-Type header [{media_types[1]}] is not supported", "status": 406}
        else:
            status, body = 200, OSMEM_INFO if self.path == "/" else {"acknowledged": True}
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_the_elasticsearch_8_client_is_refused_by_the_upstream_without_the_proxy(upstream):
    with pytest.raises((ApiError, UnsupportedProductError)):
        Elasticsearch(upstream.url).indices.create(index="x", settings={})


def test_through_the_proxy_the_client_speaks_plain_json_upstream_and_gets_an_elasticsearch_answer(upstream):
    with running_proxy(upstream.url) as proxy:
        client = Elasticsearch(proxy.url)
        info = client.info()
        created = client.indices.create(index="x", settings={"number_of_shards": 1})

    assert created.body == {"acknowledged": True}
    for _, _, headers, _ in upstream.requests:
        assert headers["accept"] == "application/json"
    assert upstream.requests[-1][2]["content-type"] == "application/json"
    assert info.meta.headers["X-Elastic-Product"] == "Elasticsearch"
    assert info.meta.headers["Content-Type"] == "application/vnd.elasticsearch+json;compatible-with=8"
    assert info.meta.headers[EMULATOR_HEADER] == "osmem-server"


def test_bulk_bodies_go_upstream_as_plain_ndjson(upstream):
    with running_proxy(upstream.url) as proxy:
        Elasticsearch(proxy.url).bulk(operations=[{"delete": {"_index": "x", "_id": "1"}}])

    ((method, path, headers, raw),) = upstream.requests
    assert (method, path, headers["content-type"]) == ("PUT", "/_bulk", "application/x-ndjson")
    assert json.loads(raw) == {"delete": {"_index": "x", "_id": "1"}}


def test_an_index_creation_loses_only_the_light_french_stemmer(upstream):
    definition = index_definition("passerelles-test").to_dict()
    with running_proxy(upstream.url) as proxy:
        Elasticsearch(proxy.url).indices.create(index="passerelles-test", **definition)

    (*_, raw) = upstream.requests[-1]
    sent = json.loads(raw)
    expected = index_definition("passerelles-test").to_dict()
    del expected["settings"]["analysis"]["filter"]["french_stemmer"]
    expected["settings"]["analysis"]["analyzer"]["french_text"]["filter"].remove("french_stemmer")
    assert sent == expected
    assert sent["settings"]["analysis"]["filter"]["french_elision"]["type"] == "elision"


def test_other_bodies_are_forwarded_as_they_are(upstream):
    body = {"index": {"refresh_interval": None}, "analysis": {"filter": {"s": {"type": "stemmer",
                                                                                "language": "light_french"}}}}
    with running_proxy(upstream.url) as proxy:
        Elasticsearch(proxy.url).indices.put_settings(index="x", settings=body)

    (*_, raw) = upstream.requests[-1]
    assert json.loads(raw) == body
    assert without_broken_stemmers(b"not json") == b"not json"


def test_the_emulator_is_recognised_by_its_info_answer_and_elasticsearch_is_not():
    assert is_emulator(OSMEM_INFO)
    assert not is_emulator(ELASTICSEARCH_INFO)
