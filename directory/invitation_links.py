"""The invitation link (directory/invitations.py sends it, directory/tasks_invitations.py e-mails it):
its token, its address, how long it stays valid and who may receive one.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode
from django.utils.translation import gettext as _

from core import links
from directory.models import User


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Django's password-reset token, with its own salt (a reset link is no invitation, nor the
    reverse) and its own lifetime: INVITATION_EXPIRY_DAYS instead of PASSWORD_RESET_TIMEOUT."""

    # The class's former place, kept: a new salt would void every invitation link already e-mailed.
    key_salt = "directory.invitations.InvitationTokenGenerator"

    def check_token(self, user, token) -> bool:
        if not (user and token):
            return False
        try:
            timestamp_b36, _hash = token.split("-")
            timestamp = base36_to_int(timestamp_b36)
        except ValueError:
            return False
        age = self._num_seconds(self._now()) - timestamp
        if age < 0 or age > expiry_days() * 86400:
            return False
        return any(constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
                   for secret in [self.secret, *self.secret_fallbacks])


token_generator = InvitationTokenGenerator()


def expiry_days() -> int:
    return max(1, int(settings.INVITATION_EXPIRY_DAYS))


def invitation_path(person: User, generator: PasswordResetTokenGenerator = token_generator) -> str:
    return reverse("invitation_accept", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(person.pk)), "token": generator.make_token(person)})


def invitation_url(person: User) -> str:
    return links.absolute_url(invitation_path(person))


def is_activated(person: User) -> bool:
    return person.has_usable_password()


def skip_reason(person: User) -> str | None:
    """Why this person cannot be invited, in French, or None."""
    if not person.is_active:
        return _("compte désactivé")
    if not person.email:
        return _("pas d'adresse électronique")
    if is_activated(person):
        return _("compte déjà activé")
    return None
