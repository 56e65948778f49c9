"""Permission audit, issue 16's probes (items 1, 5 and 6), kept so that what the outside audit found stays closed.

The world is tests/factories/audit_world's, every role signed in. Here:

- the people of a candidate association (its director, `audit.candidat`): their directory page,
  forum profile and list of messages, the search and the @mention autocomplete show them exactly to
  whom `directory.access.can_view_person` lets see them (federal staff, the membership commission,
  the superuser), and to nobody else (members get 404, as for the association's page);
- forum profiles: the post and topic counts shown to each role count only the forums that role may
  read (the directors' forum is the director's), and so does the count beside each message;
- anonymous browsing: cookie-less requests to the public pages write no session row and set no
  session cookie.
"""

from __future__ import annotations

import html
import json

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from machina.apps.forum_conversation.models import Post, Topic
from machina.apps.forum_permission.handler import PermissionHandler

from directory import access
from tests.factories.audit_world import ROLES, audit_world

pytestmark = pytest.mark.django_db

SIGNED_IN = [role for role in ROLES if role != "anonymous"]


@pytest.fixture(scope="module")
def audit(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock(), audit_world(tmp_path_factory.mktemp("audit-probes-media")) as built:
        yield built


@pytest.fixture(autouse=True)
def _no_search_rate_limit(settings):
    settings.SEARCH_RATE_LIMIT = 0
    settings.SEARCH_SUGGEST_RATE_LIMIT = 0


def text(response) -> str:
    return html.unescape(response.content.decode("utf-8", errors="replace"))


def refused(role: str, response) -> bool:
    """A refusal that says nothing: the login page for anonymous visitors, 403 for an account outside
    the network (no member page at all), 404 for a member who may not see the person."""
    if role == "anonymous":
        return response.status_code == 302 and response["Location"].startswith(reverse("login"))
    return response.status_code in (403, 404)


# --- item 1: the people of a candidate association ------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_a_candidate_associations_person_shows_only_to_whom_the_rule_book_lets_see_them(audit, role):
    candidate = audit.world.people["outsider"]  # the director of a candidate association
    viewer = audit.world.user(role)
    may = viewer is not None and access.can_view_person(viewer, candidate)
    assert may is (role in {"staff", "commission", "superuser"})
    client = audit.clients[role]
    response = client.get(candidate.get_absolute_url())
    if may:
        assert response.status_code == 200, role
    else:
        assert refused(role, response), (role, response.status_code)
        assert candidate.email not in text(response), role
    # The forum profile is a page of the network's forum: none for a candidate, whoever asks.
    for url in (reverse("forum_member:profile", kwargs={"pk": candidate.pk}),
                reverse("forum_member:user_posts", kwargs={"pk": candidate.pk})):
        response = client.get(url)
        assert refused(role, response), (role, url, response.status_code)
        assert candidate.email not in text(response), (role, url)


@pytest.mark.parametrize("role", SIGNED_IN)
def test_search_and_mentions_list_a_candidate_associations_person_as_the_rule_book_says(audit, role):
    candidate = audit.world.people["outsider"]
    viewer = audit.world.user(role)
    client = audit.clients[role]
    search = client.get(reverse("search:search"), {"q": "candidate Pyrénées", "format": "json"})
    mentions = client.get(reverse("exchange:mention-search"), {"q": candidate.username})
    if not access.is_member(viewer):
        assert search.status_code == 403 and mentions.status_code == 403
        return
    found = candidate.get_absolute_url() in json.dumps(search.json())
    assert found is access.can_view_person(viewer, candidate), role
    # Mentions call members of the network, which a candidate's person is not, whoever asks.
    assert candidate.username not in {row["username"] for row in mentions.json()}, role


@pytest.mark.parametrize("role", SIGNED_IN)
def test_the_visible_people_of_each_role_are_those_whose_page_it_may_open(audit, role):
    viewer = audit.world.user(role)
    people = list(audit.world.people.values()) + [audit.world.inactive_person]
    visible = set(access.visible_people(viewer))
    for person in people:
        assert (person in visible) is access.can_view_person(viewer, person), (role, person.username)


# --- item 5: forum profile counts ---------------------------------------------------------------


def _readable_activity(viewer, person) -> tuple[int, int]:
    """(approved posts, approved topics) of `person` in the forums `viewer` may read, asked forum by
    forum of machina's handler: the count the profile must show."""
    handler = PermissionHandler()
    posts = sum(1 for post in Post.objects.filter(poster=person, approved=True).select_related("topic__forum")
                if handler.can_read_forum(post.topic.forum, viewer))
    topics = sum(1 for topic in Topic.objects.filter(poster=person, approved=True).select_related("forum")
                 if handler.can_read_forum(topic.forum, viewer))
    return posts, topics


@pytest.mark.parametrize("role", [r for r in SIGNED_IN if r != "outsider"])
def test_the_directors_forum_profile_counts_only_what_each_role_may_read(audit, role):
    director, viewer = audit.world.people["director"], audit.world.user(role)
    response = audit.clients[role].get(reverse("forum_member:profile", kwargs={"pk": director.pk}))
    assert response.status_code == 200
    shown = (response.context["posts_count"], response.context["topics_count"])
    assert shown == _readable_activity(viewer, director), role
    leaked = [marker for marker in audit.hidden[role] if marker in text(response).lower()]
    assert not leaked, (role, leaked)
    listing = audit.clients[role].get(reverse("forum_member:user_posts", kwargs={"pk": director.pk}))
    assert listing.context["paginator"].count == shown[0], role
    assert not [marker for marker in audit.hidden[role] if marker in text(listing).lower()], role


def test_the_probe_tells_the_readers_of_the_directors_forum_apart(audit):
    """The guard of the test above: the director writes in her forum, so the counts do differ."""
    director = audit.world.people["director"]
    assert _readable_activity(director, director) != _readable_activity(audit.world.people["member"], director)


@pytest.mark.parametrize("role", ["member", "director", "staff"])
def test_the_count_beside_each_message_counts_only_what_the_reader_may_read(audit, role):
    topic = audit.world.topics["theme"]
    response = audit.clients[role].get(reverse("forum_conversation:topic", kwargs={
        "forum_slug": topic.forum.slug, "forum_pk": topic.forum_id, "slug": topic.slug, "pk": topic.pk}))
    assert response.status_code == 200
    viewer = audit.world.user(role)
    for post in response.context["posts"]:
        assert post.poster_posts_count == _readable_activity(viewer, post.poster)[0], (role, post.poster)


# --- item 6: anonymous browsing writes no session -------------------------------------------------


def test_anonymous_browsing_of_the_public_pages_writes_no_session(audit):
    pages = ["/", reverse("login"), reverse("password_reset"), reverse("membership-application"),
             audit.world.pages["guide_members"].url, audit.world.people["member"].get_absolute_url(), "/forum/"]
    before = Session.objects.count()
    for _round in range(5):
        for url in pages:
            response = Client().get(url)
            assert response.status_code in (200, 302), url
            assert settings.SESSION_COOKIE_NAME not in response.cookies, url
    assert Session.objects.count() == before
