"""The invitation link's page: choose a password, get signed in (directory.invitations)."""

from django.contrib.auth import login
from django.contrib.auth.forms import SetPasswordForm
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView

from directory import invitation_links, invitations


@method_decorator([sensitive_post_parameters(), never_cache], name="dispatch")
class InvitationAcceptView(FormView):
    """Anonymous-accessible (settings.PUBLIC_URL_PREFIXES): the signed link is the credential."""

    template_name = "registration/invitation_accept.html"
    form_class = SetPasswordForm

    def dispatch(self, request, *args, **kwargs):
        self.person, state = invitations.person_for_link(kwargs["uidb64"], kwargs["token"])
        if state != invitations.InvitationState.VALID:
            return TemplateResponse(request, "registration/invitation_invalid.html", {
                "already_active": state == invitations.InvitationState.ALREADY_ACTIVE,
                "valid_days": invitation_links.expiry_days(),
            })
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.person}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "person": self.person}

    def form_valid(self, form):
        person = invitations.accept_invitation(self.person, form)
        login(self.request, person, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("/")
