"""Our forum pages: inside the site's layout, in French, unread topics marked, private titles never
shown, and the dashboard's forum panels (upcoming meetings, latest topics) per role."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from machina.apps.forum_conversation.models import Post, Topic

from forum import selectors, services
from forum.services import MeetingData
from tests.factories import Role, RoleSpec, make_person

pytestmark = pytest.mark.django_db

THEME = "theme:financement"
DIRECTORS_FORUM = "Entre directeurs et directrices"
# The empty attachment and poll formsets that machina's posting forms carry.
EMPTY_FORMSETS = {
    f"{prefix}-{name}": value for prefix in ("attachment", "poll")
    for name, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"), ("MIN_NUM_FORMS", "0"), ("MAX_NUM_FORMS", "5"))
}
# machina's English (or awkward French) strings that our templates replace.
MACHINA_STRINGS = ["Post reply", "Subscribe", "By:", "Par:", "Souscrire", "Mark forums read", "New topic",
                   "Last post", "Topic review", "Post a new topic", "View unread topics", "Go to the page",
                   "unread topic", "comme 'lu'", "Are you sure", "Voir les sujets non lu<"]


@pytest.fixture
def other_director(association):
    return make_person("directeur.second", association=association, roles=[RoleSpec(Role.DIRECTOR)])


def add_topic(forum, author, subject: str, content: str = "Bonjour à toutes et tous.", replies: int = 0) -> Topic:
    topic = Topic.objects.create(forum=forum, subject=subject, poster=author, type=Topic.TOPIC_POST,
                                 status=Topic.TOPIC_UNLOCKED, approved=True)
    Post.objects.create(topic=topic, poster=author, subject=subject, content=content, approved=True)
    for number in range(replies):
        Post.objects.create(topic=topic, poster=author, subject=f"Re: {subject}", content=f"Réponse {number}.",
                            approved=True)
    topic.refresh_from_db()
    return topic


def forum_url(forum) -> str:
    return reverse("forum:forum", kwargs={"slug": forum.slug, "pk": forum.pk})


def create_url(forum) -> str:
    return reverse("forum_conversation:topic_create", kwargs={"forum_slug": forum.slug, "forum_pk": forum.pk})


def reply_url(topic) -> str:
    return reverse("forum_conversation:post_create", kwargs={
        "forum_slug": topic.forum.slug, "forum_pk": topic.forum_id, "topic_slug": topic.slug, "topic_pk": topic.pk})


def topic_row(html: str, subject: str) -> str:
    """The table row (<tr>…</tr>) of a topic list that names `subject`."""
    rows = [row for row in re.findall(r"<tr\b.*?</tr>", html, flags=re.S) if subject in row]
    assert len(rows) == 1, f"{len(rows)} rows for {subject!r}"
    return rows[0]


def is_marked_unread(row: str) -> bool:
    return "is-unread" in row and '<span class="badge badge--unread">non lu</span>' in row


def meeting(staff, title: str, *, days: int, audience: str = "president"):
    start = timezone.now().replace(microsecond=0) + timedelta(days=days)
    return services.create_meeting(staff, MeetingData(title=title, starts_at=start, ends_at=start + timedelta(hours=3),
                                                      place="Maison des associations, Bordeaux", audience=audience))


# --- Layout and language --------------------------------------------------------------------------


def test_forum_pages_render_in_french_inside_the_site_layout(client, forum_tree, director, other_director):
    forum = forum_tree["direction"]
    topic = add_topic(forum, director, "Recrutement d'un chef de service")
    add_topic(forum, other_director, "Convention collective : avenant 2026")
    client.force_login(director)
    pages = [
        "/forum/",
        forum_url(forum),
        forum_url(forum.parent),
        selectors.topic_url(topic),
        create_url(forum),
        reply_url(topic),
        reverse("forum_conversation:topic_update", kwargs={
            "forum_slug": forum.slug, "forum_pk": forum.pk, "slug": topic.slug, "pk": topic.pk}),
        reverse("forum_tracking:unread_topics"),
        reverse("forum_tracking:mark_all_forums_read"),
        reverse("forum_tracking:mark_topics_read", kwargs={"pk": forum.pk}),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert '<html lang="fr">' in html, url
        assert 'aria-label="Navigation principale"' in html, url
        assert 'class="site-footer"' in html, url
        assert "Fil d’Ariane du forum" in html, url
        for english in MACHINA_STRINGS:
            assert english not in html, (url, english)
    unread_page = client.get(reverse("forum_tracking:unread_topics")).content.decode()
    assert is_marked_unread(topic_row(unread_page, "Convention collective : avenant 2026"))


def test_the_topic_page_shows_each_message_as_an_article_with_author_date_and_actions(client, forum_tree, director,
                                                                                        member):
    forum = forum_tree[THEME]
    topic = add_topic(forum, director, "Budget prévisionnel 2026")
    reply = Post.objects.create(topic=topic, poster=member, subject="Re: Budget prévisionnel 2026",
                                content="Nous utilisons un **tableur** partagé.", approved=True)
    client.force_login(director)
    html = client.get(selectors.topic_url(topic)).content.decode()

    assert html.count('<article class="post') == 2
    assert html.count('<time datetime="') >= 2
    assert "<strong>tableur</strong>" in html
    # One's own message can be edited, another's reported (the moderation team's link).
    assert reverse("forum_conversation:topic_update", kwargs={
        "forum_slug": forum.slug, "forum_pk": forum.pk, "slug": topic.slug, "pk": topic.pk}) in html
    assert reverse("exchange:post-report", kwargs={"pk": reply.pk}) in html
    assert reverse("exchange:post-report", kwargs={"pk": topic.first_post_id}) not in html
    # Following is a state change: a button in a POST form, not a link.
    assert f'action="{reverse("forum_member:topic_subscribe", kwargs={"pk": topic.pk})}"' in html
    assert "Suivre ce sujet" in html
    assert "Modérer ce sujet" not in html


def test_moderators_get_the_moderation_menu_and_the_topic_type_shows(client, forum_tree, director, staff):
    forum = forum_tree[THEME]
    topic = add_topic(forum, director, "Annonce : calendrier des formations")
    Topic.objects.filter(pk=topic.pk).update(type=Topic.TOPIC_ANNOUNCE, status=Topic.TOPIC_LOCKED)
    client.force_login(staff)
    html = client.get(selectors.topic_url(topic)).content.decode()
    assert "Modérer ce sujet" in html
    assert reverse("forum_moderation:topic_unlock", kwargs={"slug": topic.slug, "pk": topic.pk}) in html
    assert reverse("forum_moderation:topic_move", kwargs={"slug": topic.slug, "pk": topic.pk}) in html
    assert reverse("forum_moderation:topic_update_to_post", kwargs={"slug": topic.slug, "pk": topic.pk}) in html
    assert "Ce sujet est verrouillé" in html
    forum_page = client.get(forum_url(forum)).content.decode()
    assert 'id="annonces"' in forum_page
    row = topic_row(forum_page, "Annonce : calendrier des formations")
    assert "badge--announce" in row and "verrouillé" in row


def test_a_meeting_thread_shows_the_meeting_card_above_the_messages(client, forum_tree, staff, president):
    upcoming = meeting(staff, "Réunion nationale des Président·es — hiver", days=30)
    client.force_login(president)
    html = client.get(selectors.topic_url(upcoming.topic)).content.decode()
    card, first_post = html.index('id="reunion"'), html.index('<article class="post')
    assert card < first_post
    assert "Je viens" in html


def test_long_topics_are_paginated_with_page_links(client, forum_tree, director, settings):
    topic = add_topic(forum_tree[THEME], director, "Un très long échange", replies=25)
    client.force_login(director)
    html = client.get(selectors.topic_url(topic)).content.decode()
    assert html.count('<article class="post') == 20
    assert 'href="?page=2"' in html and 'aria-current="page"' in html
    forum_page = client.get(forum_url(forum_tree[THEME])).content.decode()
    assert f'{selectors.topic_url(topic)}?page=2"' in topic_row(forum_page, "Un très long échange")


def test_the_index_links_to_national_meetings_only_for_people_invited_to_one(client, forum_tree, staff, president,
                                                                           director):
    meeting(staff, "Réunion nationale des Président·es — printemps", days=40)
    meetings_link = f'href="{reverse("exchange:meeting-list")}"'
    client.force_login(president)
    assert meetings_link in client.get("/forum/").content.decode()
    client.force_login(director)
    assert meetings_link not in client.get("/forum/").content.decode()


# --- Unread markers -------------------------------------------------------------------------------


def test_a_new_topic_is_marked_unread_until_it_is_read(client, forum_tree, director, member):
    forum = forum_tree[THEME]
    old = add_topic(forum, member, "Subventions du conseil départemental")
    client.force_login(director)
    client.get(selectors.topic_url(old))  # read: machina tracks it
    assert not is_marked_unread(topic_row(client.get(forum_url(forum)).content.decode(),
                                          "Subventions du conseil départemental"))

    client.force_login(member)
    response = client.post(create_url(forum), {"subject": "Appel à projets de la DAP", "content": "Qui répond ?",
                                               "topic_type": Topic.TOPIC_POST, **EMPTY_FORMSETS})
    assert response.status_code == 302, response.content[:2000]

    client.force_login(director)
    forum_page = client.get(forum_url(forum)).content.decode()
    assert is_marked_unread(topic_row(forum_page, "Appel à projets de la DAP"))
    assert not is_marked_unread(topic_row(forum_page, "Subventions du conseil départemental"))
    assert is_marked_unread(topic_row(client.get("/forum/").content.decode(), forum.name))

    client.get(selectors.topic_url(Topic.objects.get(subject="Appel à projets de la DAP")))
    forum_page = client.get(forum_url(forum)).content.decode()
    assert not is_marked_unread(topic_row(forum_page, "Appel à projets de la DAP"))
    assert not is_marked_unread(topic_row(client.get("/forum/").content.decode(), forum.name))


# --- Private titles ---------------------------------------------------------------------------------


def test_the_directors_forum_never_shows_to_a_president(client, forum_tree, director, president):
    add_topic(forum_tree["direction"], director, "Entretiens annuels : vos grilles")
    client.force_login(director)
    for url in ("/forum/", "/"):
        body = client.get(url).content.decode()
        assert DIRECTORS_FORUM in body, url
    assert "Entretiens annuels : vos grilles" in client.get("/").content.decode()

    client.force_login(president)
    for url in ("/forum/", "/", reverse("forum_tracking:unread_topics"), forum_url(forum_tree["direction"].parent)):
        response = client.get(url)
        body = response.content.decode()
        assert DIRECTORS_FORUM not in body, url
        assert "Entretiens annuels : vos grilles" not in body, url
    assert client.get(forum_url(forum_tree["direction"])).status_code == 404


# --- Dashboard panels -----------------------------------------------------------------------------


def test_a_president_sees_upcoming_meetings_on_the_dashboard_but_not_past_ones(client, forum_tree, staff, president):
    meeting(staff, "Réunion nationale des Président·es — été", days=15)
    meeting(staff, "Réunion de l'an passé", days=-300)
    client.force_login(president)
    html = client.get("/").content.decode()
    panel = html[html.index("Vos prochaines réunions"):html.index("Derniers sujets du forum")]
    assert "Réunion nationale des Président·es — été" in panel
    assert "an passé" not in panel
    assert reverse("exchange:meeting-list") in panel


def test_a_director_does_not_see_the_presidents_meeting_and_gets_the_empty_state(client, forum_tree, staff, director):
    meeting(staff, "Réunion nationale des Président·es — été", days=15)
    client.force_login(director)
    html = client.get("/").content.decode()
    assert "Réunion nationale des Président·es — été" not in html
    assert "Aucune réunion nationale à venir ne vous concerne pour l'instant." in html


def test_a_directors_meeting_shows_to_directors(client, forum_tree, staff, director, president):
    meeting(staff, "Rencontre nationale des directions", days=20, audience="director")
    client.force_login(director)
    assert "Rencontre nationale des directions" in client.get("/").content.decode()
    client.force_login(president)
    assert "Rencontre nationale des directions" not in client.get("/").content.decode()


def test_the_latest_topics_panel_lists_readable_topics_with_unread_markers(client, forum_tree, director, member):
    add_topic(forum_tree[THEME], member, "Mutualiser un poste de comptable")
    client.force_login(director)
    html = client.get("/").content.decode()
    panel = html[html.index("Derniers sujets du forum"):]
    assert "Mutualiser un poste de comptable" in panel
    assert '<span class="badge badge--unread">non lu</span>' in panel


def test_the_latest_topics_panel_has_an_empty_state(client, forum_tree, director):
    client.force_login(director)
    assert "Aucun sujet pour l'instant dans les forums qui vous sont ouverts." in client.get("/").content.decode()


def count_queries(client, url: str) -> int:
    """Queries of a second visit: the first one records the reading (machina's tracking) and the view."""
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


def test_the_dashboard_query_count_does_not_grow_with_topics_meetings_or_forums(client, forum_tree, staff, president,
                                                                                django_assert_max_num_queries):
    presidents_forum = forum_tree["presidency:meetings"]
    meeting(staff, "Première réunion", days=10)
    add_topic(forum_tree[THEME], staff, "Premier sujet")
    client.force_login(president)
    small = count_queries(client, "/")

    for number in range(6):
        meeting(staff, f"Réunion {number}", days=20 + number)
        add_topic(forum_tree[THEME], staff, f"Sujet {number}", replies=2)
        add_topic(presidents_forum, make_person(f"president.{number}", roles=[RoleSpec(Role.PRESIDENT)]),
                  f"Fil des président·es {number}")
    large = count_queries(client, "/")

    assert small == large
    with django_assert_max_num_queries(35):  # the whole page; the forum panels take 9 of them
        client.get("/")


def test_the_forum_page_query_count_does_not_grow_with_topics(client, forum_tree, director, member):
    forum = forum_tree[THEME]
    add_topic(forum, director, "Sujet de départ", replies=1)
    client.force_login(director)
    small = count_queries(client, forum_url(forum))
    for number in range(4):
        person = make_person(f"membre.{number}", association=member.association, roles=[RoleSpec(Role.MEMBER)])
        add_topic(forum, person, f"Autre sujet {number}", replies=2)
    assert count_queries(client, forum_url(forum)) == small


def test_the_topic_page_query_count_does_not_grow_with_messages(client, forum_tree, director, member):
    forum = forum_tree[THEME]
    add_topic(forum, member, "Un autre sujet du forum")  # stays unread: machina's tracking takes the same path
    topic = add_topic(forum, director, "Sujet de départ", replies=1)
    client.force_login(director)
    small = count_queries(client, selectors.topic_url(topic))
    for number in range(4):
        person = make_person(f"membre.{number}", association=member.association, roles=[RoleSpec(Role.MEMBER)])
        Post.objects.create(topic=topic, poster=person, subject="Re: Sujet de départ", content="Merci.", approved=True)
    assert count_queries(client, selectors.topic_url(topic)) == small
