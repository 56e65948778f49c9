"""Forum profiles count only what the viewer may read (issue 16, item 5).

machina's profile page (/forum/member/profile/<pk>/) showed the author's post and topic counts over
every forum, the directors' and working groups' included, and answered for any account; the topic
page and the list of a person's messages showed the same global post count beside each message.
Counts shown to a viewer count the posts and topics of forums that viewer may read; the profile
and message list of someone whose directory page the viewer may not open (directory.access
`can_view_person`) answer 404, as for an unknown id.
"""

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from machina.apps.forum_conversation.models import Post, Topic
from machina.apps.forum_member.models import ForumProfile

from tests.factories import Role as RoleEnum
from tests.factories import RoleSpec, make_person

pytestmark = pytest.mark.django_db

THEME, DIRECTION, WG = "theme:financement", "direction", "wg:ethique"


def text(response) -> str:
    return html.unescape(response.content.decode())


def topic(forum, poster, subject: str, replies: int = 0) -> Topic:
    """A topic and its first post as machina's views write them (machina's receivers count the posts)."""
    created = Topic.objects.create(forum=forum, subject=subject, poster=poster, type=Topic.TOPIC_POST,
                                   status=Topic.TOPIC_UNLOCKED, approved=True)
    Post.objects.create(topic=created, poster=poster, subject=subject, content="Premier message.", approved=True)
    for i in range(replies):
        Post.objects.create(topic=created, poster=poster, subject=f"Re: {subject}", content=f"Réponse {i}.",
                            approved=True)
    created.refresh_from_db()
    return created


@pytest.fixture
def activity(forum_tree, director):
    """The director: one topic in a theme forum (1 post), and 2 topics with 3 posts each in the
    directors' forum; 7 posts and 3 topics in all."""
    public = topic(forum_tree[THEME], director, "Sujet ouvert à tous")
    for i in range(2):
        topic(forum_tree[DIRECTION], director, f"Sujet entre directions {i}", replies=2)
    return public


def profile_url(person) -> str:
    return reverse("forum_member:profile", kwargs={"pk": person.pk})


def counts(response) -> tuple[int, int]:
    return response.context["posts_count"], response.context["topics_count"]


@pytest.mark.parametrize(("viewer", "expected"), [
    ("member", (1, 1)),  # reads the theme forum only
    ("staff", (1, 1)),  # staff do not read the directors' forum either
    ("director", (7, 3)),  # her own profile: everything
])
def test_profile_counts_only_posts_and_topics_of_forums_the_viewer_reads(
        request, client, activity, director, viewer, expected):
    client.force_login(request.getfixturevalue(viewer))
    response = client.get(profile_url(director))
    assert response.status_code == 200
    assert counts(response) == expected
    page = text(response)
    assert ("entre directions" in page) is (viewer == "director")
    assert ForumProfile.objects.get(user=director).posts_count == 7  # machina's own counter stays as it is


def test_the_topic_page_and_the_messages_list_show_the_readable_count_beside_each_message(
        client, activity, director, member):
    client.force_login(member)
    page = text(client.get(reverse("forum_conversation:topic", kwargs={
        "forum_slug": activity.forum.slug, "forum_pk": activity.forum_id, "slug": activity.slug, "pk": activity.pk})))
    assert re.findall(r'class="post__author-meta">([^<]+)<', page) == ["1 message"]
    listing = client.get(reverse("forum_member:user_posts", kwargs={"pk": director.pk}))
    assert listing.status_code == 200
    assert "7 message" not in text(listing) and "1 message dans les forums" in text(listing)
    assert listing.context["paginator"].count == 1


@pytest.mark.parametrize("target", ["candidate", "technical", "unknown", "not_a_number"])
def test_profiles_of_people_outside_the_viewers_directory_answer_404(client, member, candidate_person, target):
    people = {
        "candidate": lambda: candidate_person.pk,
        "technical": lambda: make_person("technique.test", is_superuser=True, is_staff=True).pk,
        "unknown": lambda: 999999,
        "not_a_number": lambda: "abc",
    }
    pk = people[target]()
    client.force_login(member)
    assert client.get(reverse("forum_member:profile", kwargs={"pk": pk})).status_code == 404
    assert client.get(reverse("forum_member:user_posts", kwargs={"pk": pk})).status_code == 404


def test_a_candidate_persons_forum_profile_is_404_even_to_those_who_see_their_directory_page(
        client, staff, association, candidate_person):
    """Staff and the commission open the candidate's directory page, but the forum profile is a page of
    the network's forum, which a candidate is not part of (directory.access.can_view_forum_profile)."""
    commission = make_person("commission.test", association=association,
                             roles=[RoleSpec(RoleEnum.MEMBERSHIP_COMMISSION)])
    for viewer in (staff, commission):
        client.force_login(viewer)
        assert client.get(candidate_person.get_absolute_url()).status_code == 200
        assert client.get(profile_url(candidate_person)).status_code == 404


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_profile_and_messages_pages_keep_their_query_count_as_activity_grows(
        client, forum_tree, director, member, django_assert_max_num_queries):
    topic(forum_tree[THEME], director, "Premier sujet")
    client.force_login(member)
    urls = [profile_url(director), reverse("forum_member:user_posts", kwargs={"pk": director.pk})]
    _queries(client, urls[0])  # the first visit creates the profile row
    small = [_queries(client, url) for url in urls]
    for i in range(6):
        topic(forum_tree[THEME if i % 2 else DIRECTION], director, f"Sujet {i}", replies=2)
        topic(forum_tree[WG], director, f"GT {i}")
    large = [_queries(client, url) for url in urls]
    assert small == large
    with django_assert_max_num_queries(30):
        client.get(urls[0])


def test_a_message_awaiting_approval_shows_only_to_its_author_in_the_messages_list(
        client, forum_tree, director, member):
    waiting = topic(forum_tree[THEME], member, "Sujet publié")
    Post.objects.create(topic=waiting, poster=member, subject="Re", content="En attente de validation.",
                        approved=False)
    url = reverse("forum_member:user_posts", kwargs={"pk": member.pk})
    client.force_login(director)
    assert client.get(url).context["paginator"].count == 1
    client.force_login(member)
    assert client.get(url).context["paginator"].count == 2
