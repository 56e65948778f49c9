"""Background work of the forum: e-mails (run by django-tasks after commit, sent through core/outbox)."""

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django_tasks import task

from core import links, schedule
from core.outbox import services as outbox
from forum import notifications, selectors
from forum.models import NationalMeeting


@task()
def send_meeting_invitations(meeting_id: int) -> int:
    """E-mail the invitation (with its .ics) to every audience member who has an address.

    An invitation is transactional: it reaches people who chose no notices. Running the task twice
    invites nobody twice (one dedupe key per meeting and person)."""
    meeting = NationalMeeting.objects.select_related("topic__forum").filter(pk=meeting_id).first()
    if meeting is None:
        return 0
    base = links.site_url()
    thread_url = base + selectors.topic_url(meeting.topic) if meeting.topic else base
    ics = selectors.meeting_ics(meeting, base_url=base)
    emails = []
    for person in selectors.meeting_audience_users(meeting.audience).exclude(email=""):
        context = {"meeting": meeting, "person": person, "thread_url": thread_url,
                   "ics_url": base + reverse("exchange:meeting-ics", kwargs={"pk": meeting.pk})}
        emails.append(outbox.queue(
            person, category=outbox.Category.TRANSACTIONAL, kind="forum.meeting-invitation",
            subject=f"Invitation : {meeting.title}", text_template="forum/email/meeting_invitation.txt",
            context=context, attachments=[outbox.File("reunion.ics", ics, "text/calendar")],
            dedupe_key=f"forum.meeting:{meeting.pk}:{person.pk}", on_commit=False,
        ))
    outbox.send_now(emails)
    return sum(email is not None for email in emails)


def notify_post_on_commit(post_id: int, *, mentions_only: bool = False) -> None:
    """Schedule `notifications.notify_post` through a task once the current transaction commits."""
    transaction.on_commit(lambda: send_post_notifications.enqueue(post_id, mentions_only))


@task()
def send_post_notifications(post_id: int, mentions_only: bool = False) -> int:
    """Notify the subscribers and mentioned members of a new (or newly approved) post."""
    return len(notifications.notify_post(post_id, mentions_only=mentions_only))


@task()
def send_notification_digests() -> int:
    """E-mail the daily digest to people who chose it (run once a day by a worker or cron)."""
    return notifications.send_digests()


def digests_job() -> schedule.Job:
    """The scheduler's job (core/schedule.py, registered in ExchangeConfig.ready): the daily digest, queued
    for the worker each day at FORUM_DIGEST_TIME (local time)."""
    return schedule.Job("resume-forum", "résumé quotidien du forum", lambda: schedule.queue(send_notification_digests),
                        at=schedule.parse_time(settings.FORUM_DIGEST_TIME, "FORUM_DIGEST_TIME"))
