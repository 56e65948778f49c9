"""Account pages: Django's login and password-reset views with the site's abuse limits (core/ratelimit.py,
directory/lockout.py), and the link that lifts a locked account."""

from urllib.parse import urlsplit

from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache

from core import links, ratelimit
from directory import lockout
from directory.forms_account import LoginForm


class PasswordLoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.refused is not None and form.refused.locked:
            # No wait ends a lock (the owner's link or the staff do): 429 without Retry-After.
            response.status_code = 429
        elif form.refused is not None:
            # The form again, with the reason; 429 tells scripts and proxies it is a rate limit.
            return ratelimit.refusal(response, form.refused.verdict)
        return response


@method_decorator(never_cache, name="dispatch")
class LoginUnlockView(View):
    """The link e-mailed to the owner of a locked account (public: the signed token is the credential).
    GET asks for confirmation, so that a mail scanner opening the link lifts nothing; POST lifts the lock."""

    template_name = "registration/login_unlock.html"

    def get(self, request, token):
        lock = lockout.lock_for_token(token)
        return TemplateResponse(request, self.template_name, {"state": "ask" if lock else "invalid"})

    def post(self, request, token):
        lock = lockout.lock_for_token(token)
        if lock is None or not lockout.lift(lock):
            return TemplateResponse(request, self.template_name, {"state": "invalid"})
        return TemplateResponse(request, self.template_name, {"state": "done"})


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, refusing once too many e-mails were asked for from one client address or for
    one e-mail address (PASSWORD_RESET_*_RATE_LIMIT). The refusal is the same whether an account has the
    address or not: it never tells which addresses are known.

    The e-mailed link starts with SITE_URL (`site_url` in the e-mail's context), never with the request's
    Host header, which Django's form would use: a forged Host would carry the reset token to another
    site. `domain` and `protocol` are taken from SITE_URL too, for any template that still uses them."""

    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        rates = [
            (ratelimit.Rate.configured("password-reset-address", "PASSWORD_RESET"),
             ratelimit.client_address(self.request)),
            (ratelimit.Rate.configured("password-reset-email", "PASSWORD_RESET_EMAIL"),
             form.cleaned_data["email"].strip().casefold()),
        ]
        verdict = ratelimit.check_all(*rates)
        if not verdict.allowed:
            form.add_error(None, _("Trop de demandes de réinitialisation ont été faites : aucun nouveau courriel "
                                   "n'est envoyé pour le moment. %(wait)s Le lien déjà reçu reste valable.")
                           % {"wait": ratelimit.wait_message(verdict)})
            return ratelimit.refusal(self.render_to_response(self.get_context_data(form=form)), verdict)
        for rate, key in rates:
            ratelimit.record(rate, key)
        site = urlsplit(links.site_url())
        form.save(
            domain_override=site.netloc,
            use_https=site.scheme == "https",
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            html_email_template_name=self.html_email_template_name,
            extra_email_context={**(self.extra_email_context or {}), "site_url": links.site_url()},
            request=self.request,
        )
        return HttpResponseRedirect(self.get_success_url())
