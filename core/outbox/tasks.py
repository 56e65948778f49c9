"""Delivery of the outbox through the task queue (django-tasks; settings.TASKS chooses the backend)."""

from __future__ import annotations

from django_tasks import task

from core import schedule
from core.outbox import conf, delivery
from core.outbox.models import Email


@task()
def deliver_emails(email_ids: list[int]) -> int:
    """Send these e-mails; those that fail are retried later, by a deferred task where the backend
    can defer (django_tasks_db), and in any case by the sweep. Returns how many left."""
    sent = delivery.send(email_ids)
    when = delivery.retry_at(email_ids)
    backend = deliver_emails.get_backend()
    if when is not None and backend.supports_defer:
        pending = list(Email.objects.filter(pk__in=email_ids, status=Email.Status.PENDING).values_list("pk", flat=True))
        deliver_emails.using(run_after=when).enqueue(pending)
    return sent


@task()
def send_due_emails() -> int:
    """The sweep: send every e-mail that is due (new, to retry, or orphaned by a worker that died), then
    forget those sent long ago (conf.keep_sent). Returns how many left."""
    sent = delivery.send_due()
    delivery.purge_sent()
    return sent


def queue_sweep() -> str:
    """Queue the sweep for the worker; says what it did."""
    return f"tâche {send_due_emails.enqueue().id} confiée au worker"


def sweep_job() -> schedule.Job:
    """The scheduler's job (core/schedule.py, registered in OutboxConfig.ready): the sweep every
    OUTBOX_SWEEP_MINUTES."""
    return schedule.Job("courriels", "courriels en attente ou à réessayer", queue_sweep, every=conf.sweep_every())
