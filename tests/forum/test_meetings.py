"""National meetings: thread, subscriptions, invitations, RSVP and calendar export."""

from datetime import UTC, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from forum import selectors, services
from forum.models import MeetingResponse, NationalMeeting
from forum.services import MeetingData

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting_data():
    start = timezone.now().replace(microsecond=0) + timedelta(days=20)
    return MeetingData(title="Réunion nationale des Président·es — printemps", starts_at=start,
                       ends_at=start + timedelta(hours=3), place="Maison des associations, Bordeaux",
                       agenda="1. Accueil\n2. Projet stratégique ; point d'étape, échanges")


@pytest.fixture
def meeting(forum_tree, staff, president, meeting_data, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.create_meeting(staff, meeting_data)


def test_creating_a_meeting_opens_its_thread_in_the_presidents_forum(meeting):
    assert meeting.topic.forum.space.key == "presidency:meetings"
    assert meeting.topic.first_post.content.raw.startswith("**Réunion nationale")


def test_every_president_is_subscribed_and_invited_by_email(meeting, president, director):
    assert list(meeting.topic.subscribers.all()) == [president]
    assert [m.to for m in mail.outbox] == [[president.email]]
    invitation = mail.outbox[0]
    assert "Réunion nationale des Président·es" in invitation.subject
    assert invitation.attachments[0][0] == "reunion.ics"


def test_only_federal_staff_create_meetings(forum_tree, director, meeting_data):
    with pytest.raises(services.ForumPermissionError):
        services.create_meeting(director, meeting_data)
    assert NationalMeeting.objects.count() == 0


def test_a_meeting_ending_before_it_starts_is_refused_and_nothing_is_written(forum_tree, staff, meeting_data):
    from machina.apps.forum_conversation.models import Topic

    bad = MeetingData(title=meeting_data.title, starts_at=meeting_data.starts_at,
                      ends_at=meeting_data.starts_at - timedelta(hours=1), place="Paris")
    with pytest.raises(services.ForumError):
        services.create_meeting(staff, bad)
    assert Topic.objects.count() == 0


def test_rsvp_counts_and_attendees_show_on_the_thread(client, meeting, president):
    client.force_login(president)
    response = client.post(reverse("exchange:meeting-respond", args=[meeting.pk]), {"answer": "yes"})
    assert response.status_code == 302
    client.post(reverse("exchange:meeting-respond", args=[meeting.pk]), {"answer": "maybe"})
    assert MeetingResponse.objects.get(meeting=meeting, user=president).answer == "maybe"
    client.post(reverse("exchange:meeting-respond", args=[meeting.pk]), {"answer": "yes"})
    page = client.get(selectors.topic_url(meeting.topic)).content.decode()
    assert "Je viens <span class=\"count\">(1)</span>" in page
    assert president.get_full_name() in page


def test_an_unknown_answer_is_a_400(client, meeting, president):
    client.force_login(president)
    response = client.post(reverse("exchange:meeting-respond", args=[meeting.pk]), {"answer": "oui!"})
    assert response.status_code == 400
    assert not MeetingResponse.objects.exists()


def test_people_outside_the_audience_get_404_for_the_meeting_and_its_thread(client, meeting, director):
    client.force_login(director)
    for url in (selectors.topic_url(meeting.topic), reverse("exchange:meeting-ics", args=[meeting.pk])):
        assert client.get(url).status_code == 404
    assert client.post(reverse("exchange:meeting-respond", args=[meeting.pk]), {"answer": "yes"}).status_code == 404
    assert meeting.title not in client.get(reverse("exchange:meeting-list")).content.decode()


def test_ics_is_valid_icalendar(client, meeting, president):
    client.force_login(president)
    response = client.get(reverse("exchange:meeting-ics", args=[meeting.pk]))
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    lines = body.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert all(len(line.encode()) <= 75 for line in lines)
    unfolded = body.replace("\r\n ", "")
    assert f"DTSTART:{meeting.starts_at.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}" in unfolded
    assert "SUMMARY:Réunion nationale des Président·es — printemps" in unfolded
    assert "DESCRIPTION:1. Accueil\\n2. Projet stratégique \\; point d'étape\\, échanges" in unfolded
    assert f"UID:reunion-{meeting.pk}@passerelles" in unfolded


def test_past_meetings_stay_listed_with_their_threads(client, forum_tree, staff, president):
    start = timezone.now() - timedelta(days=60)
    past = services.create_meeting(staff, MeetingData(title="Réunion de l'an dernier", starts_at=start,
                                                      ends_at=start + timedelta(hours=2), place="Paris"))
    client.force_login(president)
    page = client.get(reverse("exchange:meeting-list")).content.decode()
    assert "Réunion de l&#x27;an dernier" in page
    assert client.get(selectors.topic_url(past.topic)).status_code == 200


def test_staff_creates_a_meeting_through_the_form(client, forum_tree, staff, president):
    client.force_login(staff)
    start = timezone.localtime() + timedelta(days=10)
    response = client.post(reverse("exchange:meeting-create"), {
        "title": "Réunion d'automne", "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"), "place": "",
        "video_link": "https://visio.exemple.fr/reunion", "agenda": "", "audience": "president",
    })
    assert response.status_code == 302
    assert NationalMeeting.objects.get().video_link == "https://visio.exemple.fr/reunion"


def test_members_cannot_open_the_meeting_form(client, forum_tree, president):
    client.force_login(president)
    assert client.get(reverse("exchange:meeting-create")).status_code == 403
