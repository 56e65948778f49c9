"""The login forms: the site's, Django's admin's and Wagtail's admin's, each asking directory/lockout.py
before checking a password and telling it each failure and success (issue 16, item 2: per (account,
address) pair, per address, and the account-wide brake; README "Connexion : échecs, blocages et
déverrouillage"). The three count together: no door of the site lets guessing go on past the limits."""

from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from wagtail.admin.forms.auth import LoginForm as WagtailAdminLoginForm

from core import ratelimit
from directory import lockout


class LimitedLogin:
    """The limits above, for any form built on Django's AuthenticationForm; `refused` (a lockout.Refusal)
    tells the site's login view to answer 429."""

    refused: lockout.Refusal | None = None

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return super().clean()  # a missing field: the field's own error, nothing counted
        refused = lockout.refusal(self.request, username)
        if refused is not None:
            self.refused = refused
            if refused.locked:
                # The same words for a name no account has: the lock tells nothing the form does not.
                raise ValidationError(
                    _("Les connexions à ce compte sont suspendues : trop de mots de passe erronés ont été "
                      "essayés depuis plusieurs adresses. Même le bon mot de passe est refusé pour le "
                      "moment. Si ce compte est le vôtre, un lien pour le débloquer vous a été envoyé par "
                      "courriel ; l'équipe fédérale peut aussi le débloquer."),
                    code="locked",
                )
            raise ValidationError(
                _("Trop de tentatives de connexion ont échoué. Par sécurité, la connexion est "
                  "suspendue pour un moment. %(wait)s Si vous avez oublié votre mot de passe, "
                  "vous pouvez le réinitialiser.") % {"wait": ratelimit.wait_message(refused.verdict)},
                code="throttled",
            )
        try:
            cleaned_data = super().clean()
        except ValidationError as error:
            if error.code == "invalid_login":
                lockout.record_failure(self.request, username)
            raise
        lockout.record_success(self.request, username)
        return cleaned_data


class LoginForm(LimitedLogin, AuthenticationForm):
    """The site's login form (/compte/connexion/)."""


class AdminLoginForm(LimitedLogin, AdminAuthenticationForm):
    """Django's admin login form (/admin/login/, directory/admin.py installs it)."""


class WagtailLoginForm(LimitedLogin, WagtailAdminLoginForm):
    """Wagtail's admin login form (/cms-admin/login/, settings.WAGTAILADMIN_USER_LOGIN_FORM)."""
