"""Invitations (issue 14): people created by the network import choose their password through a link.

Federal staff invite people (the Person admin's action, or right after an import); an invitation
can be sent again (`times_sent` counts). The e-mail goes out after commit through django-tasks
(`directory.tasks_invitations`) and carries `/invitation/<uidb64>/<token>/`: a token of its own kind
(`invitation_links.InvitationTokenGenerator`, its own salt) valid INVITATION_EXPIRY_DAYS days and only until a
password is set, because the password hash is part of what it signs. Opening it, the person chooses
a password, is signed in and the invitation is accepted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _

from directory import tasks_invitations
from directory.invitation_links import expiry_days, is_activated, skip_reason, token_generator
from directory.models import Invitation, User


class InvitationState:
    VALID = "valid"
    ALREADY_ACTIVE = "already_active"
    INVALID = "invalid"  # expired, forged, or superseded by another password change


# --- sending ------------------------------------------------------------------------------------------


@dataclass
class SendReport:
    sent: list[User] = field(default_factory=list)
    skipped: list[tuple[User, str]] = field(default_factory=list)

    def message(self) -> str:
        parts = [_("%(count)d invitation(s) envoyée(s).") % {"count": len(self.sent)}]
        if self.skipped:
            parts.append(_("Non envoyée(s) : %(who)s.") % {
                "who": "; ".join(f"{person} ({reason})" for person, reason in self.skipped)})
        return " ".join(parts)


def send_invitations(people: Iterable[User], *, sent_by: User | None) -> SendReport:
    """Invite (or invite again) these people; e-mails go out after commit.

    People without an address, deactivated or who already chose a password are skipped, with the
    reason. Each invitation sent records its date, sender and count.
    """
    report = SendReport()
    now = timezone.now()
    with transaction.atomic():
        people = list(people)
        existing = {i.person_id: i for i in Invitation.objects.select_for_update().filter(
            person__in=[p.pk for p in people])}
        for person in people:
            reason = skip_reason(person)
            if reason:
                report.skipped.append((person, reason))
                continue
            invitation = existing.get(person.pk) or Invitation(person=person, first_sent_at=now)
            invitation.sent_at = now
            invitation.sent_by = sent_by
            invitation.times_sent += 1
            invitation.save()
            _email_on_commit(person.pk)
            report.sent.append(person)
    return report


def _email_on_commit(person_id: int) -> None:
    transaction.on_commit(lambda: tasks_invitations.send_invitation_email.enqueue(person_id), robust=True)


# --- the link -----------------------------------------------------------------------------------------


def person_for_link(uidb64: str, token: str) -> tuple[User | None, str]:
    """The person an invitation link names and whether it may still set the password."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None, InvitationState.INVALID
    person = User.objects.filter(pk=pk, is_active=True).first()
    if person is None:
        return None, InvitationState.INVALID
    # An invitation only ever sets a first password: once one is chosen, every invitation link, even a
    # freshly signed one, sends to the login (a forgotten password goes through the reset form).
    if is_activated(person):
        return person, InvitationState.ALREADY_ACTIVE
    if token_generator.check_token(person, token):
        return person, InvitationState.VALID
    return person, InvitationState.INVALID


@transaction.atomic
def accept_invitation(person: User, set_password_form) -> User:
    """Save the chosen password (a valid SetPasswordForm for `person`) and mark the invitation accepted."""
    person = set_password_form.save()
    Invitation.objects.update_or_create(
        person=person, defaults={"accepted_at": timezone.now()},
        create_defaults={"accepted_at": timezone.now(), "first_sent_at": timezone.now(), "sent_at": timezone.now()},
    )
    return person


# --- who has not activated yet ------------------------------------------------------------------------


def pending_invitations() -> QuerySet[Invitation]:
    """Invitations sent whose person has not chosen a password yet, oldest first."""
    return (Invitation.objects.filter(NOT_ACTIVATED, person__is_active=True)
            .select_related("person__association", "sent_by").order_by("sent_at"))


# Sent, and the person still has no password (Django's unusable passwords start with "!").
NOT_ACTIVATED = Q(accepted_at__isnull=True) & Q(person__password__startswith="!")


def is_expired(invitation: Invitation, now=None) -> bool:
    return (now or timezone.now()) - invitation.sent_at > timedelta(days=expiry_days())
