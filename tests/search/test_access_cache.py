"""A person's audience keys are kept across requests under the access version: the second search
skips the dozen queries that compute them, and any change they derive from — made through our
services or straight on the models, as the admin screens of machina and Wagtail do — shows in the
very next search."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from machina.apps.forum_permission.models import ForumPermission, GroupForumPermission
from wagtail.models import PageViewRestriction

from chat import messages as chat_messages
from chat import rooms as chat_rooms
from chat.models import ChatMembership, ChatRoom
from directory import access
from directory.access import CmsAudience
from search import indexing
from tests.factories.cms import add_guide

from .helpers import add_topic, client_for, search_json

pytestmark = pytest.mark.django_db


def _queries(client, q: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        search_json(client, q)
    return [query["sql"] for query in captured.captured_queries]


def test_the_second_search_reuses_the_keys_without_asking_machina_again(forum_tree, member):
    add_topic(forum_tree["theme:financement"], member, "Sujet hortensia")
    indexing.rebuild()
    client = client_for(member)
    first = _queries(client, "hortensia")
    second = _queries(client, "hortensia")
    assert any("forum_permission" in sql for sql in first)
    assert not any("forum_permission" in sql for sql in second)
    assert not any("chat_chatmembership" in sql for sql in second)
    assert len(second) <= len(first) - 5
    assert search_json(client, "hortensia")["total"] == 1


def test_a_forum_permission_granted_on_the_models_shows_at_once(forum_tree, director, member):
    add_topic(forum_tree["direction"], director, "Sujet réservé gentiane")
    indexing.rebuild()
    client = client_for(member)
    assert search_json(client, "gentiane")["total"] == 0

    group = Group.objects.create(name="Lecteurs invités")
    # machina reads a forum only when its ancestors are readable too.
    for forum in forum_tree["direction"].get_ancestors(include_self=True):
        for codename in ("can_see_forum", "can_read_forum"):
            GroupForumPermission.objects.create(forum=forum, group=group, has_perm=True,
                                                permission=ForumPermission.objects.get(codename=codename))
    member.groups.add(group)
    assert search_json(client, "gentiane")["total"] == 1

    member.groups.remove(group)
    assert search_json(client, "gentiane")["total"] == 0


def test_a_page_restriction_opened_to_another_group_shows_at_once(member):
    guide = add_guide("Guide réservé mimosa", audience=CmsAudience.PRESIDENTS)
    indexing.rebuild()
    client = client_for(member)
    assert search_json(client, "mimosa")["total"] == 0

    restriction = PageViewRestriction.objects.get(page=guide)
    restriction.groups.add(*member.groups.all())
    assert search_json(client, "mimosa")["total"] == 1

    restriction.delete()
    restriction = PageViewRestriction.objects.create(page=guide, restriction_type=PageViewRestriction.GROUPS)
    assert search_json(client, "mimosa")["total"] == 0, "a restriction without groups opens to nobody"


def test_a_room_membership_created_on_the_model_shows_its_messages_at_once(director, member, staff):
    room = chat_rooms.open_direct_room(director, staff)
    chat_messages.post_message(director, room.pk, "verveine-1", "Message verveine.", enforce_rate_limit=False)
    indexing.rebuild()
    client = client_for(member)
    assert search_json(client, "verveine")["total"] == 0

    ChatMembership.objects.create(room=ChatRoom.objects.get(pk=room.pk), user=member)
    assert search_json(client, "verveine")["total"] == 1


def test_a_lost_version_never_brings_back_old_keys(member):
    from django.core.cache import cache

    before = access.version()
    cache.delete("passerelles:access-version")
    after = access.version()
    assert after != before
    access.changed()
    assert access.version() not in {before, after}
