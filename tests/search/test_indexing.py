"""Indexing follows the content: after commit, through the task, for every change that matters; the
rebuild command; and Elasticsearch being down costs neither searches nor updates."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from wagtail.models import Page

from search import backend, indexing
from search.models import PendingIndexUpdate, SearchEntry
from tests.factories.cms import add_guide

from .helpers import add_reply, add_topic, client_for, search_json, search_page, titles

pytestmark = pytest.mark.django_db

CLOSED_URL = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused at once


def test_a_new_topic_is_searchable_once_committed(forum_tree, member, django_capture_on_commit_callbacks):
    client = client_for(member)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        topic = add_topic(forum_tree["theme:financement"], member, "Subvention mandragore de la région")
        # Nothing is indexed before the commit.
        assert not SearchEntry.objects.filter(key=f"topic:{topic.pk}").exists()
    assert callbacks, "indexing must wait for the commit"
    for callback in callbacks:
        callback()
    assert titles(search_json(client, "mandragore")) == {"Subvention mandragore de la région"}


def test_a_new_reply_is_searchable_and_deleting_it_removes_it(forum_tree, member, director,
                                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        topic = add_topic(forum_tree["theme:financement"], member, "Question sur les conventions")
    with django_capture_on_commit_callbacks(execute=True):
        reply = add_reply(topic, director, "Voir la convention tamaris signée en 2023.")
    client = client_for(member)
    found = search_json(client, "tamaris")
    assert [r["title"] for r in found["results"]] == ["Re : Question sur les conventions"]
    assert found["results"][0]["url"].endswith(f"?post={reply.pk}#{reply.pk}")

    with django_capture_on_commit_callbacks(execute=True):
        reply.delete()
    assert search_json(client, "tamaris")["total"] == 0
    assert not SearchEntry.objects.filter(key=f"post:{reply.pk}").exists()
    # The topic itself is still there.
    assert search_json(client, "conventions")["total"] == 1


def test_editing_a_post_reindexes_its_new_text(forum_tree, member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        topic = add_topic(forum_tree["theme:financement"], member, "Budget annuel", "Ancien texte : aubépine.")
    post = topic.first_post
    with django_capture_on_commit_callbacks(execute=True):
        post.content = "Nouveau texte : bruyère."
        post.save()
    client = client_for(member)
    assert search_json(client, "aubépine")["total"] == 0
    assert titles(search_json(client, "bruyère")) == {"Budget annuel"}


def test_nothing_is_indexed_for_a_transaction_that_rolls_back(forum_tree, member, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                add_topic(forum_tree["theme:financement"], member, "Brouillon chèvrefeuille")
                raise RuntimeError("abandon")
        except RuntimeError:
            pass
    assert search_json(client_for(member), "chèvrefeuille")["total"] == 0


def test_a_topic_moved_to_a_private_forum_vanishes_for_those_who_cannot_read_it(
        forum_tree, member, director, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        topic = add_topic(forum_tree["theme:financement"], director, "Projet de fusion mimosa")
        add_reply(topic, director, "Détails du projet mimosa.")
    member_client, director_client = client_for(member), client_for(director)
    assert search_json(member_client, "mimosa")["total"] == 2

    with django_capture_on_commit_callbacks(execute=True):
        topic.forum = forum_tree["direction"]
        topic.save()
    gone = search_json(member_client, "mimosa")
    assert (gone["total"], gone["results"], gone["facets"]["kind"]) == (0, [], [])
    page = search_page(member_client, "mimosa")
    assert "Projet de fusion" not in page and "Détails du projet" not in page
    # The topic and its reply went with it: the directors still find both.
    assert search_json(director_client, "mimosa")["total"] == 2


def test_unpublishing_a_page_removes_it_from_search(member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        guide = add_guide("Guide de la verveine")
    client = client_for(member)
    assert titles(search_json(client, "verveine")) == {"Guide de la verveine"}
    with django_capture_on_commit_callbacks(execute=True):
        Page.objects.get(pk=guide.pk).specific.unpublish()
    assert search_json(client, "verveine")["total"] == 0


def test_a_new_chat_message_is_searchable_by_the_room_members(director, member, president,
                                                             django_capture_on_commit_callbacks):
    from chat import messages as chat_messages
    from chat import rooms as chat_rooms

    room = chat_rooms.open_direct_room(director, member)
    with django_capture_on_commit_callbacks(execute=True):
        chat_messages.post_message(director, room.pk, "c-1", "On en parle jeudi : hortensia.",
                                   enforce_rate_limit=False)
    assert search_json(client_for(member), "hortensia")["total"] == 1
    assert search_json(client_for(president), "hortensia")["total"] == 0


def test_the_rebuild_command_rebuilds_the_index_and_prints_a_count(forum_tree, member, capsys):
    add_topic(forum_tree["theme:financement"], member, "Sujet réindexé coquelicot")  # never indexed (no commit)
    SearchEntry.objects.create(key="topic:999999", kind="topic", title="Fantôme coquelicot", url="/x/",
                               audience="members")
    call_command("search_index", "rebuild", "--no-progress")
    out = capsys.readouterr().out
    count = SearchEntry.objects.count()
    assert count > 0
    assert f"database : {count} documents indexés." in out
    assert titles(search_json(client_for(member), "coquelicot")) == {"Sujet réindexé coquelicot"}


def test_the_rebuild_command_shows_its_progress(member, capsys):
    call_command("search_index", "rebuild")
    out = capsys.readouterr().out
    assert "database :\n" in out
    assert re.search(r"\d+/\d+ documents \(\d+%, \d+ documents/s\)", out)
    assert f"database : {SearchEntry.objects.count()} documents indexés." in out


def test_the_status_command_prints_the_database_count(member, capsys):
    indexing.rebuild()
    call_command("search_index", "status")
    assert f"Documents indexés (table SearchEntry) : {SearchEntry.objects.count()}." in capsys.readouterr().out


# --- Elasticsearch unreachable ----------------------------------------------------------------------


@pytest.fixture
def elasticsearch_down(settings):
    settings.SEARCH_ELASTICSEARCH_URL = CLOSED_URL
    backend._elastic.cache_clear()
    yield
    backend._elastic.cache_clear()


def test_searches_fall_back_to_the_database_store_and_the_page_says_so(forum_tree, member, settings):
    add_topic(forum_tree["theme:financement"], member, "Convention de partenariat tilleul")
    indexing.rebuild()  # the database store only: Elasticsearch is not configured yet
    settings.SEARCH_ELASTICSEARCH_URL = CLOSED_URL
    backend._elastic.cache_clear()
    client = client_for(member)
    data = search_json(client, "tilleul")
    assert titles(data) == {"Convention de partenariat tilleul"}
    page = search_page(client, "tilleul")
    assert "Convention de partenariat tilleul" in page
    assert "momentanément indisponible" in page
    # The template says so from results.store.
    from search.documents import SearchQuery

    assert backend.search(SearchQuery(text="tilleul", audience=frozenset({"members"}))).store == "database-fallback"


def test_index_updates_wait_in_the_queue_while_elasticsearch_is_down(
        forum_tree, member, django_capture_on_commit_callbacks, elasticsearch_down):
    with django_capture_on_commit_callbacks(execute=True):
        topic = add_topic(forum_tree["theme:financement"], member, "Appel à projets magnolia")
    key = f"topic:{topic.pk}"
    # The database store has it (searches keep working) and Elasticsearch will get it later.
    assert SearchEntry.objects.filter(key=key).exists()
    assert PendingIndexUpdate.objects.filter(key=key).exists()
    assert titles(search_json(client_for(member), "magnolia")) == {"Appel à projets magnolia"}

    with django_capture_on_commit_callbacks(execute=True):
        topic.delete()
    # A deletion is remembered too, and a second failure counts as a second attempt, not a new row.
    assert PendingIndexUpdate.objects.filter(key=key).count() == 1
    assert PendingIndexUpdate.objects.get(key=key).attempts == 2
    assert not SearchEntry.objects.filter(key=key).exists()


def test_the_retry_command_keeps_what_is_still_pending(member, elasticsearch_down, capsys):
    PendingIndexUpdate.objects.create(key=f"person:{member.pk}", attempts=1)
    call_command("search_index", "retry")
    assert "Mises à jour encore en attente : 1." in capsys.readouterr().out
    assert PendingIndexUpdate.objects.get(key=f"person:{member.pk}").attempts == 2


def test_a_guide_is_indexed_with_its_text_not_the_editors_block_settings(member):
    from tests.factories.cms import heading, paragraph

    guide = add_guide("Guide des conventions", blocks=[
        heading("Signer la convention"), paragraph("Le tribunal et l'association signent ensemble."),
        {"type": "callout", "value": {"kind": "warning", "title": "", "text": "<p>Relire l'annexe.</p>"}},
    ])
    indexing.rebuild()
    body = SearchEntry.objects.get(key=f"page:{guide.pk}").body
    assert "Signer la convention" in body and "Relire l'annexe" in body
    assert "Niveau" not in body and "Attention" not in body
