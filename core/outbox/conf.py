"""Settings of the outbox, each with a default (override them in config/settings.py)."""

from datetime import timedelta

from django.conf import settings


def max_attempts() -> int:
    """Sending attempts before an e-mail is given up (status "failed", visible in /admin/)."""
    return getattr(settings, "OUTBOX_MAX_ATTEMPTS", 6)


def retry_delay(attempts: int) -> timedelta:
    """Wait before the next attempt after `attempts` failed ones: 2 min, 8 min, 32 min, 2 h 8 min…"""
    return timedelta(seconds=getattr(settings, "OUTBOX_RETRY_SECONDS", 120) * 4 ** max(attempts - 1, 0))


def sending_lease() -> timedelta:
    """How long a claimed e-mail stays "sending" before the sweep treats its worker as gone."""
    return timedelta(seconds=getattr(settings, "OUTBOX_SENDING_LEASE_SECONDS", 600))


def sweep_every() -> timedelta:
    """How often the scheduler runs the sweep (send_due_emails)."""
    return timedelta(minutes=getattr(settings, "OUTBOX_SWEEP_MINUTES", 5))


def keep_sent() -> timedelta:
    """How long a sent e-mail stays in the outbox (it holds personal data) before the sweep deletes it."""
    return timedelta(days=getattr(settings, "OUTBOX_KEEP_SENT_DAYS", 90))
