"""The apps' e-mails through the outbox: what they queue, and that a failure is retried, not lost."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from core.outbox import delivery
from core.outbox.models import Category, Email
from directory.models import NotificationFrequency
from forum import services, tasks
from forum.services import MeetingData

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting_data(working_group):
    services.ensure_forum_tree()
    start = timezone.now().replace(microsecond=0) + timedelta(days=20)
    return MeetingData(title="Réunion nationale des Président·es — printemps", starts_at=start,
                       ends_at=start + timedelta(hours=3), place="Bordeaux")


def test_a_meeting_invitation_is_transactional_and_reaches_a_person_who_chose_never(
        staff, president, meeting_data, django_capture_on_commit_callbacks):
    president.notification_frequency = NotificationFrequency.NEVER
    president.save(update_fields=["notification_frequency"])

    with django_capture_on_commit_callbacks(execute=True):
        meeting = services.create_meeting(staff, meeting_data)

    email = Email.objects.get(kind="forum.meeting-invitation")
    assert (email.recipient, email.category, email.dedupe_key) == (
        president, Category.TRANSACTIONAL, f"forum.meeting:{meeting.pk}:{president.pk}")
    assert [(a.filename, a.mimetype) for a in email.attachments.all()] == [("reunion.ics", "text/calendar")]
    assert [m.to for m in mail.outbox] == [[president.email]]


def test_running_the_invitation_task_again_invites_nobody_twice(
        staff, president, meeting_data, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        meeting = services.create_meeting(staff, meeting_data)

    assert tasks.send_meeting_invitations.call(meeting.pk) == 0
    assert len(mail.outbox) == 1 and Email.objects.filter(kind="forum.meeting-invitation").count() == 1


def test_an_invitation_the_mail_server_refused_leaves_later_with_its_ics(
        staff, president, meeting_data, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.outbox.backends.DownBackend"
    with django_capture_on_commit_callbacks(execute=True):
        services.create_meeting(staff, meeting_data)
    email = Email.objects.get(kind="forum.meeting-invitation")
    assert (email.status, email.attempts) == (Email.Status.PENDING, 1) and mail.outbox == []

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert delivery.send_due(now=timezone.now() + timedelta(hours=1)) == 1

    [message] = mail.outbox
    assert message.to == [president.email] and message.subject.startswith("Invitation : Réunion nationale")
    assert message.attachments[0][0] == "reunion.ics" and "BEGIN:VCALENDAR" in message.attachments[0][1]
