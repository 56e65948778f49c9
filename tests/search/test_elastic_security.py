"""Elasticsearch secured like a real deployment (issue 17, item 4): credentials in the URL or an API key, a CA
bundle, never a secret in a message; a refused authentication falls back, is logged loudly once and shown to
federal staff (not to members). `search_index status` (item 5) against a loopback stub cluster and without
Elasticsearch.
"""

from __future__ import annotations

import base64
import html
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from search import audiences, backend, indexing
from search.documents import SearchQuery
from search.models import PendingIndexUpdate, SearchEntry
from search.stores.base import StoreUnavailable
from search.stores.credentials import Connection, masked_url, settings_problem
from search.stores.elastic import ElasticsearchStore
from tests.search.elastic_stub import StubCluster, error_body
from tests.search.helpers import add_topic, client_for, search_page
from tests.search.test_elastic_store import CLOSED_URL, a_query

PASSWORD = "s3cret-P@ss"
ENCODED_PASSWORD = "s3cret-P%40ss"
API_KEY = base64.b64encode(b"key-id:key-secret-value").decode()
AUTH_REFUSED = error_body(401, "security_exception")


@pytest.fixture
def cluster() -> Iterator[StubCluster]:
    stub = StubCluster()
    thread = threading.Thread(target=stub.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield stub
    stub.server.shutdown()
    stub.server.server_close()
    thread.join(timeout=5)


def with_credentials(url: str, user: str = "elastic", password: str = ENCODED_PASSWORD) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{user}:{password}@{rest}"


def use_elasticsearch(settings, url: str, *, api_key: str = "", ca_certs: str = "") -> None:
    settings.SEARCH_ELASTICSEARCH_URL = url
    settings.SEARCH_ELASTICSEARCH_API_KEY = api_key
    settings.SEARCH_ELASTICSEARCH_CA_CERTS = ca_certs
    backend._elastic.cache_clear()


# --- The connection settings -------------------------------------------------------------------------


@pytest.mark.parametrize("url,shown", [
    ("https://elastic:s3cret@es.example.org:9200", "https://elastic:***@es.example.org:9200"),
    ("http://app:p%40ss@elasticsearch:9200/", "http://app:***@elasticsearch:9200/"),
    ("http://:only-a-password@[::1]:9200", "http://***@[::1]:9200"),
    ("http://elasticsearch:9200", "http://elasticsearch:9200"),
])
def test_the_url_is_shown_with_its_password_masked(url, shown):
    assert masked_url(url) == shown


def test_credentials_leave_the_url_and_stay_out_of_the_repr():
    connection = Connection.from_settings(with_credentials("https://es.example.org:9200"), api_key="")

    assert connection.url == "https://es.example.org:9200"
    assert connection.basic_auth == ("elastic", PASSWORD)  # percent-decoded
    assert PASSWORD not in repr(connection) and ENCODED_PASSWORD not in repr(connection)
    assert API_KEY not in repr(Connection.from_settings("https://es.example.org:9200", api_key=API_KEY))


@pytest.mark.parametrize("url,api_key,ca_certs,fragment", [
    (with_credentials("https://es:9200"), API_KEY, "", "ne vont pas ensemble"),
    ("https://elastic@es:9200", "", "", "identifiant sans mot de passe"),
    ("http://es:9200", "", "{ca}", "ne sert qu'avec une adresse https://"),
    ("https://es:9200", "", "/nulle/part/ca.crt", "introuvable"),
    ("", API_KEY, "", "sans ELASTICSEARCH_URL"),
    ("elasticsearch:9200", "", "", "http:// ou https://"),
], ids=["key-and-password", "user-without-password", "ca-over-http", "ca-missing", "key-without-url", "no-scheme"])
def test_contradictory_or_incomplete_settings_are_refused_in_french(tmp_path, url, api_key, ca_certs, fragment):
    ca = tmp_path / "ca.crt"
    ca.write_text("pas un vrai certificat")

    problem = settings_problem(url, api_key=api_key, ca_certs=ca_certs.format(ca=ca))

    assert fragment in problem
    assert PASSWORD not in problem and ENCODED_PASSWORD not in problem and API_KEY not in problem


def test_coherent_settings_pass(tmp_path):
    ca = tmp_path / "ca.crt"
    ca.write_text("pas un vrai certificat")

    assert settings_problem("") == ""
    assert settings_problem("http://elasticsearch:9200") == ""
    assert settings_problem(with_credentials("http://elasticsearch:9200")) == ""
    assert settings_problem("https://es:9200", api_key=API_KEY, ca_certs=str(ca)) == ""


# --- What the client sends -----------------------------------------------------------------------------


def test_credentials_in_the_url_are_sent_as_basic_auth_and_never_kept_in_the_url(cluster):
    cluster.route("GET", "/", body={"version": {"number": "8.19.0"}})
    store = ElasticsearchStore(with_credentials(cluster.url))

    assert store.ping()

    expected = base64.b64encode(f"elastic:{PASSWORD}".encode()).decode()
    assert cluster.headers[-1]["authorization"] == f"Basic {expected}"
    assert store.url == cluster.url and PASSWORD not in store.display_url and "elastic:***@" in store.display_url


def test_an_api_key_is_sent_as_such(cluster):
    cluster.route("GET", "/", body={"version": {"number": "8.19.0"}})

    ElasticsearchStore(cluster.url, api_key=API_KEY).ping()

    assert cluster.headers[-1]["authorization"] == f"ApiKey {API_KEY}"


def test_a_missing_ca_file_is_a_configuration_failure_at_use_not_a_crash():
    store = ElasticsearchStore("https://es.invalid:9200", ca_certs="/nulle/part/ca.crt")

    with pytest.raises(StoreUnavailable) as caught:
        store.search(a_query())

    assert caught.value.kind == "configuration" and "ELASTICSEARCH_CA_CERTS" in str(caught.value)


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_authentication_is_its_own_kind_of_unavailability(cluster, status):
    cluster.route("POST", "/passerelles/_search", status, error_body(status, "security_exception"))

    with pytest.raises(StoreUnavailable) as caught:
        ElasticsearchStore(with_credentials(cluster.url)).search(a_query())

    assert caught.value.kind == "authentication"
    assert PASSWORD not in str(caught.value) and ENCODED_PASSWORD not in str(caught.value)


# --- A refused authentication: fallback, loud log, staff warning -----------------------------------------


@pytest.fixture
def refusing_cluster(cluster, settings, forum_tree, member):
    """Elasticsearch configured with a wrong password: it answers 401 to everything."""
    add_topic(forum_tree["theme:financement"], member, "Convention de partenariat tilleul")
    indexing.rebuild()  # the database store only: Elasticsearch is not configured yet
    for method in ("GET", "POST", "PUT", "HEAD", "DELETE"):
        cluster.route(method, "/.*", 401, AUTH_REFUSED)
    use_elasticsearch(settings, with_credentials(cluster.url, password="mauvais-mot-de-passe"))
    return cluster


def test_a_refused_authentication_falls_back_and_is_logged_as_an_error_once(refusing_cluster, member, caplog):
    query = SearchQuery(text="tilleul", audience=audiences.keys_for(member))

    with caplog.at_level(logging.WARNING, logger="search"):
        first = backend.search(query)
        second = backend.search(query)

    assert first.store == second.store == "database-fallback"
    assert first.total == 1
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1, [record.getMessage() for record in caplog.records]
    assert "refuse l'authentification" in errors[0].getMessage()
    assert "mauvais-mot-de-passe" not in caplog.text
    failure = backend.last_failure()
    assert failure is not None and failure.kind == "authentication" and failure.recent


def test_a_failed_index_update_is_recorded_too(refusing_cluster, forum_tree, member,
                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        topic = add_topic(forum_tree["theme:financement"], member, "Appel à projets magnolia")

    assert PendingIndexUpdate.objects.filter(key=f"topic:{topic.pk}").exists()
    assert backend.last_failure().kind == "authentication"


def test_staff_see_why_the_search_answers_from_the_database(refusing_cluster, staff):
    page = search_page(client_for(staff), "tilleul")

    assert "La recherche répond depuis la base de données : Elasticsearch refuse l'authentification" in page
    assert "mauvais-mot-de-passe" not in page


def test_a_member_sees_only_that_the_search_is_degraded(refusing_cluster, member):
    page = search_page(client_for(member), "tilleul")

    assert "momentanément indisponible" in page
    assert "refuse l'authentification" not in page and "search_index status" not in page


def test_the_wagtail_admin_home_warns_staff(refusing_cluster, staff):
    backend.search(SearchQuery(text="tilleul", audience=frozenset({"members"})))
    client = client_for(staff)

    response = client.get("/cms-admin/")

    assert response.status_code == 200
    assert "Recherche : Elasticsearch en échec" in html.unescape(response.content.decode())
    assert "Elasticsearch refuse l'authentification" in html.unescape(response.content.decode())


def test_an_old_failure_is_no_longer_shown_as_the_current_state(refusing_cluster, staff, settings):
    backend.search(SearchQuery(text="tilleul", audience=frozenset({"members"})))
    assert backend.staff_warning(staff) is not None
    stored = backend.cache.get(backend.LAST_FAILURE)
    stored["at"] = (timezone.now() - backend.RECENT_FAILURE - timedelta(minutes=1)).isoformat()
    backend.cache.set(backend.LAST_FAILURE, stored)

    assert backend.staff_warning(staff) is None
    assert backend.last_failure().kind == "authentication"  # `search_index status` still reports it


def test_staff_read_when_the_failure_happened_in_words():
    now = timezone.now()

    assert backend.Failure(kind="authentication", message="", at=now).ago == "à l'instant"
    seven_minutes_ago = backend.Failure(kind="authentication", message="", at=now - timedelta(minutes=7))
    assert seven_minutes_ago.ago == "il y a 7\xa0minutes"


# --- search_index status -----------------------------------------------------------------------------------


def status(capsys) -> tuple[str, CommandError | None]:
    try:
        call_command("search_index", "status")
    except CommandError as error:
        return capsys.readouterr().out, error
    return capsys.readouterr().out, None


def describe_routes(cluster: StubCluster, *, count: int | None, indices: tuple[str, ...] = ("passerelles-1",)) -> None:
    if indices:
        cluster.route("GET", "/_alias/passerelles", body={name: {"aliases": {"passerelles": {}}} for name in indices})
    else:
        cluster.route("GET", "/_alias/passerelles", 404, {"error": "alias [passerelles] missing", "status": 404})
        cluster.route("HEAD", "/passerelles", 404, {})
    for method in ("GET", "POST"):
        cluster.route(method, "/passerelles/_count", body={"count": count, "_shards": {"total": 1}})


@pytest.fixture
def indexed(forum_tree, member) -> int:
    for subject in ("Convention tilleul", "Appel magnolia", "Guide érable"):
        add_topic(forum_tree["theme:financement"], member, subject)
    indexing.rebuild()
    return SearchEntry.objects.count()


def test_status_without_elasticsearch_says_the_database_answers(indexed, capsys):
    out, error = status(capsys)

    assert error is None
    assert "Moteur de recherche : base de données (ELASTICSEARCH_URL n'est pas défini)." in out
    assert f"Documents indexés (table SearchEntry) : {indexed}." in out
    assert "Mises à jour en attente pour Elasticsearch : 0." in out
    assert "Dernière erreur d'Elasticsearch : aucune enregistrée." in out


def test_status_of_an_index_in_step(indexed, cluster, settings, capsys):
    describe_routes(cluster, count=indexed)
    use_elasticsearch(settings, with_credentials(cluster.url))

    out, error = status(capsys)

    assert error is None, out
    assert f"Moteur de recherche : Elasticsearch ({with_credentials(cluster.url, password='***')})" in out
    assert PASSWORD not in out and ENCODED_PASSWORD not in out
    assert "Alias : passerelles → passerelles-1." in out
    assert f"Documents dans Elasticsearch : {indexed} ; attendus d'après la base de données" in out
    assert "Index de recherche en ordre." in out


def test_status_shows_the_queue_and_its_oldest_change_and_accepts_what_the_queue_will_bring(
        indexed, cluster, settings, capsys):
    PendingIndexUpdate.objects.create(key="topic:1")
    PendingIndexUpdate.objects.create(key="topic:2")
    PendingIndexUpdate.objects.filter(key="topic:1").update(created_at=timezone.now() - timedelta(hours=2))
    describe_routes(cluster, count=indexed - 2)
    use_elasticsearch(settings, cluster.url)

    out, error = status(capsys)

    assert error is None, out
    assert "Mises à jour en attente pour Elasticsearch : 2, la plus ancienne depuis 2\xa0heures" in out
    assert "Il manque 2 documents, que les mises à jour en attente apporteront" in out


def test_status_fails_when_the_index_is_behind_beyond_the_queue(indexed, cluster, settings, capsys):
    PendingIndexUpdate.objects.create(key="topic:1")
    describe_routes(cluster, count=indexed - 2)
    use_elasticsearch(settings, cluster.url)

    out, error = status(capsys)

    assert error is not None
    assert "Il manque 2 documents à Elasticsearch, plus que les 1 mises à jour en attente" in str(error)
    assert "search_index rebuild" in str(error)


def test_status_fails_when_the_index_is_missing(indexed, cluster, settings, capsys):
    describe_routes(cluster, count=None, indices=())
    use_elasticsearch(settings, cluster.url)

    out, error = status(capsys)

    assert error is not None and "est absent" in str(error)
    assert "Alias : passerelles n'existe pas." in out


def test_status_fails_when_elasticsearch_is_unreachable_and_records_it(indexed, settings, capsys):
    use_elasticsearch(settings, CLOSED_URL)

    out, error = status(capsys)

    assert error is not None and "Elasticsearch ne répond pas" in str(error)
    assert backend.last_failure().kind == "unreachable"


def test_status_reports_a_refused_authentication_without_the_password(refusing_cluster, capsys):
    backend.search(SearchQuery(text="tilleul", audience=frozenset({"members"})))

    out, error = status(capsys)

    assert error is not None and "Elasticsearch refuse l'authentification" in str(error)
    assert "Dernière erreur d'Elasticsearch : à l'instant" in out and "refuse l'authentification" in out
    assert "mauvais-mot-de-passe" not in out + str(error)
