"""The topic page asks whether the reader follows the topic in one small query, whatever the number of
followers (machina's check loads every follower), and still offers the right button (issue 18, item 1)."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.forum.test_member_profiles import activity  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def topic_page(client, topic):
    return client.get(reverse("forum_conversation:topic", kwargs={
        "forum_slug": topic.forum.slug, "forum_pk": topic.forum_id, "slug": topic.slug, "pk": topic.pk}))


def test_the_follow_button_is_right_and_its_check_does_not_load_the_followers(
        client, activity, member):  # noqa: F811
    client.force_login(member)
    assert "Suivre ce sujet" in topic_page(client, activity).content.decode()
    activity.subscribers.add(member)
    page = topic_page(client, activity).content.decode()
    assert "Ne plus suivre ce sujet" in page and ">Suivre ce sujet<" not in page

    followers = [get_user_model().objects.create(username=f"abonne{i}") for i in range(30)]
    activity.subscribers.add(*followers)
    with CaptureQueriesContext(connection) as captured:
        topic_page(client, activity)
    followers_queries = [q["sql"] for q in captured.captured_queries if "topic_subscribers" in q["sql"]]
    assert len(followers_queries) == 1 and "LIMIT 1" in followers_queries[0], followers_queries
