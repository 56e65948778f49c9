"""Elasticsearch away, then back: searches fall back to the database store, and every index update it
missed is kept (PendingIndexUpdate) and reaches it once it answers again, none lost, none stale.

Already covered in tests/search/test_indexing.py, with a closed port: the page says that the fallback
answers (test_searches_fall_back_to_the_database_store_and_the_page_says_so), updates wait in the queue
(test_index_updates_wait_in_the_queue_while_elasticsearch_is_down) and the retry command keeps what is
still pending (test_the_retry_command_keeps_what_is_still_pending). Here, a stand-in node
(tests/faults/fake_elasticsearch.py) fails in three ways and then comes back, and the tests look at
what it holds in the end.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.core.management import call_command

from forum import services as forum_services
from forum.models import ForumSpace
from search import backend, indexing
from search.models import PendingIndexUpdate
from tests.faults.fake_elasticsearch import FakeElasticsearch
from tests.isolation import own_cache_prefix
from tests.search.helpers import add_topic, client_for, search_json, search_page, titles

pytestmark = [pytest.mark.faults, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _own_cache(settings):
    # The rebuild flag lives in the cache: the flag this test sets must not reach other tests or runs.
    own_cache_prefix(settings, "faults-es")


@pytest.fixture
def node(settings, tmp_path) -> Iterator[FakeElasticsearch]:
    settings.MEDIA_ROOT = tmp_path / "media"
    fake = FakeElasticsearch(alias="passerelles")
    fake.start()
    settings.SEARCH_ELASTICSEARCH_URL = fake.url
    settings.SEARCH_ELASTICSEARCH_INDEX = "passerelles"
    backend._elastic.cache_clear()
    yield fake
    fake.stop()
    backend._elastic.cache_clear()


@pytest.fixture
def forum(working_group):
    forum_services.ensure_forum_tree()
    return ForumSpace.objects.select_related("forum").get(key="theme:financement").forum


def committed(capture, make):
    """Run `make()` and its after-commit callbacks (indexing), as a real request would."""
    with capture(execute=True):
        return make()


@pytest.mark.parametrize("failure", ["port-ferme", "503", "connexion-coupee"])
def test_every_update_missed_while_elasticsearch_was_away_reaches_it_once_back(
        node, forum, member, django_capture_on_commit_callbacks, failure):
    capture = django_capture_on_commit_callbacks
    kept = committed(capture, lambda: add_topic(forum, member, "Convention pluriannuelle érable"))
    renamed = committed(capture, lambda: add_topic(forum, member, "Ancien titre platane"))
    removed = committed(capture, lambda: add_topic(forum, member, "Sujet supprimé bouleau"))
    assert {f"topic:{t.pk}" for t in (kept, renamed, removed)} <= set(node.titles())

    # Elasticsearch goes away.
    if failure == "port-ferme":
        node.stop()
    else:
        node.mode = "unavailable" if failure == "503" else "drop"
    added = committed(capture, lambda: add_topic(forum, member, "Nouveau sujet châtaignier"))

    def rename():
        renamed.subject = "Nouveau titre platane"
        renamed.save()
        first_post = renamed.first_post
        first_post.subject = renamed.subject
        first_post.save()

    committed(capture, rename)
    removed_key = f"topic:{removed.pk}"
    committed(capture, removed.delete)

    # Searches are served by the database store, and say so; nothing was dropped, everything waits.
    client = client_for(member)
    assert titles(search_json(client, "châtaignier")) == {"Nouveau sujet châtaignier"}
    assert "momentanément indisponible" in search_page(client, "platane")
    waiting = set(PendingIndexUpdate.objects.values_list("key", flat=True))
    assert {f"topic:{added.pk}", f"topic:{renamed.pk}", removed_key} <= waiting
    # Still away: a retry keeps everything and counts the attempt.
    call_command("search_index", "retry")
    assert set(PendingIndexUpdate.objects.values_list("key", flat=True)) >= waiting

    # Back (same address): the next retry sends the latest state of each key, then empties the queue.
    if failure == "port-ferme":
        node.start()
    node.mode = "up"
    call_command("search_index", "retry")

    assert not PendingIndexUpdate.objects.exists()
    held = node.titles()
    assert held[f"topic:{added.pk}"] == "Nouveau sujet châtaignier"
    assert held[f"topic:{renamed.pk}"] == "Nouveau titre platane"
    assert held[f"topic:{kept.pk}"] == "Convention pluriannuelle érable"
    assert removed_key not in held


def test_the_next_indexing_run_also_sends_what_was_waiting(node, forum, member, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    node.stop()
    missed = committed(capture, lambda: add_topic(forum, member, "Sujet manqué tilleul"))
    assert PendingIndexUpdate.objects.filter(key=f"topic:{missed.pk}").exists()

    node.start()
    later = committed(capture, lambda: add_topic(forum, member, "Sujet suivant marronnier"))

    assert not PendingIndexUpdate.objects.exists()
    assert {f"topic:{missed.pk}", f"topic:{later.pk}"} <= set(node.titles())


def test_changes_made_during_a_rebuild_stay_queued_until_the_new_index_is_in_place(
        node, forum, member, django_capture_on_commit_callbacks):
    """A rebuild loads a new index from a snapshot (search_index rebuild, in another process): a change
    made meanwhile may be missing from that snapshot, so it must wait in the queue until the alias has
    moved, even though it was written to the current index at once."""
    capture = django_capture_on_commit_callbacks
    cache.set(indexing.REBUILDING, True, timeout=60)
    try:
        during = committed(capture, lambda: add_topic(forum, member, "Sujet écrit pendant la reconstruction"))
        key = f"topic:{during.pk}"
        # Searchable in the current index already…
        assert key in node.titles()
        # …and still queued, even after another indexing run: the new index does not have it yet.
        committed(capture, lambda: add_topic(forum, member, "Autre sujet pendant la reconstruction"))
        assert PendingIndexUpdate.objects.filter(key=key).exists()
    finally:
        cache.delete(indexing.REBUILDING)

    # The alias has moved: rebuild() ends with apply([]), which sends the queue and empties it.
    indexing.apply([])
    assert not PendingIndexUpdate.objects.exists()
