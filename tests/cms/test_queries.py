"""Guide, resources, tool library and agenda pages: a fixed number of queries whatever their size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from machina.apps.forum_conversation.models import Topic

from forum import services as forum_services
from forum.models import ForumSpace
from tests.factories import theme
from tests.factories.cms import (
    add_document,
    add_event,
    add_guide,
    add_news,
    document_block,
    heading,
    paragraph,
    presidents_collection,
    topic_block,
)

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    client.get(url)  # warm: site root paths, machina's permission cache
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def _topics(author, n: int) -> list[Topic]:
    forum = ForumSpace.objects.filter(kind="theme").order_by("key").first().forum
    return [Topic.objects.create(forum=forum, subject=f"Sujet {i}", poster=author, type=Topic.TOPIC_POST,
                                 status=Topic.TOPIC_UNLOCKED, approved=True) for i in range(n)]


def _guide(title: str, documents, topics, sections: int):
    blocks = []
    for i in range(sections):
        blocks += [heading(f"Section {i}"), paragraph(f"Texte {i}"), heading(f"Détail {i}", "h3")]
    blocks += [document_block(d) for d in documents] + [topic_block(t) for t in topics]
    return add_guide(title, blocks=blocks, themes=[theme("financement"), theme("ethique")])


def test_a_guide_page_query_count_does_not_grow_with_its_blocks(client, member, director,
                                                                django_assert_max_num_queries):
    forum_services.ensure_forum_tree()
    client.force_login(member)
    small = _guide("Petit guide", [add_document("Doc 0")], _topics(director, 1), sections=1)
    documents = [add_document(f"Doc {i}") for i in range(1, 9)] + [
        add_document("Doc restreint", collection=presidents_collection())]
    large = _guide("Grand guide", documents, _topics(director, 6), sections=12)
    assert _queries(client, small.url) == _queries(client, large.url)
    with django_assert_max_num_queries(30):
        client.get(large.url)


def test_the_resources_index_query_count_does_not_grow_with_resources(client, member):
    client.force_login(member)
    add_guide("Guide 0", themes=[theme("financement")])
    add_document("Document 0", themes=[theme("financement")])
    add_event("Événement 0")
    add_news("Actualité 0")
    small = _queries(client, "/ressources/")
    filtered_small = _queries(client, "/ressources/?theme=financement&q=guide")
    for i in range(1, 10):
        add_guide(f"Guide {i}", themes=[theme("financement"), theme("ethique")])
        add_document(f"Document {i}", themes=[theme("financement")])
        add_event(f"Événement {i}")
        add_news(f"Actualité {i}")
    assert _queries(client, "/ressources/") == small
    assert _queries(client, "/ressources/?theme=financement&q=guide") == filtered_small


def test_the_agenda_query_count_does_not_grow_with_events(client, member):
    client.force_login(member)
    first = add_event("Événement 0")
    small = _queries(client, first.get_parent().url)
    for i in range(1, 8):
        add_event(f"Événement {i}", starts_in_days=i)
        add_event(f"Événement passé {i}", starts_in_days=-i)
    assert _queries(client, first.get_parent().url) == small
