"""Sending what the outbox holds: claim, send through one connection, record the outcome.

Runs in the task worker (core/outbox/tasks.py), never in a request. An e-mail is claimed before it is
sent (status "sending", attempts + 1), so two workers never send it both; a failure records the error
and puts it back in the queue after a growing delay, until conf.max_attempts() gives it up. A worker
that dies while sending leaves it "sending": once its lease ends, the sweep (send_due) tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.outbox import conf
from core.outbox.models import ERASED_BODY, Email

logger = logging.getLogger(__name__)

SWEEP_BATCH = 200


class Refused(RuntimeError):
    """The mail backend accepted the connection but sent nothing."""


def _due(now: datetime) -> Q:
    return Q(next_attempt_at__lte=now) & (Q(status=Email.Status.PENDING) | Q(status=Email.Status.SENDING))


@transaction.atomic
def _claim(email_ids: Iterable[int], now: datetime) -> list[int]:
    """Mark as "sending" the given e-mails that are due; returns those this call claimed.

    Rows are locked and skipped if another worker holds them (PostgreSQL); SQLite serialises the
    write transaction (transaction_mode IMMEDIATE, config/settings.py).
    """
    ids = list(
        Email.objects.select_for_update(skip_locked=True)
        .filter(_due(now), pk__in=list(email_ids)).values_list("pk", flat=True)
    )
    if ids:
        Email.objects.filter(pk__in=ids).update(
            status=Email.Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + conf.sending_lease(),
        )
    return ids


def _message(email: Email, connection) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(subject=email.subject, body=email.text_body, to=[email.to_address],
                                     connection=connection)
    if email.html_body:
        message.attach_alternative(email.html_body, "text/html")
    for attachment in email.attachments.all():
        message.attach(attachment.filename, bytes(attachment.content), attachment.mimetype)
    return message


def _erased() -> dict:
    """What a private e-mail keeps once it has left or was given up: its envelope, not its link."""
    return {"text_body": str(ERASED_BODY), "html_body": ""}


def _record_failure(email: Email, error: BaseException, now: datetime) -> None:
    given_up = email.attempts >= conf.max_attempts()
    Email.objects.filter(pk=email.pk).update(
        status=Email.Status.FAILED if given_up else Email.Status.PENDING,
        next_attempt_at=now if given_up else now + conf.retry_delay(email.attempts),
        last_error=f"{type(error).__name__}: {error}"[:2000],
        **(_erased() if given_up and email.private else {}),
    )
    logger.warning("Courriel %s (%s) non envoyé, tentative %s%s : %s", email.pk, email.kind, email.attempts,
                   " — abandonné" if given_up else "", error)


def send(email_ids: Iterable[int], now: datetime | None = None) -> int:
    """Send the given e-mails that are due, through one connection; returns how many left.

    E-mails already sent, given up, not yet due or claimed by another worker are left alone, so
    calling this twice sends nothing twice. A failure (connection refused, SMTP error) is recorded
    on the e-mail, never raised.
    """
    now = now or timezone.now()
    claimed = _claim(email_ids, now)
    if not claimed:
        return 0
    emails = list(Email.objects.filter(pk__in=claimed).prefetch_related("attachments").order_by("pk"))
    connection = get_connection()
    try:
        connection.open()
    except Exception as error:  # recorded on each e-mail, retried later
        for email in emails:
            _record_failure(email, error, now)
        return 0
    sent = 0
    try:
        for email in emails:
            try:
                if connection.send_messages([_message(email, connection)]) != 1:
                    raise Refused("le serveur de courriel n'a rien envoyé")
            except Exception as error:  # recorded on the e-mail, retried later
                _record_failure(email, error, now)
            else:
                Email.objects.filter(pk=email.pk).update(status=Email.Status.SENT, sent_at=timezone.now(),
                                                         **(_erased() if email.private else {}))
                sent += 1
    finally:
        try:
            connection.close()
        except Exception:  # the messages are sent (or recorded as failed): a close error changes nothing
            logger.warning("Fermeture de la connexion au serveur de courriel en échec", exc_info=True)
    return sent


def due_ids(now: datetime | None = None, limit: int = SWEEP_BATCH) -> list[int]:
    """The e-mails waiting for an attempt (new, to retry, or left "sending" by a worker that died)."""
    now = now or timezone.now()
    return list(Email.objects.filter(_due(now)).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])


def send_due(now: datetime | None = None) -> int:
    """Send every e-mail that is due (the sweep); returns how many left."""
    now = now or timezone.now()
    sent, seen = 0, set()
    while True:
        batch = [pk for pk in due_ids(now) if pk not in seen]
        if not batch:
            return sent
        seen.update(batch)
        sent += send(batch, now)


def purge_sent(now: datetime | None = None) -> int:
    """Delete the e-mails sent more than conf.keep_sent() ago; failed ones stay for the admin."""
    now = now or timezone.now()
    deleted, _per_model = Email.objects.filter(status=Email.Status.SENT, sent_at__lt=now - conf.keep_sent()).delete()
    return deleted


def retry_at(email_ids: Iterable[int]) -> datetime | None:
    """When the earliest of these e-mails waiting for a retry is due; None when none waits."""
    return (
        Email.objects.filter(pk__in=list(email_ids), status=Email.Status.PENDING, attempts__gt=0)
        .order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()
    )
