"""The one way to send an e-mail: `queue` it here, it leaves through a task after commit (docs/mail.md).

    from core.outbox import services as outbox

    outbox.queue(person, category=outbox.Category.NOTICE, kind="forum.reply",
                 subject="[Passerelles] …", text_template="forum/email/notification.txt", context={…})

In a request (a service changing state), `queue` writes the e-mail in the current transaction and
enqueues its delivery once that transaction commits: a rollback sends nothing, and the request never
waits for the mail server. Code already running in the task worker may queue several e-mails with
`on_commit=False` and hand them to `send_now` (one connection for all).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from core.outbox import tasks
from core.outbox.models import Attachment, Category, Email

__all__ = ["Category", "Email", "File", "deliver_on_commit", "queue", "send_now", "wants"]

# The value of the user's `notification_frequency` that refuses every notice and digest.
NEVER = "never"


@dataclass(frozen=True)
class File:
    """An attachment, e.g. File("reunion.ics", ics_text, "text/calendar")."""

    filename: str
    content: str | bytes
    mimetype: str = "application/octet-stream"


def wants(recipient, category: str) -> bool:
    """Whether the person accepts an e-mail of this category (transactional ones always go)."""
    if category == Category.TRANSACTIONAL:
        return True
    return getattr(recipient, "notification_frequency", None) != NEVER


def queue(
    to,
    *,
    category: str,
    kind: str,
    subject: str,
    text_template: str,
    context: dict | None = None,
    html_template: str | None = None,
    attachments: Sequence[File] = (),
    dedupe_key: str = "",
    private: bool = False,
    on_commit: bool = True,
) -> Email | None:
    """Put one e-mail in the outbox, rendered for its recipient.

    `to` is a user (their address and preference are read now) or an address (someone without an
    account, e.g. a candidate). `subject` is the finished text (collapsed to one line, 500 characters
    at most); the bodies are rendered from `text_template` (and `html_template`) with `context`.
    Nothing is queued, and None returned, when there is no address, when the person refuses this
    category (`wants`), or when an e-mail with the same non-empty `dedupe_key` was already queued
    (so queueing again is harmless). A `private` e-mail carries a personal link (an invitation, a
    candidate's private link): its bodies are erased once it has left or was given up. With
    `on_commit` (the default), delivery is enqueued once the
    current transaction commits; otherwise the caller passes the e-mail to `send_now` or
    `deliver_on_commit`.
    """
    if isinstance(to, str):
        recipient, address = None, to
    else:
        recipient, address = to, getattr(to, "email", "")
    if not address or (recipient is not None and not wants(recipient, category)):
        return None
    if dedupe_key and Email.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    context = context or {}
    try:
        with transaction.atomic():  # a savepoint: a concurrent duplicate undoes this e-mail only
            email = Email.objects.create(
                recipient=recipient, to_address=address, subject=" ".join(str(subject).split())[:500],
                text_body=render_to_string(text_template, context),
                html_body=render_to_string(html_template, context) if html_template else "",
                category=category, kind=kind, dedupe_key=dedupe_key, private=private,
            )
            Attachment.objects.bulk_create([
                Attachment(email=email, filename=file.filename, mimetype=file.mimetype,
                           content=file.content.encode() if isinstance(file.content, str) else file.content)
                for file in attachments
            ])
    except IntegrityError:
        if dedupe_key and Email.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise
    if on_commit:
        deliver_on_commit([email])
    return email


def _ids(emails: Iterable[Email | None]) -> list[int]:
    return [email.pk for email in emails if email is not None]


def deliver_on_commit(emails: Iterable[Email | None]) -> None:
    """Enqueue the delivery of these e-mails (one task) once the current transaction commits."""
    ids = _ids(emails)
    if ids:
        transaction.on_commit(lambda: tasks.deliver_emails.enqueue(ids))


def send_now(emails: Iterable[Email | None]) -> int:
    """Send these e-mails here, through one connection: only from code already in the task worker.

    Failures are recorded and retried like any other (the sweep). Returns how many left.
    """
    ids = _ids(emails)
    return tasks.deliver_emails.call(ids) if ids else 0
