"""Permission audit (issue 8, item 4c): no search result, feed, notification or e-mail carries a private
thing to someone who may not see it.

The world is tests/factories/audit_world's: every private thing carries a marker word (and the
common word COMMON), and who may see each marker is computed from directory.access and the forum
and CMS selectors that ask it. Here, for every role: the one search (JSON, page, suggestions) and
machina's feeds; then the side channels that leave the site: forum notifications (in-site list,
immediate e-mails, daily digests, after a role was lost), meeting invitations and the chat's e-mail
notices of unread direct messages (after an association was excluded).
"""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from machina.apps.forum_conversation.models import Post
from machina.apps.forum_permission.handler import PermissionHandler

from chat import messages as chat_messages
from chat import notices as chat_notices
from chat import rooms as chat_rooms
from directory import access
from directory import services as directory_services
from directory.models import Association, NotificationFrequency, User
from directory.roles import Role
from forum import notifications
from forum import services as forum_services
from forum.models import ForumSubscription, NationalMeeting, Notification
from tests.factories import RoleSpec
from tests.factories.audit_world import COMMON, ROLES, audit_world

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def audit(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock(), audit_world(tmp_path_factory.mktemp("audit-leaks-media")) as built:
        yield built


@pytest.fixture(autouse=True)
def _no_search_rate_limit(settings):
    # A person here searches dozens of times in a row; the limits have tests of their own.
    settings.SEARCH_RATE_LIMIT = 0
    settings.SEARCH_SUGGEST_RATE_LIMIT = 0


def text(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return html.unescape(content.decode("utf-8", errors="replace")).lower()


def fresh(user):
    """The person as the database has them now (role changes in a test leave world.people alone)."""
    return User.objects.get(pk=user.pk)


# --- search --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
def test_search_results_pages_and_suggestions_never_show_a_private_word(audit, role):
    client, hidden = audit.clients[role], audit.hidden[role]
    answers = {
        "json": client.get(reverse("search:search"), {"q": COMMON, "format": "json"}),
        "page": client.get(reverse("search:search"), {"q": COMMON}),
        "suggestions": client.get(reverse("search:suggest"), {"q": COMMON[:5]}),
    }
    for where, response in answers.items():
        leaked = sorted(marker for marker in hidden if marker in text(response))
        assert not leaked, (role, where, leaked)
    # Each private word searched alone: no result, and no count betraying that something matched.
    for marker in sorted(hidden):
        response = client.get(reverse("search:search"), {"q": marker, "format": "json"})
        if response.status_code == 403:  # an account outside the network: no search at all
            continue
        data = response.json()
        assert (data["total"], data["results"]) == (0, []), (role, marker, data)
        assert marker not in text(response), (role, marker)
        suggested = client.get(reverse("search:suggest"), {"q": marker})
        assert suggested.json()["results"] == [], (role, marker)


@pytest.mark.parametrize(("role", "marker"), [
    ("member", "audmarkthemetopic"), ("director", "audmarkdirtopic"), ("wg_member", "audmarkwgtopic"),
    ("president", "audmarkpresguide"), ("staff", "audmarkcandidate"), ("member", "audmarkdirectmsg"),
])
def test_search_does_find_what_the_person_may_see(audit, role, marker):
    """The guard of the test above: the private words are indexed, so "no result" means "hidden"."""
    assert marker not in audit.hidden[role]
    data = audit.clients[role].get(reverse("search:search"), {"q": marker, "format": "json"}).json()
    assert data["total"] >= 1 and marker in str(data).lower(), data


# --- feeds ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
def test_forum_feeds_list_only_topics_of_forums_the_person_may_read(audit, role):
    forums = audit.world.forums
    urls = [reverse("forum_feeds:latest_topics")] + [
        reverse(name, kwargs={"forum_slug": forums[key].slug, "forum_pk": forums[key].pk})
        for key in ("theme:financement", "direction", "wg:ethique", "board", "region:nord-est")
        for name in ("forum_feeds:forum_latest_topics", "forum_feeds:forum_latest_topics_with_descendants")
    ]
    client, hidden = audit.clients[role], audit.hidden[role]
    for url in urls:
        body = text(client.get(url))
        assert not [m for m in hidden if m in body], (role, url)
    if role == "director":  # the guard: a reader does get the directors' topic in the feed
        assert "audmarkdirtopic" in text(client.get(reverse("forum_feeds:latest_topics")))


# --- forum notifications and e-mails -----------------------------------------------------------------


def _mails_to(person) -> str:
    return "\n".join(f"{m.subject}\n{m.body}" for m in mail.outbox if person.email in m.to).lower()


def test_a_post_in_the_directors_forum_notifies_and_emails_its_readers_only(
        audit, django_capture_on_commit_callbacks):
    world = audit.world
    people = {role: fresh(world.user(role)) for role in ROLES if role != "anonymous"}
    direction, topic = world.forums["direction"], world.topics["direction"]
    # Everyone follows the forum or the topic (as if they had subscribed when they could read it).
    for person in people.values():
        ForumSubscription.objects.get_or_create(user=person, forum=direction)
        topic.subscribers.add(person)
    mentions = " ".join(f"@{person.username}" for person in people.values())
    mail.outbox = []

    with django_capture_on_commit_callbacks(execute=True):
        Post.objects.create(topic=topic, poster=people["director"], subject="Re: direction",
                            content=f"Nouvelle réponse {COMMON} audmarknewpost. {mentions}", approved=True)

    handler = PermissionHandler()
    notified = set(Notification.objects.filter(post__content__contains="audmarknewpost")
                   .values_list("recipient__username", flat=True))
    for role, person in people.items():
        may_read = handler.can_read_forum(direction, person)
        assert (person.username in notified) is (may_read and role != "director"), role
        if not may_read:
            assert "audmarknewpost" not in _mails_to(person), role
            page = text(audit.clients[role].get(reverse("exchange:notification-list")))
            assert "audmarknewpost" not in page, role
    assert "audmarknewpost" in _mails_to(people["newcomer"]), "the guard: a reader is e-mailed"


def test_a_daily_digest_leaves_out_a_forum_the_person_no_longer_reads(audit, django_capture_on_commit_callbacks):
    world = audit.world
    director, newcomer = fresh(world.user("director")), fresh(world.user("newcomer"))
    newcomer.notification_frequency = NotificationFrequency.DAILY
    newcomer.save(update_fields=["notification_frequency"])
    ForumSubscription.objects.get_or_create(user=newcomer, forum=world.forums["direction"])
    with django_capture_on_commit_callbacks(execute=True):
        Post.objects.create(topic=world.topics["direction"], poster=director, subject="Re: direction",
                            content=f"Pour le résumé {COMMON} audmarkdigest.", approved=True)
    assert Notification.objects.filter(recipient=newcomer, post__content__contains="audmarkdigest").exists()

    # She stops being a director before the digest goes out.
    directory_services.revoke_role(newcomer, RoleSpec(Role.DIRECTOR))
    mail.outbox = []
    notifications.send_digests(now=timezone.now() + timedelta(minutes=5))

    assert "audmarkdigest" not in _mails_to(newcomer)
    client = audit.clients["newcomer"]
    assert "audmarkdigest" not in text(client.get(reverse("exchange:notification-list")))
    assert "audmarkdigest" not in text(client.get("/"))


def test_meeting_invitations_go_to_the_meeting_audience_only(audit, django_capture_on_commit_callbacks):
    world = audit.world
    staff = fresh(world.user("staff"))
    now = timezone.now().replace(microsecond=0)
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        meeting = forum_services.create_meeting(staff, forum_services.MeetingData(
            title=f"Réunion {COMMON} audmarkinvitation", starts_at=now + timedelta(days=30),
            ends_at=now + timedelta(days=30, hours=2), place="Lyon", audience=NationalMeeting.Audience.DIRECTORS,
        ))
    assert mail.outbox, "the guard: the directors are invited"
    for role in ROLES:
        person = world.user(role)
        if person is None:
            continue
        person = fresh(person)
        if not forum_services.can_view_meeting(person, meeting):
            assert "audmarkinvitation" not in _mails_to(person), role


# --- chat: e-mail notices of unread direct messages ----------------------------------------------------


def _room_mails(*people) -> dict[str, str]:
    return {person.username: _mails_to(person) for person in people}


def test_unread_direct_message_notices_reach_the_rooms_participants_only(audit):
    world = audit.world
    mail.outbox = []
    chat_notices.send_chat_notices(now=timezone.now() + timedelta(hours=1))
    for role in ROLES:
        person = world.user(role)
        if person is None:
            continue
        received = _mails_to(person)
        for key in ("direct", "adhoc", "region", "wg", "theme", "nord_est"):
            if f"audmark{key}msg" in audit.hidden[role]:
                assert f"audmark{key}msg" not in received, (role, key)
    assert "audmarkdirectmsg" in _mails_to(world.user("member")), "the guard: the other participant is told"


def test_no_direct_message_notice_after_the_association_left_the_network(audit):
    """A person whose association was excluded may no longer open their conversations
    (access.can_join_chat_room): the e-mail notice must not carry them out either."""
    world = audit.world
    director, newcomer = fresh(world.user("director")), fresh(world.user("newcomer"))
    room = chat_rooms.open_direct_room(director, newcomer)
    chat_messages.post_message(director, room.pk, "audit-former", f"Pour toi {COMMON} audmarkformerdm.",
                               enforce_rate_limit=False)
    directory_services.set_association_status(Association.objects.get(pk=newcomer.association_id),
                                              Association.Status.FORMER)
    newcomer = fresh(newcomer)
    assert not access.can_join_chat_room(newcomer, kind=room.kind, key=room.key, is_participant=True)
    mail.outbox = []

    chat_notices.send_chat_notices(now=timezone.now() + timedelta(hours=1))

    assert "audmarkformerdm" not in _mails_to(newcomer)
