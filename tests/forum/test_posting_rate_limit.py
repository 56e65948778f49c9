"""New topics and replies are rate-limited per person (FORUM_POSTING_RATE_LIMIT), through machina's views."""

import pytest
from django.urls import reverse
from machina.apps.forum_conversation.models import Post, Topic

from forum import services
from forum.models import ForumSpace

pytestmark = pytest.mark.django_db


@pytest.fixture
def limit(settings):
    settings.FORUM_POSTING_RATE_LIMIT = 2
    settings.FORUM_POSTING_RATE_LIMIT_SECONDS = 300


@pytest.fixture
def forum(director):
    services.ensure_forum_tree()
    return ForumSpace.objects.filter(kind="theme").order_by("key").first().forum


# machina's attachment formset (members of these forums may attach files), left empty.
NO_ATTACHMENT = {"attachment-TOTAL_FORMS": "0", "attachment-INITIAL_FORMS": "0", "attachment-MIN_NUM_FORMS": "0",
                 "attachment-MAX_NUM_FORMS": "5"}


def create_topic(client, forum, subject):
    url = reverse("forum_conversation:topic_create", kwargs={"forum_slug": forum.slug, "forum_pk": forum.pk})
    return client.post(url, {"subject": subject, "content": f"Contenu de « {subject} ».",
                             "topic_type": Topic.TOPIC_POST, **NO_ATTACHMENT})


def reply(client, topic, content, **extra):
    url = reverse("forum_conversation:post_create", kwargs={
        "forum_slug": topic.forum.slug, "forum_pk": topic.forum.pk, "topic_slug": topic.slug, "topic_pk": topic.pk})
    return client.post(url, {"subject": f"Re: {topic.subject}", "content": content, **NO_ATTACHMENT, **extra})


def test_the_topic_after_the_limit_is_refused_and_the_text_kept(client, forum, director, limit):
    client.force_login(director)
    assert create_topic(client, forum, "Premier sujet").status_code == 302
    assert create_topic(client, forum, "Deuxième sujet").status_code == 302

    response = create_topic(client, forum, "Troisième sujet")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "Vous avez publié beaucoup de messages en peu de temps" in page
    assert "Contenu de « Troisième sujet »." in page
    assert Topic.objects.filter(poster=director).count() == 2


def test_replies_and_topics_share_the_limit(client, forum, director, limit):
    client.force_login(director)
    create_topic(client, forum, "Un sujet")
    topic = Topic.objects.get(subject="Un sujet")
    assert reply(client, topic, "Une précision.").status_code == 302

    response = reply(client, topic, "Encore une précision.")

    assert response.status_code == 429
    assert "Encore une précision." in response.content.decode()
    assert Post.objects.filter(topic=topic).count() == 2


def test_previews_do_not_count(client, forum, director, limit):
    client.force_login(director)
    create_topic(client, forum, "Un sujet")
    topic = Topic.objects.get(subject="Un sujet")
    for _ in range(4):
        assert reply(client, topic, "Brouillon", preview="1").status_code == 200

    assert reply(client, topic, "Réponse publiée").status_code == 302


def test_the_limit_is_per_person(client, forum, director, president, limit):
    client.force_login(director)
    create_topic(client, forum, "Un sujet")
    create_topic(client, forum, "Un autre sujet")
    client.force_login(president)

    assert create_topic(client, forum, "Le sujet du président").status_code == 302
