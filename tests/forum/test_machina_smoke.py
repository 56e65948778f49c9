"""machina's own views still work next to our `forum` package (installed with the label "exchange").

machina's class loader resolves "forum.*" by matching installed app names; if our package shadowed
machina's `forum` app, these views would break. This walks topic creation, reply and moderation.
"""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from machina.apps.forum.models import Forum
from machina.apps.forum_conversation.models import Post, Topic
from machina.apps.forum_permission.models import ForumPermission, GroupForumPermission
from machina.core.loading import get_class

from directory.roles import ROLE_GROUP_NAMES, Role

pytestmark = pytest.mark.django_db

MEMBER_PERMISSIONS = ["can_see_forum", "can_read_forum", "can_start_new_topics", "can_reply_to_topics",
                      "can_post_without_approval"]
MODERATOR_PERMISSIONS = MEMBER_PERMISSIONS + ["can_lock_topics"]


def grant(group_name: str, forum: Forum, codenames: list[str]) -> None:
    group = Group.objects.get(name=group_name)
    for codename in codenames:
        GroupForumPermission.objects.create(
            group=group, forum=forum, permission=ForumPermission.objects.get(codename=codename), has_perm=True
        )


@pytest.fixture
def forum(director, staff):
    category = Forum.objects.create(name="Espaces thématiques", type=Forum.FORUM_CAT)
    forum = Forum.objects.create(name="Contrôle judiciaire socio-éducatif", parent=category, type=Forum.FORUM_POST)
    grant(ROLE_GROUP_NAMES[Role.MEMBER], category, ["can_see_forum", "can_read_forum"])
    grant(ROLE_GROUP_NAMES[Role.FEDERAL_STAFF], category, ["can_see_forum", "can_read_forum"])
    grant(ROLE_GROUP_NAMES[Role.MEMBER], forum, MEMBER_PERMISSIONS)
    grant(ROLE_GROUP_NAMES[Role.FEDERAL_STAFF], forum, MODERATOR_PERMISSIONS)
    return forum


def test_machina_class_loader_resolves_machinas_own_forum_app():
    assert get_class("forum.models", "Forum") is Forum
    assert get_class("forum.views", "IndexView").__module__ == "machina.apps.forum.views"


def test_our_forum_package_has_a_distinct_label():
    from django.apps import apps

    assert apps.get_app_config("exchange").name == "forum"
    assert apps.get_app_config("forum").name == "machina.apps.forum"


def test_director_creates_a_topic_and_a_member_replies_and_staff_locks_it(client, forum, director, member, staff):
    client.force_login(director)
    create_url = reverse("forum_conversation:topic_create", kwargs={"forum_slug": forum.slug, "forum_pk": forum.pk})
    response = client.post(create_url, {
        "subject": "Partage d'une trame de rapport CJSE",
        "content": "Bonjour à toutes et tous, voici notre trame de rapport.",
        "topic_type": Topic.TOPIC_POST,
    })
    assert response.status_code == 302, response.content[:2000]
    topic = Topic.objects.get(subject="Partage d'une trame de rapport CJSE")
    assert topic.poster == director

    client.force_login(member)
    reply_url = reverse("forum_conversation:post_create", kwargs={
        "forum_slug": forum.slug, "forum_pk": forum.pk, "topic_slug": topic.slug, "topic_pk": topic.pk})
    response = client.post(reply_url, {"subject": "Re: trame", "content": "Merci, très utile !"})
    assert response.status_code == 302
    assert Post.objects.filter(topic=topic).count() == 2

    topic_url = reverse("forum_conversation:topic", kwargs={
        "forum_slug": forum.slug, "forum_pk": forum.pk, "slug": topic.slug, "pk": topic.pk})
    page = client.get(topic_url)
    assert page.status_code == 200
    assert "Merci, très utile !" in page.content.decode()

    lock_url = reverse("forum_moderation:topic_lock", kwargs={"slug": topic.slug, "pk": topic.pk})
    assert client.post(lock_url).status_code == 403  # a plain member cannot moderate

    client.force_login(staff)
    response = client.post(lock_url)
    assert response.status_code == 302
    topic.refresh_from_db()
    assert topic.status == Topic.TOPIC_LOCKED


def test_forum_index_lists_only_forums_the_person_may_see(client, forum, candidate_person, director):
    client.force_login(director)
    assert forum.name in client.get("/forum/").content.decode()
