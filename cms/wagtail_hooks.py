"""Wagtail hooks: one answer for private pages and documents, decided by cms.visibility.Visibility.

Wagtail's own view-restriction check sends anyone who fails a restriction to the login page, even
a signed-in member. Before it runs: a signed-in person who is not a member gets 403 (the members'
area as a whole); a member outside a narrower restriction gets 404, as if the page or document did
not exist (its title is never shown). Anonymous visitors are left to Wagtail, which redirects them
to our login page (WAGTAIL_FRONTEND_LOGIN_URL).
"""

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from wagtail import hooks

from cms.visibility import Denial, visibility_for_request


def _refuse(denial: Denial | None) -> None:
    if denial is Denial.FORBIDDEN:
        raise PermissionDenied(_("Votre compte n'a pas accès aux espaces des membres."))
    if denial is Denial.HIDDEN:
        raise Http404(_("Cette page n'existe pas ou ne vous est pas accessible."))


@hooks.register("before_serve_page", order=-10)
def refuse_private_pages(page, request, serve_args, serve_kwargs):
    _refuse(visibility_for_request(request).page_denial(page))


@hooks.register("before_serve_document", order=-10)
def refuse_private_documents(document, request):
    denial = visibility_for_request(request).document_denial(document)
    if denial is Denial.LOGIN:
        return redirect_to_login(request.get_full_path())
    _refuse(denial)
    return None
