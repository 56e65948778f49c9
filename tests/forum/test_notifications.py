"""Forum notifications: subscriptions, mentions, e-mails at once or in a daily digest, the in-site list."""

import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from machina.apps.forum_conversation.models import Post, Topic

from directory import services as directory_services
from directory.models import NotificationFrequency
from forum import notifications, selectors, services
from forum.models import ForumSubscription, Notification
from tests.factories import Role, RoleSpec, make_person

pytestmark = pytest.mark.django_db

THEME = "theme:financement"
# The empty attachment and poll formsets that machina's posting forms carry in these forums.
EMPTY_FORMSETS = {
    f"{prefix}-{name}": value for prefix in ("attachment", "poll")
    for name, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"), ("MIN_NUM_FORMS", "0"), ("MAX_NUM_FORMS", "5"))
}


@pytest.fixture
def other_director(association):
    return make_person("directeur.second", association=association, roles=[RoleSpec(Role.DIRECTOR)],
                       first_name="Marc", last_name="Second")


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run the after-commit callbacks (the notification tasks) of what happens inside the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def create_topic(client, author, forum, subject, content, run_on_commit) -> Topic:
    """Open a topic through machina's own view, as a member would."""
    client.force_login(author)
    url = reverse("forum_conversation:topic_create", kwargs={"forum_slug": forum.slug, "forum_pk": forum.pk})
    with run_on_commit():
        response = client.post(url, {"subject": subject, "content": content, "topic_type": Topic.TOPIC_POST,
                                     **EMPTY_FORMSETS})
    assert response.status_code == 302, response.content[:2000]
    return Topic.objects.get(forum=forum, subject=subject)


def reply(client, author, topic, content, run_on_commit) -> Post:
    """Reply through machina's own view."""
    client.force_login(author)
    url = reverse("forum_conversation:post_create", kwargs={
        "forum_slug": topic.forum.slug, "forum_pk": topic.forum_id, "topic_slug": topic.slug, "topic_pk": topic.pk})
    with run_on_commit():
        response = client.post(url, {"subject": f"Re: {topic.subject}", "content": content, **EMPTY_FORMSETS})
    assert response.status_code == 302, response.content[:2000]
    return Post.objects.filter(topic=topic).latest("pk")


def follow_forum(client, person, forum):
    client.force_login(person)
    url = reverse("exchange:forum-subscription-toggle", args=[forum.pk])
    return client.post(url, {"action": "follow"})


# --- Topic and forum subscriptions ------------------------------------------------------------------


def test_a_topic_subscriber_is_notified_and_emailed_of_a_reply_but_never_the_author(
        client, forum_tree, director, member, run_on_commit):
    topic = create_topic(client, director, forum_tree[THEME], "Budget prévisionnel d'une association",
                         "Comment faites-vous ?", run_on_commit)
    topic.subscribers.add(member, director)
    mail.outbox.clear()

    post = reply(client, director, topic, "Voici **notre** méthode : <script>x</script> un tableau partagé.",
                 run_on_commit)

    notification = Notification.objects.get()
    assert (notification.recipient, notification.kind, notification.post) == (member, "reply", post)
    assert notification.emailed_at is not None
    assert [m.to for m in mail.outbox] == [[member.email]]
    message = mail.outbox[0]
    assert "Budget prévisionnel d'une association" in message.subject
    assert "Directrice Testeur" in message.body
    assert "Voici notre méthode" in message.body and "<strong>" not in message.body and "<script" not in message.body
    assert reverse("exchange:notification-open", args=[notification.pk]) in message.body
    assert reverse("exchange:notification-preferences") in message.body
    assert "désabonner" in message.body


def test_subscribing_through_machinas_topic_view_then_a_reply_notifies(
        client, forum_tree, director, member, run_on_commit):
    topic = create_topic(client, director, forum_tree[THEME], "Convention avec le SPIP", "Un modèle ?", run_on_commit)
    client.force_login(member)
    assert client.post(reverse("forum_member:topic_subscribe", args=[topic.pk])).status_code == 302

    reply(client, director, topic, "Voici le nôtre.", run_on_commit)

    assert list(Notification.objects.values_list("recipient__username", "kind")) == [(member.username, "reply")]


def test_a_forum_subscriber_hears_of_a_new_topic(client, forum_tree, director, member, run_on_commit):
    assert follow_forum(client, member, forum_tree[THEME]).status_code == 302
    assert ForumSubscription.objects.filter(user=member, forum=forum_tree[THEME]).exists()

    topic = create_topic(client, director, forum_tree[THEME], "Appel à projets régional", "Qui répond ?", run_on_commit)

    notification = Notification.objects.get(recipient=member)
    assert (notification.kind, notification.topic) == ("new_topic", topic)
    assert [m.to for m in mail.outbox] == [[member.email]]
    assert "Nouveau sujet" in mail.outbox[0].subject and "Appel à projets régional" in mail.outbox[0].subject


def test_the_follow_button_shows_on_a_forum_page_and_toggles(client, forum_tree, member):
    forum = forum_tree[THEME]
    client.force_login(member)
    forum_url = reverse("forum:forum", kwargs={"slug": forum.slug, "pk": forum.pk})
    assert "Suivre ce forum" in client.get(forum_url).content.decode()

    response = client.post(reverse("exchange:forum-subscription-toggle", args=[forum.pk]), {"next": forum_url})
    assert response.status_code == 302 and response["Location"] == forum_url
    assert "Ne plus suivre ce forum" in client.get(forum_url).content.decode()

    client.post(reverse("exchange:forum-subscription-toggle", args=[forum.pk]))
    assert not ForumSubscription.objects.filter(user=member).exists()


def test_following_a_forum_one_cannot_read_a_category_or_nothing_is_a_404(client, forum_tree, member):
    client.force_login(member)
    for forum_pk in (forum_tree["direction"].pk, forum_tree["cat:themes"].pk, 999_999):
        response = client.post(reverse("exchange:forum-subscription-toggle", args=[forum_pk]), {"action": "follow"})
        assert response.status_code == 404
    assert not ForumSubscription.objects.exists()


def test_the_subscriptions_page_lists_forums_and_topics_with_unsubscribe_buttons(
        client, forum_tree, director, member, run_on_commit):
    topic = create_topic(client, director, forum_tree[THEME], "Fiches de poste", "Partage", run_on_commit)
    topic.subscribers.add(member)
    follow_forum(client, member, forum_tree["welcome"])

    page = client.get(reverse("exchange:subscription-list")).content.decode()
    assert "Fiches de poste" in page and forum_tree["welcome"].name in page

    response = client.post(reverse("exchange:topic-unsubscribe", args=[topic.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("exchange:subscription-list")
    assert not topic.subscribers.filter(pk=member.pk).exists()
    client.post(reverse("exchange:forum-subscription-toggle", args=[forum_tree["welcome"].pk]), {"action": "unfollow"})
    page = client.get(reverse("exchange:subscription-list")).content.decode()
    assert "Vous ne suivez aucun forum" in page and "Vous ne suivez aucun sujet" in page


# --- Mentions -----------------------------------------------------------------------------------------


def test_a_mention_notifies_the_mentioned_member(client, forum_tree, director, member, run_on_commit):
    create_topic(client, director, forum_tree[THEME], "Question pour une collègue",
                 "Bonjour @intervenant.test, tu as un avis ?", run_on_commit)

    notification = Notification.objects.get()
    assert (notification.recipient, notification.kind) == (member, "mention")
    assert "mentionné·e" in mail.outbox[0].subject


def test_mentioning_a_president_in_the_directors_forum_notifies_nobody(
        client, forum_tree, director, president, run_on_commit):
    create_topic(client, director, forum_tree["direction"], "Entre nous", "Faut-il en parler à @president.test ?",
                 run_on_commit)

    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_a_mention_and_a_subscription_give_one_notification_of_kind_mention(
        client, forum_tree, director, member, run_on_commit):
    follow_forum(client, member, forum_tree[THEME])
    create_topic(client, director, forum_tree[THEME], "Sujet", "Qu'en penses-tu @Intervenant.test ?", run_on_commit)

    assert list(Notification.objects.values_list("recipient_id", "kind")) == [(member.pk, "mention")]
    assert len(mail.outbox) == 1


def test_editing_a_post_notifies_only_members_newly_mentioned(
        client, forum_tree, director, member, president, run_on_commit):
    topic = create_topic(client, director, forum_tree[THEME], "Sujet", "Premier jet.", run_on_commit)
    post = topic.first_post
    with run_on_commit():
        post.content = "Premier jet, relu par @intervenant.test et @president.test."
        post.save()
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "intervenant.test", "president.test"]
    with run_on_commit():
        post.content = "Premier jet, relu par @intervenant.test et @president.test. Merci !"
        post.save()
    assert Notification.objects.count() == 2


@pytest.mark.parametrize(("raw", "expected"), [
    ("Bonjour @dupont et @martin.b !", ["dupont", "martin.b"]),
    ("Merci @dupont.", ["dupont"]),
    ("Écrire à jean@exemple.org", []),
    ("Voir `@dupont` et\n```\n@martin\n```\npuis @durand", ["durand"]),
    ("@dupont @DUPONT @dupont", ["dupont"]),
    ("https://exemple.org/@dupont", []),
])
def test_mentions_are_found_outside_code_and_email_addresses(raw, expected):
    assert notifications.extract_mentions(raw) == expected


# --- Access ------------------------------------------------------------------------------------------


def test_a_person_who_lost_access_gets_nothing_and_no_longer_sees_the_old_title(
        client, forum_tree, director, other_director, run_on_commit):
    follow_forum(client, other_director, forum_tree["direction"])
    create_topic(client, director, forum_tree["direction"], "Licenciement délicat", "Besoin de conseils.",
                 run_on_commit)
    old = Notification.objects.get(recipient=other_director)

    with run_on_commit():
        directory_services.revoke_role(other_director, RoleSpec(Role.DIRECTOR))
    mail.outbox.clear()
    create_topic(client, director, forum_tree["direction"], "Recrutement d'un adjoint", "Vos pratiques ?",
                 run_on_commit)

    assert Notification.objects.filter(recipient=other_director).count() == 1
    assert mail.outbox == []
    client.force_login(other_director)
    page = client.get(reverse("exchange:notification-list")).content.decode()
    assert "Licenciement" not in page and "Recrutement" not in page
    assert "Aucune notification" in page
    assert client.get(reverse("exchange:notification-open", args=[old.pk])).status_code == 404
    assert '<span class="badge">' not in page  # no longer counted as unread
    assert "Licenciement" not in client.get(reverse("exchange:subscription-list")).content.decode()


def test_an_unapproved_post_notifies_nobody_until_a_moderator_approves_it(
        client, forum_tree, director, member, staff, run_on_commit):
    topic = create_topic(client, director, forum_tree[THEME], "Sujet modéré", "Début.", run_on_commit)
    topic.subscribers.add(member)
    with run_on_commit():
        pending = Post.objects.create(topic=topic, poster=director, subject="Re", content="En attente.",
                                      approved=False)
    assert not Notification.objects.exists()

    client.force_login(staff)
    with run_on_commit():
        response = client.post(reverse("forum_moderation:approve_queued_post", args=[pending.pk]))
    assert response.status_code == 302

    notification = Notification.objects.get()
    assert (notification.recipient, notification.post) == (member, pending)


def test_notifying_the_same_post_twice_creates_and_sends_nothing_more(
        client, forum_tree, director, member, run_on_commit):
    follow_forum(client, member, forum_tree[THEME])
    topic = create_topic(client, director, forum_tree[THEME], "Sujet", "Texte.", run_on_commit)

    assert notifications.notify_post(topic.first_post_id) == []
    assert Notification.objects.count() == 1 and len(mail.outbox) == 1


def test_a_meeting_thread_notifies_its_audience_in_site_without_a_second_email(
        forum_tree, staff, president, django_capture_on_commit_callbacks):
    start = timezone.now() + timedelta(days=10)
    with django_capture_on_commit_callbacks(execute=True):
        services.create_meeting(staff, services.MeetingData(
            title="Réunion nationale d'automne", starts_at=start, ends_at=start + timedelta(hours=2), place="Paris"))

    notification = Notification.objects.get()
    assert (notification.recipient, notification.kind) == (president, "meeting")
    assert [m.subject for m in mail.outbox] == ["Invitation : Réunion nationale d'automne"]


# --- Frequencies and digest -----------------------------------------------------------------------------


def test_a_daily_person_gets_no_immediate_mail_but_one_digest_and_only_once(
        client, forum_tree, director, member, run_on_commit):
    notifications.set_notification_frequency(member, NotificationFrequency.DAILY)
    follow_forum(client, member, forum_tree[THEME])
    create_topic(client, director, forum_tree[THEME], "Premier sujet du jour", "Texte.", run_on_commit)
    create_topic(client, director, forum_tree[THEME], "Second sujet du jour", "Texte.", run_on_commit)
    assert Notification.objects.filter(recipient=member).count() == 2
    assert mail.outbox == []

    output = io.StringIO()
    call_command("send_notification_digests", stdout=output)
    assert "1 résumé(s) envoyé(s)" in output.getvalue()

    assert [m.to for m in mail.outbox] == [[member.email]]
    digest = mail.outbox[0]
    assert "résumé quotidien" in digest.subject
    assert "Premier sujet du jour" in digest.body and "Second sujet du jour" in digest.body
    assert reverse("exchange:notification-preferences") in digest.body
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()

    assert notifications.send_digests() == 0
    assert len(mail.outbox) == 1


def test_the_digest_only_lists_the_last_24_hours(client, forum_tree, director, member, run_on_commit):
    notifications.set_notification_frequency(member, NotificationFrequency.DAILY)
    follow_forum(client, member, forum_tree[THEME])
    create_topic(client, director, forum_tree[THEME], "Sujet ancien", "Texte.", run_on_commit)
    Notification.objects.update(created_at=timezone.now() - timedelta(hours=30))

    assert notifications.send_digests() == 0


def test_the_digest_leaves_out_forums_the_person_can_no_longer_read(
        client, forum_tree, director, other_director, run_on_commit):
    notifications.set_notification_frequency(other_director, NotificationFrequency.DAILY)
    follow_forum(client, other_director, forum_tree["direction"])
    create_topic(client, director, forum_tree["direction"], "Sujet confidentiel", "Texte.", run_on_commit)
    directory_services.revoke_role(other_director, RoleSpec(Role.DIRECTOR))

    assert notifications.send_digests() == 0
    assert mail.outbox == []


def test_a_never_person_gets_notifications_in_site_only(client, forum_tree, director, member, run_on_commit):
    notifications.set_notification_frequency(member, NotificationFrequency.NEVER)
    follow_forum(client, member, forum_tree[THEME])
    create_topic(client, director, forum_tree[THEME], "Sujet discret", "Texte.", run_on_commit)
    notifications.send_digests()

    assert Notification.objects.filter(recipient=member).count() == 1
    assert mail.outbox == []
    client.force_login(member)
    assert "Sujet discret" in client.get(reverse("exchange:notification-list")).content.decode()


def test_the_preferences_page_records_the_frequency(client, member):
    client.force_login(member)
    url = reverse("exchange:notification-preferences")
    page = client.get(url).content.decode()
    assert "Un résumé quotidien" in page
    assert re.search(r'<input[^>]*value="immediate"[^>]*checked', page)

    response = client.post(url, {"notification_frequency": "daily"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.notification_frequency == "daily"
    assert client.post(url, {"notification_frequency": "hourly"}).status_code == 200
    member.refresh_from_db()
    assert member.notification_frequency == "daily"


# --- In-site list ----------------------------------------------------------------------------------------


def make_notifications(recipient, author, forum, count: int) -> list[Notification]:
    """`count` posts by `author` in one topic of `forum`, each notified to `recipient` (no task run)."""
    with notifications.muted():
        topic = Topic.objects.create(forum=forum, subject="Sujet très suivi", poster=author,
                                     type=Topic.TOPIC_POST, status=Topic.TOPIC_UNLOCKED, approved=True)
        posts = [Post.objects.create(topic=topic, poster=author, subject="Re", content=f"Réponse {i}")
                 for i in range(count)]
    return Notification.objects.bulk_create([
        Notification(recipient=recipient, actor=author, kind="reply", topic=topic, post=post) for post in posts
    ])


def test_the_unread_count_shows_in_the_navigation(client, forum_tree, director, member):
    make_notifications(member, director, forum_tree[THEME], 3)
    client.force_login(member)

    page = client.get("/forum/").content.decode()

    assert '<span class="badge">3<span class="visually-hidden"> non lues</span></span>' in page


def test_the_list_highlights_unread_notifications_newest_first(client, forum_tree, director, member):
    first, second = make_notifications(member, director, forum_tree[THEME], 2)
    Notification.objects.filter(pk=first.pk).update(read_at=timezone.now())
    client.force_login(member)

    response = client.get(reverse("exchange:notification-list"))

    items = response.context["items"]
    assert [item["notification"].pk for item in items] == [second.pk, first.pk]
    assert [item["unread"] for item in items] == [True, False]
    assert response.content.decode().count("notification--unread") == 1


def test_mark_all_read(client, forum_tree, director, member):
    make_notifications(member, director, forum_tree[THEME], 3)
    client.force_login(member)

    response = client.post(reverse("exchange:notification-mark-all-read"))

    assert response.status_code == 302
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert '<span class="badge">' not in client.get(reverse("exchange:notification-list")).content.decode()


def test_opening_a_notification_marks_it_read_and_goes_to_the_post(client, forum_tree, director, member, president):
    (notification,) = make_notifications(member, director, forum_tree[THEME], 1)
    client.force_login(president)
    assert client.get(reverse("exchange:notification-open", args=[notification.pk])).status_code == 404

    client.force_login(member)
    response = client.get(reverse("exchange:notification-open", args=[notification.pk]))

    post_id = notification.post_id
    assert response.status_code == 302
    assert response["Location"] == f"{selectors.topic_url(notification.topic)}?post={post_id}#{post_id}"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_the_list_runs_as_many_queries_for_30_notifications_as_for_3(
        client, forum_tree, director, member, django_assert_max_num_queries):
    make_notifications(member, director, forum_tree[THEME], 3)
    client.force_login(member)
    url = reverse("exchange:notification-list")
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as three:
        assert client.get(url).status_code == 200

    make_notifications(member, director, forum_tree["welcome"], 27)
    with django_assert_max_num_queries(len(three.captured_queries)):
        response = client.get(url)
    assert len(response.context["items"]) == notifications.NOTIFICATIONS_PER_PAGE


def test_the_list_is_for_members_only(client, candidate_person):
    assert client.get(reverse("exchange:notification-list")).status_code == 302
    client.force_login(candidate_person)
    assert client.get(reverse("exchange:notification-list")).status_code == 403


# --- Mention autocomplete ---------------------------------------------------------------------------------


@pytest.fixture
def helene(association):
    return make_person("helene.dupre", association=association, roles=[RoleSpec(Role.MEMBER)],
                       first_name="Hélène", last_name="Dupré")


def test_autocomplete_finds_members_by_name_ignoring_case_and_accents(client, member, helene):
    client.force_login(member)
    url = reverse("exchange:mention-search")
    for query in ("dup", "DUPRE", "hélè", "helene", "helene.d", "Hélène Dupr"):
        response = client.get(url, {"q": query})
        assert response.status_code == 200
        assert response.json() == [{"username": "helene.dupre", "name": "Hélène Dupré",
                                    "association": helene.association.name}], query


def test_autocomplete_returns_at_most_8_active_members(client, association, member, candidate_person):
    for i in range(10):
        make_person(f"dupont.{i}", association=association, roles=[RoleSpec(Role.MEMBER)], last_name="Dupont")
    gone = make_person("dupont.parti", association=association, roles=[RoleSpec(Role.MEMBER)], last_name="Aadupont")
    gone.is_active = False
    gone.save(update_fields=["is_active"])  # left the network, groups not yet resynced
    client.force_login(member)

    results = client.get(reverse("exchange:mention-search"), {"q": "dupont"}).json()

    assert len(results) == 8
    assert "dupont.parti" not in {r["username"] for r in results}
    assert client.get(reverse("exchange:mention-search"), {"q": "candidat"}).json() == []


def test_autocomplete_short_long_and_anonymous_queries(client, member):
    url = reverse("exchange:mention-search")
    assert client.get(url, {"q": "du"}).status_code == 302  # anonymous: to the login page

    client.force_login(member)
    assert client.get(url, {"q": "d"}).json() == []
    assert client.get(url).json() == []
    assert client.get(url, {"q": "x" * 101}).status_code == 400


def test_the_post_editor_pages_load_the_mention_script(client, forum_tree, director, run_on_commit):
    topic = create_topic(client, director, forum_tree[THEME], "Sujet", "Texte.", run_on_commit)
    forum = forum_tree[THEME]
    for url in (
        reverse("forum_conversation:topic_create", kwargs={"forum_slug": forum.slug, "forum_pk": forum.pk}),
        reverse("forum_conversation:post_create", kwargs={
            "forum_slug": forum.slug, "forum_pk": forum.pk, "topic_slug": topic.slug, "topic_pk": topic.pk}),
        reverse("forum_conversation:topic_update", kwargs={
            "forum_slug": forum.slug, "forum_pk": forum.pk, "slug": topic.slug, "pk": topic.pk}),
    ):
        page = client.get(url).content.decode()
        assert "js/mentions.js" in page and 'data-mentions-url="/forum/mentions/"' in page, url
        assert 'id="id_content"' in page
