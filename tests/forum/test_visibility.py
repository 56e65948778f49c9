"""A private forum answers 404 on every URL to people who may not read it, existing or not,
and its titles never show in lists they see."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from machina.apps.forum_conversation.forum_attachments.models import Attachment
from machina.apps.forum_conversation.models import Post, Topic

from directory import services as directory_services
from directory.roles import Role
from forum import services
from forum.models import ForumSpace
from tests.factories import RoleSpec

pytestmark = pytest.mark.django_db

SECRET = "Projet confidentiel de fusion"


@pytest.fixture
def private_topic(working_group, director):
    services.ensure_forum_tree()
    forum = ForumSpace.objects.get(key="direction").forum
    topic = Topic.objects.create(forum=forum, subject=SECRET, poster=director, type=Topic.TOPIC_POST,
                                 status=Topic.TOPIC_UNLOCKED, approved=True)
    post = Post.objects.create(topic=topic, poster=director, subject=SECRET, content="Contenu privé.", approved=True)
    Attachment.objects.create(post=post, file=SimpleUploadedFile("note.pdf", b"%PDF-1.4 test"), comment="")
    topic.refresh_from_db()
    topic.subscribers.add(director)
    return topic


def urls_for(forum_slug, forum_pk, topic_slug, topic_pk, post_pk, attachment_pk):
    f = {"forum_slug": forum_slug, "forum_pk": forum_pk}
    t = {"slug": topic_slug, "pk": topic_pk}
    return {
        "get": [
            reverse("forum:forum", kwargs={"slug": forum_slug, "pk": forum_pk}),
            reverse("forum_conversation:topic", kwargs={**f, **t}),
            reverse("forum_conversation:topic_create", kwargs=f),
            reverse("forum_conversation:topic_update", kwargs={**f, **t}),
            reverse("forum_conversation:post_create", kwargs={**f, "topic_slug": topic_slug, "topic_pk": topic_pk}),
            reverse("forum_conversation:post_update",
                    kwargs={**f, "topic_slug": topic_slug, "topic_pk": topic_pk, "pk": post_pk}),
            reverse("forum_conversation:post_delete",
                    kwargs={**f, "topic_slug": topic_slug, "topic_pk": topic_pk, "pk": post_pk}),
            reverse("forum_feeds:forum_latest_topics", kwargs=f),
            reverse("forum_feeds:forum_latest_topics_with_descendants", kwargs=f),
            reverse("forum_conversation:attachment", kwargs={"pk": attachment_pk}),
            reverse("forum_moderation:topic_lock", kwargs=t),
            reverse("forum_moderation:topic_move", kwargs=t),
            reverse("forum_moderation:topic_delete", kwargs=t),
            reverse("forum_moderation:queued_post", kwargs={"pk": post_pk}),
        ],
        "post": [
            reverse("forum_conversation:topic_create", kwargs=f),
            reverse("forum_conversation:post_create", kwargs={**f, "topic_slug": topic_slug, "topic_pk": topic_pk}),
            reverse("forum_member:topic_subscribe", kwargs={"pk": topic_pk}),
            reverse("forum_member:topic_unsubscribe", kwargs={"pk": topic_pk}),
            reverse("forum_tracking:mark_topics_read", kwargs={"pk": forum_pk}),
            reverse("forum_tracking:mark_subforums_read", kwargs={"pk": forum_pk}),
            reverse("forum_moderation:topic_lock", kwargs=t),
        ],
    }


def test_every_url_of_a_private_forum_answers_404_like_a_missing_one(client, private_topic, president):
    client.force_login(president)
    post = private_topic.first_post
    attachment = Attachment.objects.get()
    existing = urls_for(private_topic.forum.slug, private_topic.forum_id, private_topic.slug, private_topic.pk,
                        post.pk, attachment.pk)
    missing = urls_for("nulle-part", 99999, "rien", 99999, 99999, 99999)
    for method in ("get", "post"):
        for real, fake in zip(existing[method], missing[method], strict=True):
            real_status = getattr(client, method)(real).status_code
            fake_status = getattr(client, method)(fake).status_code
            assert (real_status, fake_status) == (404, 404), (method, real)
    assert Post.objects.filter(topic=private_topic).count() == 1


def test_the_director_reads_the_same_urls(client, private_topic, director):
    client.force_login(director)
    response = client.get(reverse("forum_conversation:topic", kwargs={
        "forum_slug": private_topic.forum.slug, "forum_pk": private_topic.forum_id,
        "slug": private_topic.slug, "pk": private_topic.pk}))
    assert response.status_code == 200
    assert SECRET in response.content.decode()


def test_the_private_title_never_appears_in_lists_for_outsiders(client, private_topic, president):
    client.force_login(president)
    pages = [
        "/forum/",
        reverse("forum_feeds:latest_topics"),
        reverse("forum_tracking:unread_topics"),
        reverse("forum_member:user_posts", kwargs={"pk": private_topic.poster_id}),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert SECRET not in body, url
        assert "Entre directeurs et directrices" not in body, url


def test_losing_the_role_hides_subscribed_topics_at_once(client, private_topic, director):
    client.force_login(director)
    subscriptions = reverse("forum_member:user_subscriptions")
    assert SECRET in client.get(subscriptions).content.decode()
    directory_services.revoke_role(director, RoleSpec(Role.DIRECTOR))
    assert SECRET not in client.get(subscriptions).content.decode()
    topic_url = reverse("forum_conversation:topic", kwargs={
        "forum_slug": private_topic.forum.slug, "forum_pk": private_topic.forum_id,
        "slug": private_topic.slug, "pk": private_topic.pk})
    assert client.get(topic_url).status_code == 404
