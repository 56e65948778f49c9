"""Elasticsearch heals itself through search.indexing, against a stateful loopback node (tests/search/mini_cluster.py):
a first index created on a fresh install even when another worker wins the creation, a missing index refilled by
one rebuild task while searches use the database, a 5 000-key backlog drained in bounded requests (also after
failures), and versions that keep a late task from overwriting a newer state."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from django_tasks import task_backends

from chat import rooms as chat_rooms
from chat.models import ChatMessage
from search import backend, indexing, sources
from search.documents import SearchQuery
from search.models import PendingIndexUpdate, SearchEntry
from search.stores.elastic import BULK_CHUNK, BULK_MAX_BYTES
from tests.isolation import own_cache_prefix
from tests.search.elastic_stub import StubCluster
from tests.search.helpers import add_topic
from tests.search.mini_cluster import MiniCluster

pytestmark = pytest.mark.django_db


@pytest.fixture
def cluster(settings) -> Iterator[MiniCluster]:
    own_cache_prefix(settings, "search-heal")  # the rebuild flags live in the cache
    stub = StubCluster()
    thread = threading.Thread(target=stub.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    settings.SEARCH_ELASTICSEARCH_URL = stub.url
    settings.SEARCH_ELASTICSEARCH_INDEX = "passerelles"
    backend._elastic.cache_clear()
    yield MiniCluster(stub)
    backend._elastic.cache_clear()
    stub.server.shutdown()
    stub.server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def queued_tasks(settings):
    """Tasks are kept, not run (as with a worker that has not picked them up yet)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    return task_backends["default"]


def heal_tasks(tasks) -> list:
    return [result for result in tasks.results if result.task.name == "heal_elasticsearch"]


def pending() -> set[str]:
    return set(PendingIndexUpdate.objects.values_list("key", flat=True))


def queue(keys: list[str], **fields) -> None:
    PendingIndexUpdate.objects.bulk_create([PendingIndexUpdate(key=key, attempts=1, **fields) for key in keys])


# Concurrent first creation


def test_on_a_fresh_install_a_lost_concurrent_creation_still_writes_the_first_batch_at_once(cluster, member):
    key = f"person:{member.pk}"
    cluster.creation_race = True  # another worker's creation lands between our check and ours: we get a 500

    indexing.apply([key])

    assert SearchEntry.objects.count() == 1  # the database had nothing else: an index from scratch is whole
    assert "PUT /passerelles-" in " ".join(cluster.stub.calls())
    assert set(cluster.documents()) == {key}
    assert not pending()


# A missing index while the database has content


def test_a_missing_index_with_content_asks_for_one_rebuild_and_searches_use_the_database_meanwhile(
        cluster, queued_tasks, forum_tree, member):
    forum = forum_tree["theme:financement"]
    first = add_topic(forum, member, "Convention glycine")
    backend.database_store().rebuild(sources.all_documents())  # the database store has everything
    second = add_topic(forum, member, "Avenant glycine")  # Elasticsearch is added now, its index not built

    indexing.apply([f"topic:{second.pk}"])
    indexing.apply([f"topic:{first.pk}"])  # a second writer finds it missing too

    assert len(heal_tasks(queued_tasks)) == 1
    assert not [call for call in cluster.stub.calls() if call.startswith("PUT /passerelles")]  # no empty index
    assert pending() == {f"topic:{first.pk}", f"topic:{second.pk}"}
    results = backend.search(SearchQuery(text="glycine", audience=frozenset({f"forum:{forum.pk}", "members"})))
    assert (results.store, results.total) == ("database-fallback", 2)

    assert indexing.heal_elasticsearch.call() == {"elasticsearch": SearchEntry.objects.count()}

    assert set(cluster.documents()) == set(SearchEntry.objects.values_list("key", flat=True))
    assert all(version > 0 for version in cluster.versions().values())  # the rebuild writes versions too
    assert not pending()
    assert cache.get(indexing.REBUILD_REQUESTED) is None
    third = add_topic(forum, member, "Troisième glycine")
    indexing.apply([f"topic:{third.pk}"])
    assert f"topic:{third.pk}" in cluster.documents()


def test_an_index_lost_with_its_volume_is_rebuilt_by_the_next_write(cluster, forum_tree, member):
    forum = forum_tree["theme:financement"]
    add_topic(forum, member, "Sujet d'avant la perte")
    indexing.rebuild()
    assert cluster.documents()
    cluster.lose_the_index()
    later = add_topic(forum, member, "Sujet d'après la perte")

    indexing.apply([f"topic:{later.pk}"])  # tasks run at once here: the rebuild too

    assert set(cluster.documents()) == set(SearchEntry.objects.values_list("key", flat=True))
    assert f"topic:{later.pk}" in cluster.documents()
    assert not pending()


# The backlog


def long_messages(director, member, count: int) -> list[str]:
    room = chat_rooms.open_direct_room(director, member)
    text = ("Compte rendu de la commission régionale sur les mesures judiciaires. " * 600)[:40_000]
    messages = ChatMessage.objects.bulk_create([
        ChatMessage(room=room, author=director, client_id=f"c-{number}", seq=number + 1, body=f"{number} {text}")
        for number in range(count)
    ])
    return [f"message:{message.pk}" for message in messages]


def test_a_backlog_of_5000_keys_drains_in_bounded_requests(cluster, director, member):
    written = long_messages(director, member, 150)  # 6 MB of documents: more than one request may carry
    gone = [f"message:{10_000_000 + number}" for number in range(5000 - len(written))]
    queue(written + gone)
    backend.elastic_store().ensure_index()

    assert indexing.retry_pending() == 0

    assert set(cluster.documents()) == set(written)
    assert sum(actions for actions, _size in cluster.bulks) == 5000
    # The bounds docs/architecture.md gives (search/stores/elastic.py): 200 actions, 5 MB.
    assert (BULK_CHUNK, BULK_MAX_BYTES) == (200, 5 * 1024 * 1024)
    assert max(actions for actions, _size in cluster.bulks) <= BULK_CHUNK
    assert max(size for _actions, size in cluster.bulks) <= BULK_MAX_BYTES
    assert len(cluster.bulks) >= 5000 // BULK_CHUNK + 1  # the long messages needed requests of their own


def test_an_indexing_run_replays_one_batch_of_due_keys_and_skips_those_backing_off(cluster):
    later = timezone.now() + timedelta(minutes=5)
    queue([f"message:{20_000_000 + number}" for number in range(10)], next_attempt_at=later)
    queue([f"message:{10_000_000 + number}" for number in range(1200)])
    backend.elastic_store().ensure_index()

    indexing.apply([])

    assert PendingIndexUpdate.objects.count() == 1210 - indexing.REPLAY_BATCH
    assert PendingIndexUpdate.objects.filter(next_attempt_at=later).count() == 10


def test_with_the_cluster_failing_then_recovering_the_backlog_still_drains(cluster, member):
    keys = [f"message:{10_000_000 + number}" for number in range(5000)]
    queue(keys)
    backend.elastic_store().ensure_index()
    cluster.failing_bulks = 1

    assert indexing.retry_pending() == 5000  # the first batch failed: the retry stops there, nothing lost
    failed = set(keys[:indexing.REPLAY_BATCH])
    backing_off = PendingIndexUpdate.objects.filter(attempts=2, next_attempt_at__gt=timezone.now())
    assert set(backing_off.values_list("key", flat=True)) == failed

    # A fresh write meanwhile goes through; its run replays the next due batch, not the failed one.
    indexing.apply([f"person:{member.pk}"])
    assert f"person:{member.pk}" in cluster.documents()
    assert failed <= pending()
    assert len(pending()) == 5000 - indexing.REPLAY_BATCH

    assert indexing.retry_pending() == 0


def test_a_key_queued_again_after_a_replay_read_it_stays_queued(cluster, member):
    key = f"person:{member.pk}"
    queue([key])
    backend.elastic_store().ensure_index()
    read_at = timezone.now()
    indexing._remember([key])  # another task fails on a newer state after our read

    indexing._forget([key], read_at)

    assert pending() == {key}


# Versions


def test_an_older_snapshot_applied_after_a_newer_one_leaves_the_newer_document(cluster, forum_tree, member):
    topic = add_topic(forum_tree["theme:financement"], member, "Titre ancien")
    key = f"topic:{topic.pk}"
    older = sources.documents_for([key])
    topic.subject = "Titre nouveau"
    topic.save()
    newer = sources.documents_for([key])
    store = backend.elastic_store()
    store.ensure_index()

    store.index(newer.documents)
    store.index(older.documents)  # a task that read earlier, applied late

    assert older.version < newer.version
    assert cluster.documents()[key]["title"] == "Titre nouveau"


def test_a_stale_deletion_after_a_recreation_leaves_the_document(cluster, forum_tree, member):
    topic = add_topic(forum_tree["theme:financement"], member, "Sujet retiré puis rétabli")
    key = f"topic:{topic.pk}"
    topic.approved = False
    topic.save()
    withdrawn = sources.documents_for([key])
    topic.approved = True
    topic.save()
    restored = sources.documents_for([key])
    store = backend.elastic_store()
    store.ensure_index()

    store.index(restored.documents)
    store.delete(withdrawn.gone, version=withdrawn.version)  # the withdrawal's task, applied late

    assert withdrawn.gone == [key]
    assert key in cluster.documents()


def test_every_document_of_a_snapshot_and_its_deletions_carry_the_time_taken_before_the_read(member):
    before = sources.read_version()
    snapshot = sources.documents_for([f"person:{member.pk}", "person:99999999"])
    after = sources.read_version()

    assert before < snapshot.version < after
    assert [document.version for document in snapshot.documents] == [snapshot.version]
    assert snapshot.gone == ["person:99999999"]
