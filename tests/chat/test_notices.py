"""E-mail notices for direct messages left unread: once per batch, following notification_frequency."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from chat import messages, notices, reading
from chat.models import ChatMessage, ChatNotice
from core import schedule
from core.outbox.models import Email


@pytest.fixture(autouse=True)
def _delay(settings):
    settings.CHAT_NOTICE_DELAY_MINUTES = 15


def dm(author, room, client_id, body="Bonjour, avez-vous un instant ?", minutes_ago=30):
    message_id = messages.post_message(author, room.pk, client_id, body).frame["id"]
    ChatMessage.objects.filter(pk=message_id).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    return message_id


def test_a_direct_message_unread_for_a_while_is_emailed_to_its_recipient(alice, bruno, direct_room):
    dm(alice, direct_room, "d-1", "Pouvez-vous relire la convention ?")

    sent = notices.send_chat_notices()

    assert sent == 1
    assert mail.outbox[0].to == [bruno.email]
    assert "1 message privé non lu" in mail.outbox[0].subject
    assert "Pouvez-vous relire la convention ?" in mail.outbox[0].body
    assert f"/discussions/{direct_room.pk}/" in mail.outbox[0].body


def test_the_notice_leaves_through_the_outbox_and_a_failed_send_is_retried(alice, bruno, direct_room, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    dm(alice, direct_room, "d-1", "Pouvez-vous relire la convention ?")

    assert notices.send_chat_notices() == 0
    email = Email.objects.get(kind="chat.unread")
    assert email.recipient == bruno and email.status == Email.Status.PENDING and email.attempts == 1
    assert email.last_error
    assert notices.send_chat_notices() == 0, "the batch is claimed: the retry is the outbox's, not a new notice"

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Email.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    call_command("send_outbox")
    email.refresh_from_db()
    assert email.status == Email.Status.SENT
    assert [message.to for message in mail.outbox] == [[bruno.email]]


def test_a_batch_is_emailed_once(alice, bruno, direct_room):
    dm(alice, direct_room, "d-1")
    dm(alice, direct_room, "d-2")
    notices.send_chat_notices()

    assert notices.send_chat_notices() == 0
    assert len(mail.outbox) == 1
    assert "2 messages privés non lus" in mail.outbox[0].subject


def test_new_messages_after_a_notice_make_a_new_batch(alice, bruno, direct_room):
    dm(alice, direct_room, "d-1")
    notices.send_chat_notices()
    dm(alice, direct_room, "d-2", "Et une autre question")

    assert notices.send_chat_notices() == 1
    assert "Et une autre question" in mail.outbox[1].body
    assert "Bonjour, avez-vous" not in mail.outbox[1].body


def test_a_recent_message_waits_for_the_delay(alice, bruno, direct_room):
    dm(alice, direct_room, "d-1", minutes_ago=5)

    assert notices.send_chat_notices() == 0


def test_a_read_message_is_not_emailed(alice, bruno, direct_room):
    message_id = dm(alice, direct_room, "d-1")
    reading.mark_read(bruno, direct_room.pk, message_id)

    assert notices.send_chat_notices() == 0


def test_people_who_chose_never_get_no_email(alice, bruno, direct_room):
    bruno.notification_frequency = "never"
    bruno.save()
    dm(alice, direct_room, "d-1")

    assert notices.send_chat_notices() == 0
    bruno.notification_frequency = "immediate"
    bruno.save()
    assert notices.send_chat_notices() == 0  # what arrived under "never" stays un-mailed
    assert mail.outbox == []


def test_people_who_chose_daily_get_one_summary_a_day(alice, bruno, direct_room):
    bruno.notification_frequency = "daily"
    bruno.save()
    dm(alice, direct_room, "d-1")
    assert notices.send_chat_notices() == 1
    dm(alice, direct_room, "d-2")

    assert notices.send_chat_notices() == 0
    assert notices.send_chat_notices(now=timezone.now() + timedelta(hours=25)) == 1
    assert ChatNotice.objects.filter(user=bruno, kind="daily").count() == 2
    assert "résumé quotidien" in mail.outbox[0].body


def test_messages_in_shared_rooms_are_never_emailed(alice, bruno, region_room):
    dm(alice, region_room, "r-1")

    assert notices.send_chat_notices() == 0


def test_the_command_sends_the_notices(alice, bruno, direct_room, capsys):
    dm(alice, direct_room, "d-1")

    call_command("send_chat_notices")

    assert "1 courriel(s) envoyé(s)" in capsys.readouterr().out
    assert len(mail.outbox) == 1


def test_the_scheduler_queues_the_notices_every_few_minutes(alice, bruno, direct_room, settings, tmp_path):
    settings.BACKUP_DIR, settings.CHAT_NOTICES_EVERY_MINUTES = "", 5
    state = tmp_path / "schedule.json"
    dm(alice, direct_room, "d-1")
    now = timezone.now()

    first = dict(schedule.tick(state, schedule.jobs(), now=now))
    dm(alice, direct_room, "d-2", "Une autre question")
    early = dict(schedule.tick(state, schedule.jobs(), now=now + timedelta(minutes=2)))
    later = dict(schedule.tick(state, schedule.jobs(), now=now + timedelta(minutes=5)))

    # Tasks run at once here (the worker runs them in production): one e-mail per batch, each in turn.
    assert "avis-messages" in first and "avis-messages" not in early and "avis-messages" in later
    assert [message.to for message in mail.outbox] == [[bruno.email], [bruno.email]]
    assert "Une autre question" in mail.outbox[1].body


def test_the_command_can_leave_the_sending_to_the_worker(alice, bruno, direct_room, capsys):
    dm(alice, direct_room, "d-1")

    call_command("send_chat_notices", "--enqueue")

    # Queued through django-tasks (whose embedded backend runs it at once; the worker does in production).
    assert re.search(r"Envoi des avis confié au worker \(tâche \S+\)\.", capsys.readouterr().out)
    assert [message.to for message in mail.outbox] == [[bruno.email]]
