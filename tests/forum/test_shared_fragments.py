"""The forum's caches across requests (issue 18, item 1): the shared forum list and machina's permissions.

The forum list (index, a category's page) is rendered once per set of visible forums and kept in the
cache (forum_ui_tags.shared_forum_list); machina's permission answers are kept per person under the
access version (forum/overrides/forum_permission/handler.py). Each test renders as one role first,
so that the cache holds that role's copy, then as another: the second reader must never get the
first one's forums, a new post must show at once, and a role change must change the tree at once.
The cache is the real one (no mock): the test settings' cache backend. machina's permission answers
are kept only from committed rows, never inside a transaction that changed access and may still roll
back; the test transaction never commits, so `committed()` does what a commit does to the access
version: its pending replacement runs and is pending no more.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from machina.apps.forum.models import Forum
from machina.apps.forum_conversation.models import Post, Topic

from directory import access
from directory import services as directory_services
from directory.roles import Role
from forum import services
from forum.models import ForumSpace
from tests.factories import RoleSpec, make_person

pytestmark = pytest.mark.django_db


def committed() -> None:
    """What a commit does to the access version (directory.access): its pending replacement runs."""
    pending = [entry for entry in connection.run_on_commit if entry[1] is access._replace_after_commit]
    for entry in pending:
        connection.run_on_commit.remove(entry)
        entry[1]()


def test_permission_answers_are_kept_only_once_access_changes_are_committed(spaces, president):
    from forum.overrides.forum_permission.handler import _cache_usable

    directory_services.grant_role(president, RoleSpec(Role.DIRECTOR))
    assert not _cache_usable()
    committed()
    assert _cache_usable()

DIRECTORS_FORUM = "Entre directeurs et directrices"
DIRECTORS_SUBJECT = "Plan de continuité zéphyrin des directions"
GROUP_SUBJECT = "Charte éthique quetzal en relecture"


def add_topic(forum: Forum, poster, subject: str) -> Topic:
    topic = Topic.objects.create(forum=forum, subject=subject, poster=poster, type=Topic.TOPIC_POST,
                                 status=Topic.TOPIC_UNLOCKED, approved=True)
    Post.objects.create(topic=topic, poster=poster, subject=subject, content="Contenu.", approved=True)
    topic.refresh_from_db()
    return topic


def topic_url(topic: Topic) -> str:
    return reverse("forum_conversation:topic", kwargs={
        "forum_slug": topic.forum.slug, "forum_pk": topic.forum_id, "slug": topic.slug, "pk": topic.pk})


def forum_url(forum: Forum) -> str:
    return reverse("forum:forum", kwargs={"slug": forum.slug, "pk": forum.pk})


def page(client, user, url: str):
    committed()
    client.force_login(user)
    return client.get(url)


@pytest.fixture
def spaces(working_group, director):
    services.ensure_forum_tree()
    forums = {space.key: space.forum for space in ForumSpace.objects.select_related("forum")}
    wg_member = make_person("groupe.test", association=director.association,
                            roles=[RoleSpec(Role.WORKING_GROUP_MEMBER, working_group=working_group)])
    add_topic(forums["direction"], director, DIRECTORS_SUBJECT)
    add_topic(forums["wg:ethique"], wg_member, GROUP_SUBJECT)
    forums["wg_member"] = wg_member
    committed()
    return forums


def private_marks(forum: Forum) -> list[str]:
    # The working group's forum shares its name with a theme's: its address is what marks it.
    return [forum_url(forum)] if forum.name == "Éthique" else [forum.name, forum_url(forum)]


def test_the_index_of_one_role_is_never_served_to_another(client, spaces, director, president, member, dica):
    directors_forum, group_forum = spaces["direction"], spaces["wg:ethique"]
    first = page(client, director, "/forum/").content.decode()
    assert DIRECTORS_FORUM in first and DIRECTORS_SUBJECT in first and forum_url(directors_forum) in first
    group_page = page(client, spaces["wg_member"], "/forum/").content.decode()
    assert GROUP_SUBJECT in group_page and forum_url(group_forum) in group_page
    for other in (president, member, dica):
        body = page(client, other, "/forum/").content.decode()
        for mark in [*private_marks(directors_forum), *private_marks(group_forum), DIRECTORS_SUBJECT, GROUP_SUBJECT]:
            assert mark not in body, (other.username, mark)
    # And the other way round: a reader of fewer forums first, then the director gets the whole tree.
    assert DIRECTORS_SUBJECT in page(client, director, "/forum/").content.decode()


def test_a_category_page_of_one_role_is_never_served_to_another(client, spaces, president):
    category = spaces["wg:ethique"].parent
    assert GROUP_SUBJECT in page(client, spaces["wg_member"], forum_url(category)).content.decode()
    response = page(client, president, forum_url(category))
    body = response.content.decode()
    assert response.status_code in (200, 404)
    assert GROUP_SUBJECT not in body and forum_url(spaces["wg:ethique"]) not in body


def test_unread_markers_stay_each_readers_own(client, spaces, director, association):
    other_director = make_person("directeur.bis", association=association, roles=[RoleSpec(Role.DIRECTOR)])
    directors_forum = spaces["direction"]
    page(client, director, topic_url(directors_forum.topics.get()))  # the director reads the only topic
    read = page(client, director, "/forum/").content.decode()
    unread = page(client, other_director, "/forum/").content.decode()
    row = f'href="{forum_url(directors_forum)}">{DIRECTORS_FORUM}</a>'
    assert row in read and row in unread
    badge = re.escape(row) + r'\s*<span class="badge badge--unread">non lu</span>'
    assert re.search(badge, unread)
    assert not re.search(badge, read)
    assert "<!--unread-" not in read and "<!--unread-" not in unread


def test_a_new_post_shows_on_the_index_at_once(client, spaces, director):
    assert DIRECTORS_SUBJECT in page(client, director, "/forum/").content.decode()
    add_topic(spaces["direction"], director, "Nouveau sujet xylophage des directions")
    body = page(client, director, "/forum/").content.decode()
    assert "Nouveau sujet xylophage des directions" in body


def test_an_edited_topic_subject_shows_on_the_index_at_once(client, spaces, director):
    assert DIRECTORS_SUBJECT in page(client, director, "/forum/").content.decode()
    topic = spaces["direction"].topics.get()
    topic.subject = "Sujet renommé ornithorynque"
    topic.save()
    body = page(client, director, "/forum/").content.decode()
    assert "Sujet renommé ornithorynque" in body and DIRECTORS_SUBJECT not in body


def test_a_role_change_changes_the_tree_and_the_permissions_at_once(client, spaces, director, president):
    private_topic = spaces["direction"].topics.get()
    assert page(client, director, topic_url(private_topic)).status_code == 200
    assert DIRECTORS_SUBJECT not in page(client, president, "/forum/").content.decode()
    assert page(client, president, topic_url(private_topic)).status_code == 404

    directory_services.grant_role(president, RoleSpec(Role.DIRECTOR))
    assert DIRECTORS_SUBJECT in page(client, president, "/forum/").content.decode()
    assert page(client, president, topic_url(private_topic)).status_code == 200

    directory_services.revoke_role(director, RoleSpec(Role.DIRECTOR))
    body = page(client, director, "/forum/").content.decode()
    assert DIRECTORS_FORUM not in body and DIRECTORS_SUBJECT not in body
    assert page(client, director, topic_url(private_topic)).status_code == 404


def test_a_forum_page_topic_list_is_each_readers_and_new_at_once(client, spaces, director, association):
    other_director = make_person("directeur.ter", association=association, roles=[RoleSpec(Role.DIRECTOR)])
    directors_forum = spaces["direction"]
    topic = directors_forum.topics.get()
    page(client, director, topic_url(topic))  # the director has read it, the other director has not
    read = page(client, director, forum_url(directors_forum)).content.decode()
    unread = page(client, other_director, forum_url(directors_forum)).content.decode()
    link = f'href="{topic_url(topic)}">{DIRECTORS_SUBJECT}</a>'
    badge = re.escape(link) + r'\s*<span class="badge badge--unread">non lu</span>'
    assert link in read and re.search(badge, unread) and not re.search(badge, read)
    assert "<!--unread-" not in read and "<!--unread-" not in unread
    # Another forum's page, read by the same person, shows its own topics only.
    themes_forum = spaces["wg:ethique"]
    group_page = page(client, spaces["wg_member"], forum_url(themes_forum)).content.decode()
    assert GROUP_SUBJECT in group_page and DIRECTORS_SUBJECT not in group_page

    add_topic(directors_forum, other_director, "Sujet neuf quokka de la direction")
    assert "Sujet neuf quokka de la direction" in page(client, director, forum_url(directors_forum)).content.decode()


# --- query counts: the three pages, small tree and a bigger one ---------------------------------

# Measured on a second request (the cache warm, as for every reader after the first).
# topic: 19 since the authors' message counts come from the cache (forum.selectors.readable_post_counts).
PAGE_QUERIES = {"index": 9, "forum": 15, "topic": 19}


def measured_urls(forum: Forum, topic: Topic) -> dict[str, str]:
    return {"index": "/forum/", "forum": forum_url(forum), "topic": topic_url(topic)}


def counts(client, urls: dict[str, str]) -> dict[str, int]:
    result = {}
    for name, url in urls.items():
        assert client.get(url).status_code == 200, url
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200, url
        result[name] = len(captured.captured_queries)
    return result


def grow(spaces: dict, poster) -> None:
    """30 more forums (readable by every member: under the themes' category) and 100 more topics."""
    themes = spaces["direction"].parent.get_siblings().get(name="Espaces thématiques")
    for n in range(30):
        forum = Forum.objects.create(parent=themes, name=f"Forum ajouté {n}", type=Forum.FORUM_POST)
        for permission in spaces["welcome"].groupforumpermission_set.all():
            permission.pk, permission.forum = None, forum
            permission.save()
        if n < 10:
            for k in range(10):
                add_topic(forum, poster, f"Sujet ajouté {n}-{k}")


def test_page_queries_do_not_grow_with_the_tree(client, spaces, director):
    forum = spaces["direction"]
    topic = forum.topics.get()
    client.force_login(director)
    committed()
    small = counts(client, measured_urls(forum, topic))
    assert small == PAGE_QUERIES
    grow(spaces, director)
    assert Forum.objects.count() >= 60 and Topic.objects.count() >= 100
    add_topic(forum, director, "Un sujet de plus")
    committed()
    big = counts(client, measured_urls(forum, topic))
    assert big == small
