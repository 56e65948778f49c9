"""The login form: Django's, refusing attempts after too many failures (core/ratelimit.py).

Failures are counted per account name and per client address, LOGIN_RATE_LIMIT and
LOGIN_ADDRESS_RATE_LIMIT within their windows (5 in 30 minutes by default). Once either count is
reached the form refuses at once, without checking the password, so that guessing goes no further
even with the right one. A successful login clears its own account's count, never the address's:
an attacker who owns one account cannot reset the count of the address they guess other accounts
from.
"""

from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from core import ratelimit


def _account_rate() -> ratelimit.Rate:
    return ratelimit.Rate.configured("login-account", "LOGIN")


def _address_rate() -> ratelimit.Rate:
    return ratelimit.Rate.configured("login-address", "LOGIN_ADDRESS")


def _account_key(username: str) -> str:
    # "Alice" and "alice " count as one account: the limit cannot be dodged by changing the case.
    return username.strip().casefold()


def login_verdict(request: HttpRequest | None, username: str) -> ratelimit.Verdict:
    """Whether one more login attempt for `username` from the request's address is allowed now."""
    counters = [(_account_rate(), _account_key(username))]
    if request is not None:
        counters.append((_address_rate(), ratelimit.client_address(request)))
    return ratelimit.check_all(*counters)


def record_login_failure(request: HttpRequest | None, username: str) -> None:
    ratelimit.record(_account_rate(), _account_key(username))
    if request is not None:
        ratelimit.record(_address_rate(), ratelimit.client_address(request))


def forget_account_failures(username: str) -> None:
    ratelimit.reset(_account_rate(), _account_key(username))


class LoginForm(AuthenticationForm):
    """Django's login form with the failure limits above; `throttled` (the refusing verdict) tells the view
    to answer 429."""

    throttled: ratelimit.Verdict | None = None

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return super().clean()  # a missing field: the field's own error, nothing counted
        verdict = login_verdict(self.request, username)
        if not verdict.allowed:
            self.throttled = verdict
            raise ValidationError(
                _("Trop de tentatives de connexion ont échoué. Par sécurité, la connexion est "
                  "suspendue pour un moment. %(wait)s Si vous avez oublié votre mot de passe, "
                  "vous pouvez le réinitialiser.") % {"wait": ratelimit.wait_message(verdict)},
                code="throttled",
            )
        try:
            cleaned_data = super().clean()
        except ValidationError as error:
            if error.code == "invalid_login":
                record_login_failure(self.request, username)
            raise
        forget_account_failures(username)
        return cleaned_data
