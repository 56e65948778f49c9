"""Moderation (issue 3, point 6): machina's moderation views log every action; reports; the log.

Topics and posts are created through machina's own views with the test client, moderation goes
through machina's moderation URLs (our subclasses, installed by machina's override recipe).
"""

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from machina.apps.forum_conversation.models import Post, Topic
from machina.apps.forum_permission.models import GroupForumPermission

from directory.roles import ROLE_GROUP_NAMES, Role
from forum import moderation
from forum.models import PostReport
from moderation.models import ModerationEntry
from tests.factories import RoleSpec, make_person

pytestmark = pytest.mark.django_db

Action = ModerationEntry.Action


# --- Building blocks: topics and posts written through machina's views (the tree: root conftest) ---


@pytest.fixture
def theme_forum(forum_tree):
    return forum_tree["theme:financement"]


# The empty attachment and poll formsets that machina's posting forms carry (members may attach
# files and create polls in these forums).
EMPTY_FORMSETS = {
    f"{prefix}-{name}": value for prefix in ("attachment", "poll")
    for name, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"), ("MIN_NUM_FORMS", "0"), ("MAX_NUM_FORMS", "5"))
}


def start_topic(client, user, forum, subject: str, content: str = "Bonjour à toutes et tous.") -> Topic:
    client.force_login(user)
    url = reverse("forum_conversation:topic_create", kwargs={"forum_slug": forum.slug, "forum_pk": forum.pk})
    response = client.post(url, {"subject": subject, "content": content, "topic_type": Topic.TOPIC_POST,
                                 **EMPTY_FORMSETS})
    assert response.status_code == 302, response.content[:2000]
    return Topic.objects.get(subject=subject)


def reply(client, user, topic: Topic, content: str) -> Post:
    client.force_login(user)
    url = reverse("forum_conversation:post_create", kwargs={
        "forum_slug": topic.forum.slug, "forum_pk": topic.forum_id, "topic_slug": topic.slug, "topic_pk": topic.pk})
    response = client.post(url, {"subject": f"Re: {topic.subject}", "content": content, **EMPTY_FORMSETS})
    assert response.status_code == 302, response.content[:2000]
    return Post.objects.filter(topic=topic, poster=user).latest("created")


def topic_url(name: str, topic: Topic) -> str:
    return reverse(f"forum_moderation:{name}", kwargs={"slug": topic.slug, "pk": topic.pk})


def post_delete_url(post: Post) -> str:
    topic = post.topic
    return reverse("forum_conversation:post_delete", kwargs={
        "forum_slug": topic.forum.slug, "forum_pk": topic.forum_id, "topic_slug": topic.slug, "topic_pk": topic.pk,
        "pk": post.pk})


def report_url(pk: int) -> str:
    return reverse("exchange:post-report", kwargs={"pk": pk})


def the_only_entry() -> ModerationEntry:
    entries = list(ModerationEntry.objects.all())
    assert len(entries) == 1, entries
    return entries[0]


@pytest.fixture
def topic(client, theme_forum, member):
    return start_topic(client, member, theme_forum, "Financement des enquêtes sociales rapides",
                       "Comment **financez-vous** les enquêtes sociales rapides ?")


@pytest.fixture
def member_reply(client, topic, director):
    return reply(client, director, topic, "Nous passons par une convention avec la cour d'appel.")


# --- Each moderation action writes one entry, with its actor and reason -----------------------------


@pytest.mark.parametrize(("url_name", "action", "expected"), [
    ("topic_lock", Action.LOCK, {"status": Topic.TOPIC_LOCKED}),
    ("topic_update_to_sticky", Action.PIN, {"type": Topic.TOPIC_STICKY}),
    ("topic_update_to_announce", Action.PIN, {"type": Topic.TOPIC_ANNOUNCE}),
])
def test_a_topic_moderation_by_staff_changes_the_topic_and_writes_one_entry(client, topic, staff, url_name, action,
                                                                             expected):
    client.force_login(staff)
    response = client.post(topic_url(url_name, topic), {"reason": "Sujet de référence pour le réseau."})
    assert response.status_code == 302
    topic.refresh_from_db()
    for field, value in expected.items():
        assert getattr(topic, field) == value
    entry = the_only_entry()
    assert (entry.actor, entry.action, entry.place, entry.topic_id_ref) == (staff, action, topic.forum, topic.pk)
    assert entry.snapshot == topic.subject
    assert entry.reason == "Sujet de référence pour le réseau."


def test_unlocking_writes_its_own_entry(client, topic, staff):
    client.force_login(staff)
    client.post(topic_url("topic_lock", topic), {"reason": "Échanges trop vifs."})
    response = client.post(topic_url("topic_unlock", topic), {"reason": "Le calme est revenu."})
    assert response.status_code == 302
    topic.refresh_from_db()
    assert topic.status == Topic.TOPIC_UNLOCKED
    assert list(ModerationEntry.objects.values_list("action", "reason")) == [
        (Action.UNLOCK, "Le calme est revenu."), (Action.LOCK, "Échanges trop vifs.")]


def test_back_to_a_normal_topic_is_logged_as_unpinning(client, topic, staff):
    client.force_login(staff)
    client.post(topic_url("topic_update_to_sticky", topic))
    response = client.post(topic_url("topic_update_to_post", topic))
    assert response.status_code == 302
    latest = ModerationEntry.objects.first()
    assert (latest.action, latest.detail, latest.reason) == (Action.UNPIN, "Sujet normal", "")


def test_moving_a_topic_logs_where_it_came_from_and_where_it_went(client, topic, staff, forum_tree):
    source, destination = topic.forum, forum_tree["welcome"]
    client.force_login(staff)
    response = client.post(topic_url("topic_move", topic), {"forum": destination.pk, "reason": "Mieux à sa place."})
    assert response.status_code == 302
    topic.refresh_from_db()
    assert topic.forum == destination
    entry = the_only_entry()
    assert (entry.action, entry.actor, entry.place, entry.reason) == (Action.MOVE, staff, source, "Mieux à sa place.")
    assert destination.name in entry.detail


def test_the_move_page_offers_the_other_forums_grouped_by_category(client, topic, staff):
    client.force_login(staff)
    page = client.get(topic_url("topic_move", topic)).content.decode()
    assert '<optgroup label="Accueil des nouveaux adhérents">' in page
    assert "Présentations et premiers pas" in page
    assert f'<option value="{topic.forum_id}"' not in page
    assert "Entre directeurs et directrices" not in page  # staff do not moderate the directors' forum


def test_an_invalid_move_changes_nothing_and_logs_nothing(client, topic, staff):
    client.force_login(staff)
    response = client.post(topic_url("topic_move", topic), {"forum": "", "reason": "Essai"})
    assert response.status_code == 200
    assert not ModerationEntry.objects.exists()


def test_deleting_a_topic_with_a_reason_logs_it_before_it_disappears(client, topic, member_reply, staff):
    topic_pk, subject, forum = topic.pk, topic.subject, topic.forum
    client.force_login(staff)
    response = client.post(topic_url("topic_delete", topic), {"reason": "Données nominatives d'une personne suivie."})
    assert response.status_code == 302
    assert not Topic.objects.filter(pk=topic_pk).exists()
    entry = the_only_entry()
    assert (entry.action, entry.actor, entry.place) == (Action.DELETE_TOPIC, staff, forum)
    assert (entry.topic_id_ref, entry.snapshot) == (topic_pk, subject)
    assert entry.reason == "Données nominatives d'une personne suivie."


@pytest.mark.parametrize("reason", ["", "   "])
def test_deleting_a_topic_without_a_reason_is_refused_and_nothing_is_deleted(client, topic, staff, reason):
    client.force_login(staff)
    response = client.post(topic_url("topic_delete", topic), {"reason": reason})
    assert response.status_code == 200
    assert "Indiquez le motif de la suppression" in response.content.decode()
    assert Topic.objects.filter(pk=topic.pk).exists()
    assert not ModerationEntry.objects.exists()


def test_a_too_long_reason_is_refused(client, topic, staff):
    client.force_login(staff)
    response = client.post(topic_url("topic_lock", topic), {"reason": "x" * 2001})
    assert response.status_code == 200
    topic.refresh_from_db()
    assert topic.status == Topic.TOPIC_UNLOCKED
    assert not ModerationEntry.objects.exists()


def test_the_confirmation_page_asks_for_the_reason_in_french(client, topic, staff):
    client.force_login(staff)
    page = client.get(topic_url("topic_delete", topic)).content.decode()
    assert 'name="reason"' in page
    assert "Motif (obligatoire pour une suppression)" in page
    assert "Motif (facultatif)" in client.get(topic_url("topic_lock", topic)).content.decode()


def test_staff_deleting_someone_elses_post_logs_it(client, member_reply, staff):
    post_pk, topic_pk = member_reply.pk, member_reply.topic_id
    client.force_login(staff)
    response = client.post(post_delete_url(member_reply), {"reason": "Propos blessants."})
    assert response.status_code == 302
    assert not Post.objects.filter(pk=post_pk).exists()
    entry = the_only_entry()
    assert (entry.action, entry.actor, moderation.post_id_ref(entry), entry.topic_id_ref) == (
        Action.DELETE_POST, staff, post_pk, topic_pk)
    assert entry.reason == "Propos blessants."


def test_staff_deleting_a_post_without_a_reason_is_refused(client, member_reply, staff):
    client.force_login(staff)
    response = client.post(post_delete_url(member_reply), {"reason": ""})
    assert response.status_code == 200
    assert "Indiquez le motif de la suppression" in response.content.decode()
    assert Post.objects.filter(pk=member_reply.pk).exists()
    assert not ModerationEntry.objects.exists()


def test_deleting_ones_own_post_is_not_moderation(client, member_reply, director):
    client.force_login(director)
    page = client.get(post_delete_url(member_reply)).content.decode()
    assert 'name="reason"' not in page
    response = client.post(post_delete_url(member_reply))
    assert response.status_code == 302
    assert not Post.objects.filter(pk=member_reply.pk).exists()
    assert not ModerationEntry.objects.exists()


@pytest.fixture
def queued_post(client, topic, theme_forum, director):
    """A reply waiting for approval: members of this forum lose the right to post without it."""
    GroupForumPermission.objects.filter(
        forum=theme_forum, group__name=ROLE_GROUP_NAMES[Role.MEMBER], permission__codename="can_post_without_approval",
    ).update(has_perm=False)
    post = reply(client, director, topic, "Un message qui attend la modération.")
    assert not post.approved
    return post


def test_approving_a_queued_post_publishes_and_logs_it(client, queued_post, staff):
    client.force_login(staff)
    url = reverse("forum_moderation:approve_queued_post", kwargs={"pk": queued_post.pk})
    response = client.post(url, {"reason": "Conforme."})
    assert response.status_code == 302
    queued_post.refresh_from_db()
    assert queued_post.approved
    entry = the_only_entry()
    assert (entry.action, entry.actor, moderation.post_id_ref(entry), entry.reason) == (
        Action.APPROVE, staff, queued_post.pk, "Conforme.")


def test_disapproving_a_queued_post_needs_a_reason_then_deletes_and_logs_it(client, queued_post, staff):
    client.force_login(staff)
    url = reverse("forum_moderation:disapprove_queued_post", kwargs={"pk": queued_post.pk})
    assert client.post(url, {"reason": ""}).status_code == 200
    assert Post.objects.filter(pk=queued_post.pk).exists()
    assert not ModerationEntry.objects.exists()

    response = client.post(url, {"reason": "Hors sujet."})
    assert response.status_code == 302
    assert not Post.objects.filter(pk=queued_post.pk).exists()
    entry = the_only_entry()
    assert (entry.action, moderation.post_id_ref(entry), entry.reason) == (
        Action.DISAPPROVE, queued_post.pk, "Hors sujet.")


def test_the_change_and_its_entry_commit_together(client, topic, staff, monkeypatch):
    def broken_log(*args, **kwargs):
        raise RuntimeError("journal indisponible")

    monkeypatch.setattr(moderation, "log_action", broken_log)
    client.force_login(staff)
    with pytest.raises(RuntimeError):
        client.post(topic_url("topic_lock", topic), {"reason": "Essai"})
    topic.refresh_from_db()
    assert topic.status == Topic.TOPIC_UNLOCKED


# --- Who may moderate ------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", [
    "topic_lock", "topic_unlock", "topic_delete", "topic_move", "topic_update_to_sticky",
    "topic_update_to_announce", "topic_update_to_post",
])
def test_a_member_cannot_moderate_and_nothing_is_logged(client, topic, member_reply, member, url_name, forum_tree):
    client.force_login(member)
    response = client.post(topic_url(url_name, topic), {"reason": "Je voudrais", "forum": forum_tree["welcome"].pk})
    assert response.status_code == 403
    assert Topic.objects.filter(pk=topic.pk, status=Topic.TOPIC_UNLOCKED, type=Topic.TOPIC_POST,
                                forum=topic.forum).exists()
    assert not ModerationEntry.objects.exists()


def test_a_member_cannot_delete_someone_elses_post(client, member_reply, member):
    client.force_login(member)
    assert client.post(post_delete_url(member_reply), {"reason": "Je voudrais"}).status_code == 403
    assert Post.objects.filter(pk=member_reply.pk).exists()
    assert not ModerationEntry.objects.exists()


@pytest.mark.parametrize("who", ["member", "staff"])
def test_moderating_a_forum_one_cannot_read_answers_404(client, forum_tree, director, member, staff, who):
    # Federal staff do not read (nor moderate) the directors' forum.
    directors_topic = start_topic(client, director, forum_tree["direction"], "Entre pairs : la charge mentale")
    client.force_login({"member": member, "staff": staff}[who])
    assert client.post(topic_url("topic_lock", directors_topic), {"reason": "x"}).status_code == 404
    assert client.post(topic_url("topic_delete", directors_topic), {"reason": "x"}).status_code == 404
    assert not ModerationEntry.objects.exists()


# --- Reports --------------------------------------------------------------------------------------------


def test_the_report_page_shows_the_post_and_a_reason_field(client, member_reply, member):
    client.force_login(member)
    response = client.get(report_url(member_reply.pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Signaler un message" in page
    assert 'name="reason"' in page
    assert "convention avec la cour d" in page


def test_reporting_a_post_creates_an_open_report_with_its_forum_and_a_plain_text_excerpt(client, topic, member,
                                                                                         director):
    first_post = topic.first_post
    client.force_login(director)
    response = client.post(report_url(first_post.pk), {"reason": "Ce message cite le nom d'une personne suivie."})
    assert response.status_code == 302
    report = PostReport.objects.get()
    assert (report.post, report.forum, report.reporter, report.status) == (
        first_post, topic.forum, director, PostReport.Status.OPEN)
    assert report.reason == "Ce message cite le nom d'une personne suivie."
    assert report.post_excerpt == "Comment financez-vous les enquêtes sociales rapides ?"


def test_a_second_report_of_the_same_post_by_the_same_person_is_refused(client, member_reply, member):
    client.force_login(member)
    client.post(report_url(member_reply.pk), {"reason": "Propos déplacés."})
    response = client.post(report_url(member_reply.pk), {"reason": "Toujours là."})
    assert response.status_code == 200
    assert "Vous avez déjà signalé ce message." in response.content.decode()
    assert PostReport.objects.count() == 1


def test_another_person_may_report_the_same_post(client, member_reply, member, staff):
    for person in (member, staff):
        client.force_login(person)
        assert client.post(report_url(member_reply.pk), {"reason": "Propos déplacés."}).status_code == 302
    assert PostReport.objects.count() == 2


@pytest.mark.parametrize("reason", ["", "  ", "x" * 2001])
def test_a_report_needs_a_reason_of_at_most_2000_characters(client, member_reply, member, reason):
    client.force_login(member)
    response = client.post(report_url(member_reply.pk), {"reason": reason})
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert not PostReport.objects.exists()


def test_reporting_a_post_one_cannot_read_answers_404_as_for_a_missing_post(client, forum_tree, director, member):
    directors_topic = start_topic(client, director, forum_tree["direction"], "Entre pairs : recrutements")
    client.force_login(member)
    for pk in (directors_topic.first_post_id, 999_999):
        assert client.get(report_url(pk)).status_code == 404
        assert client.post(report_url(pk), {"reason": "Curiosité"}).status_code == 404
    assert not PostReport.objects.exists()


def test_the_report_link_points_to_the_report_page_except_on_ones_own_post(member_reply, member, director):
    link = render_to_string("forum/moderation/report_link.html", {"post": member_reply, "user": member})
    assert report_url(member_reply.pk) in link
    assert render_to_string("forum/moderation/report_link.html", {"post": member_reply, "user": director}).strip() == ""


# --- The reports queue ---------------------------------------------------------------------------------


@pytest.fixture
def report(member_reply, member):
    return moderation.report_post(member, member_reply, "Propos blessants envers un collègue.")


QUEUE_URL = "/forum/moderation/signalements/"
LOG_URL = "/forum/moderation/journal/"


def test_the_queue_url_is_stable():
    assert reverse("exchange:report-queue") == QUEUE_URL
    assert reverse("exchange:moderation-log") == LOG_URL


def test_staff_see_open_reports_with_excerpt_reporter_and_reason(client, report, staff, member):
    client.force_login(staff)
    response = client.get(QUEUE_URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Propos blessants envers un collègue." in page
    assert "convention avec la cour d" in page
    assert member.get_full_name() in page
    assert f"?post={report.post_id}#{report.post_id}" in page
    assert "Clore" in page


@pytest.mark.parametrize("who", ["member", "director", "president"])
def test_people_who_moderate_no_forum_get_403_on_the_queue(client, who, member, director, president):
    client.force_login({"member": member, "director": director, "president": president}[who])
    assert client.get(QUEUE_URL).status_code == 403


def test_the_queue_has_an_empty_state(client, forum_tree, staff):
    client.force_login(staff)
    assert "Aucun signalement à traiter." in client.get(QUEUE_URL).content.decode()


def test_reports_of_a_forum_staff_do_not_moderate_stay_out_of_their_queue(client, forum_tree, director, staff):
    colleague = make_person("directeur.pair", association=director.association, roles=[RoleSpec(Role.DIRECTOR)])
    directors_topic = start_topic(client, director, forum_tree["direction"], "Entre pairs : un conflit")
    private_report = moderation.report_post(colleague, directors_topic.first_post, "Ton inapproprié.")
    client.force_login(staff)
    assert "Entre pairs" not in client.get(QUEUE_URL).content.decode()
    close_url = reverse("exchange:report-close", kwargs={"pk": private_report.pk})
    assert client.post(close_url, {"resolution": "Vu."}).status_code == 404
    assert PostReport.objects.get(pk=private_report.pk).status == PostReport.Status.OPEN


def test_closing_a_report_records_the_resolution_and_logs_it(client, report, staff):
    client.force_login(staff)
    close_url = reverse("exchange:report-close", kwargs={"pk": report.pk})
    response = client.post(close_url, {"resolution": "Message reformulé avec son auteur."})
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.handled_by, report.resolution) == (
        PostReport.Status.CLOSED, staff, "Message reformulé avec son auteur.")
    assert report.handled_at is not None
    entry = the_only_entry()
    assert (entry.action, entry.actor, moderation.post_id_ref(entry), entry.place) == (
        Action.REPORT_CLOSED, staff, report.post_id, report.forum)
    assert entry.reason == "Message reformulé avec son auteur."
    assert "Propos blessants" not in client.get(QUEUE_URL).content.decode()


def test_closing_a_closed_report_again_changes_nothing(client, report, staff):
    client.force_login(staff)
    close_url = reverse("exchange:report-close", kwargs={"pk": report.pk})
    client.post(close_url, {"resolution": "Traité."})
    response = client.post(close_url, {"resolution": "Traité deux fois."})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.resolution == "Traité."
    assert ModerationEntry.objects.count() == 1


def test_closing_a_report_needs_a_resolution(client, report, staff):
    client.force_login(staff)
    response = client.post(reverse("exchange:report-close", kwargs={"pk": report.pk}), {"resolution": ""})
    assert response.status_code == 200
    assert "Indiquez la suite donnée au signalement." in response.content.decode()
    report.refresh_from_db()
    assert report.status == PostReport.Status.OPEN
    assert not ModerationEntry.objects.exists()


def test_a_member_cannot_close_a_report(client, report, member):
    client.force_login(member)
    assert client.post(reverse("exchange:report-close", kwargs={"pk": report.pk}),
                       {"resolution": "Vu."}).status_code == 403
    report.refresh_from_db()
    assert report.status == PostReport.Status.OPEN


def test_a_report_of_a_post_deleted_since_stays_in_the_queue_with_its_excerpt(client, report, member_reply, staff):
    client.force_login(staff)
    client.post(post_delete_url(member_reply), {"reason": "Suite au signalement."})
    page = client.get(QUEUE_URL).content.decode()
    assert "Message supprimé depuis le signalement" in page
    assert "convention avec la cour d" in page


# --- The moderation log ---------------------------------------------------------------------------------


def test_the_log_shows_who_what_when_and_why_to_staff(client, topic, staff):
    client.force_login(staff)
    client.post(topic_url("topic_lock", topic), {"reason": "Échanges trop vifs."})
    response = client.get(LOG_URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Journal de modération" in page
    assert staff.get_full_name() in page
    assert "Verrouillage" in page
    assert topic.subject in page
    assert "Échanges trop vifs." in page


@pytest.mark.parametrize("who", ["member", "director", "president"])
def test_the_log_is_for_federal_staff_only(client, forum_tree, who, member, director, president):
    client.force_login({"member": member, "director": director, "president": president}[who])
    assert client.get(LOG_URL).status_code == 403


def test_anonymous_visitors_are_sent_to_login(client):
    assert client.get(LOG_URL).status_code == 302
    assert client.get(QUEUE_URL).status_code == 302
    assert client.get(report_url(1)).status_code == 302


def test_the_log_has_an_empty_state(client, forum_tree, staff):
    client.force_login(staff)
    assert "Le journal de modération est vide." in client.get(LOG_URL).content.decode()


def test_the_forum_log_leaves_the_chat_entries_out(client, forum_tree, staff):
    ModerationEntry.objects.create(actor=staff, action=Action.DELETE_CHAT_MESSAGE, reason="Motif du salon",
                                   snapshot="Propos du salon")
    client.force_login(staff)

    page = client.get(LOG_URL).content.decode()

    assert "Le journal de modération est vide." in page
    assert "Propos du salon" not in page and Action.DELETE_CHAT_MESSAGE.value not in page


def test_the_log_filters_by_action(client, topic, staff):
    moderation.log_action(staff, Action.LOCK, topic=topic, reason="Verrouillé pour l'exemple")
    moderation.log_action(staff, Action.PIN, topic=topic, reason="Épinglé pour l'exemple")
    client.force_login(staff)
    response = client.get(LOG_URL, {"action": Action.PIN})
    assert [row["entry"].action for row in response.context["rows"]] == [Action.PIN]
    assert "Verrouillé pour l'exemple" not in response.content.decode()


def test_the_log_shows_50_entries_a_page(client, topic, staff):
    for number in range(51):
        moderation.log_action(staff, Action.LOCK, topic=topic, reason=f"motif {number}")
    client.force_login(staff)
    assert len(client.get(LOG_URL).context["rows"]) == 50
    second = client.get(LOG_URL, {"page": 2})
    assert [row["entry"].reason for row in second.context["rows"]] == ["motif 0"]


def test_the_log_leaves_out_forums_the_reader_cannot_read(client, forum_tree, staff):
    moderation.log_action(None, Action.LOCK, forum=forum_tree["direction"], subject="Entre pairs : secret")
    client.force_login(staff)
    assert "Entre pairs : secret" not in client.get(LOG_URL).content.decode()


def test_forum_pages_link_to_reports_and_log_for_staff_only(client, forum_tree, staff, member):
    client.force_login(staff)
    page = client.get("/forum/").content.decode()
    assert QUEUE_URL in page and LOG_URL in page
    client.force_login(member)
    page = client.get("/forum/").content.decode()
    assert QUEUE_URL not in page and LOG_URL not in page


# --- Query counts do not grow with the rows ---------------------------------------------------------------


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_the_queue_query_count_does_not_grow_with_reports(client, topic, member, director, staff, settings,
                                                          django_assert_max_num_queries):
    settings.FORUM_POSTING_RATE_LIMIT = 0  # 30 replies in a row, above the posting limit (core/ratelimit.py)
    posts = [reply(client, member, topic, f"Réponse numéro {number}") for number in range(30)]
    for post in posts[:3]:
        moderation.report_post(director, post, "Propos déplacés.")
    client.force_login(staff)
    client.get(QUEUE_URL)  # warm-up: per-process caches (content types…)
    baseline = count_queries(client, QUEUE_URL)
    for post in posts[3:]:
        moderation.report_post(director, post, "Propos déplacés.")
    with django_assert_max_num_queries(baseline):
        response = client.get(QUEUE_URL)
    assert len(response.context["rows"]) == 30


def test_the_log_query_count_does_not_grow_with_entries(client, forum_tree, member, staff, director, settings,
                                                        django_assert_max_num_queries):
    settings.FORUM_POSTING_RATE_LIMIT = 0  # 30 topics in a row, above the posting limit (core/ratelimit.py)
    forums = [forum_tree["theme:financement"], forum_tree["welcome"], forum_tree["region:sud-ouest"]]
    topics = [start_topic(client, member, forums[n % 3], f"Sujet à modérer {n}") for n in range(30)]
    actors = [staff, make_person("equipe.deux", roles=[RoleSpec(Role.FEDERAL_STAFF)], is_staff=True)]

    def log(rows):
        for number in rows:
            moderation.log_action(actors[number % 2], Action.LOCK, topic=topics[number], reason=f"motif {number}")

    log(range(3))
    client.force_login(staff)
    client.get(LOG_URL)
    baseline = count_queries(client, LOG_URL)
    log(range(3, 30))
    with django_assert_max_num_queries(baseline):
        response = client.get(LOG_URL)
    assert len(response.context["rows"]) == 30
