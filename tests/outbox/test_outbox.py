"""The outbox: preferences, transactional e-mails, dedupe, failures, retries, give-up, rollback."""

import ast
import io
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.outbox import delivery, tasks
from core.outbox import services as outbox
from core.outbox.models import Email
from directory.models import NotificationFrequency
from tests.factories import make_person

pytestmark = pytest.mark.django_db

TEMPLATE = "forum/email/notification.txt"


@pytest.fixture
def person():
    return make_person("lea.martin", first_name="Léa", last_name="Martin")


def queue_notice(to, **options):
    options.setdefault("category", outbox.Category.NOTICE)
    return outbox.queue(to, kind="test.notice", subject="[Passerelles] Un avis", text_template=TEMPLATE,
                        context={"recipient_name": "Léa", "headline": "Il s'est passé quelque chose."}, **options)


def closed_port() -> int:
    """A loopback port nobody listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_queued_email_leaves_after_commit_rendered_from_its_template(person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        email = queue_notice(person)
    assert mail.outbox == [] and email.status == Email.Status.PENDING

    for callback in callbacks:
        callback()

    [message] = mail.outbox
    assert message.to == [person.email] and message.subject == "[Passerelles] Un avis"
    assert "Bonjour Léa," in message.body and "Il s'est passé quelque chose." in message.body
    email.refresh_from_db()
    assert (email.status, email.attempts, email.recipient) == (Email.Status.SENT, 1, person)
    assert email.sent_at is not None


def test_a_notice_never_reaches_a_person_who_chose_never(person, django_capture_on_commit_callbacks):
    person.notification_frequency = NotificationFrequency.NEVER
    person.save(update_fields=["notification_frequency"])

    with django_capture_on_commit_callbacks(execute=True):
        assert queue_notice(person) is None
        assert queue_notice(person, category=outbox.Category.DIGEST) is None

    assert mail.outbox == [] and not Email.objects.exists()


def test_a_transactional_email_reaches_a_person_who_chose_never(person, django_capture_on_commit_callbacks):
    person.notification_frequency = NotificationFrequency.NEVER
    person.save(update_fields=["notification_frequency"])

    with django_capture_on_commit_callbacks(execute=True):
        queue_notice(person, category=outbox.Category.TRANSACTIONAL)

    assert [m.to for m in mail.outbox] == [[person.email]]


def test_an_address_without_an_account_is_a_recipient_and_an_empty_one_is_skipped(
        db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_notice("candidate@exemple.org").recipient is None
        assert queue_notice("") is None

    assert [m.to for m in mail.outbox] == [["candidate@exemple.org"]]


def test_queueing_again_under_the_same_key_sends_nothing_more(person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = queue_notice(person, dedupe_key="test:1")
    with django_capture_on_commit_callbacks(execute=True):
        again = queue_notice(person, dedupe_key="test:1")
        other = queue_notice(person, dedupe_key="test:2")

    assert first is not None and again is None and other is not None
    assert len(mail.outbox) == 2 and Email.objects.count() == 2


def test_html_and_attachments_leave_with_the_message(person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queue_notice(person, html_template=TEMPLATE,
                     attachments=[outbox.File("reunion.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")])

    [message] = mail.outbox
    assert message.alternatives[0][1] == "text/html"
    assert message.attachments[0] == ("reunion.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")


def test_nothing_is_queued_nor_sent_when_the_transaction_rolls_back(person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        queue_notice(person)
        raise RuntimeError("the service failed after queueing")

    assert mail.outbox == [] and not Email.objects.exists()


def test_a_refused_smtp_connection_is_recorded_and_a_later_sweep_sends_it(
        person, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    with django_capture_on_commit_callbacks(execute=True):
        email = queue_notice(person)

    email.refresh_from_db()
    assert (email.status, email.attempts) == (Email.Status.PENDING, 1)
    assert "ConnectionRefusedError" in email.last_error
    assert email.next_attempt_at > timezone.now()
    assert delivery.send_due() == 0  # not yet due: nothing tried

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert delivery.send_due(now=email.next_attempt_at) == 1

    email.refresh_from_db()
    assert (email.status, email.attempts) == (Email.Status.SENT, 2)
    assert [m.to for m in mail.outbox] == [[person.email]]


def test_an_email_failing_every_attempt_is_given_up_and_shown_in_the_admin(
        person, settings, admin_client, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.outbox.backends.DownBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 3
    with django_capture_on_commit_callbacks(execute=True):
        email = queue_notice(person)
    later = timezone.now()
    for _ in range(5):
        later += timedelta(days=1)
        delivery.send_due(now=later)

    email.refresh_from_db()
    assert (email.status, email.attempts) == (Email.Status.FAILED, 3)
    assert email.last_error == "SMTPServerDisconnected: Connexion perdue avec le serveur"
    assert mail.outbox == []
    page = admin_client.get(reverse("admin:outbox_email_changelist") + "?status=failed").content.decode()
    assert "[Passerelles] Un avis" in page and "Abandonné" in page
    detail = admin_client.get(reverse("admin:outbox_email_change", args=[email.pk])).content.decode()
    assert "Connexion perdue avec le serveur" in detail
    assert admin_client.post(reverse("admin:outbox_email_delete", args=[email.pk])).status_code == 403


def test_where_the_task_backend_can_defer_a_failed_email_queues_its_own_retry(person, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.EMAIL_BACKEND = "tests.outbox.backends.DownBackend"
    email = queue_notice(person, on_commit=False)

    assert tasks.deliver_emails.call([email.pk]) == 0

    email.refresh_from_db()
    [retry] = tasks.deliver_emails.get_backend().results
    assert (retry.task.run_after, retry.args) == (email.next_attempt_at, [[email.pk]])


def test_an_email_left_sending_by_a_dead_worker_is_sent_once_its_lease_ends(person):
    email = queue_notice(person, on_commit=False)
    Email.objects.filter(pk=email.pk).update(status=Email.Status.SENDING, attempts=1,
                                             next_attempt_at=timezone.now() + timedelta(minutes=10))

    assert delivery.send_due() == 0
    assert delivery.send_due(now=timezone.now() + timedelta(minutes=11)) == 1
    assert len(mail.outbox) == 1


def test_a_private_email_keeps_its_envelope_but_not_its_body_once_sent_or_given_up(
        person, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sent = queue_notice(person, private=True)
    [message] = mail.outbox
    assert "Il s'est passé quelque chose." in message.body, "the recipient gets the whole text"
    sent.refresh_from_db()
    assert sent.status == Email.Status.SENT and sent.subject == "[Passerelles] Un avis"
    assert "Il s'est passé quelque chose." not in sent.text_body and "effacé" in sent.text_body

    settings.EMAIL_BACKEND = "tests.outbox.backends.DownBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 2
    with django_capture_on_commit_callbacks(execute=True):
        failing = queue_notice(person, private=True, dedupe_key="autre")
    failing.refresh_from_db()
    assert failing.status == Email.Status.PENDING and "Il s'est passé" in failing.text_body, "kept for the retry"
    delivery.send_due(now=timezone.now() + timedelta(days=1))
    failing.refresh_from_db()
    assert failing.status == Email.Status.FAILED and "Il s'est passé" not in failing.text_body

    with django_capture_on_commit_callbacks(execute=True):
        ordinary = queue_notice(person, dedupe_key="ordinaire")
    ordinary.refresh_from_db()
    assert "Il s'est passé" in ordinary.text_body, "an ordinary e-mail keeps its text, even given up"


def test_sending_twice_sends_once(person):
    email = queue_notice(person, on_commit=False)

    assert outbox.send_now([email]) == 1
    assert outbox.send_now([email]) == 0
    assert len(mail.outbox) == 1


def test_the_send_outbox_command_sends_what_is_due(person):
    queue_notice(person, on_commit=False)
    output = io.StringIO()

    call_command("send_outbox", stdout=output)

    assert "1 courriel(s) envoyé(s)." in output.getvalue()
    assert len(mail.outbox) == 1


def test_the_sweep_forgets_emails_sent_long_ago_but_keeps_those_given_up(person):
    old, failed, recent = (queue_notice(person, on_commit=False) for _ in range(3))
    long_ago = timezone.now() - timedelta(days=91)
    Email.objects.filter(pk=old.pk).update(status=Email.Status.SENT, sent_at=long_ago)
    Email.objects.filter(pk=failed.pk).update(status=Email.Status.FAILED, created_at=long_ago)

    call_command("send_outbox", stdout=io.StringIO())

    assert set(Email.objects.values_list("pk", "status")) == {(failed.pk, Email.Status.FAILED),
                                                              (recent.pk, Email.Status.SENT)}


def test_the_outbox_imports_no_project_app():
    """core is the bottom layer: the outbox knows users through settings.AUTH_USER_MODEL only."""
    project = {"config", "directory", "membership", "parrainage", "forum", "chat", "cms", "search", "demo"}
    found = []
    for path in sorted(Path(outbox.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
            found += [f"{path.name}:{node.lineno} {name}" for name in names if name.split(".")[0] in project]
    assert found == []
