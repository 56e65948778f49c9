"""Home, resources and the membership placeholder, until the CMS issue moves them into Wagtail."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from directory import access, selectors


def home(request):
    """Public landing for anonymous visitors; a member dashboard for members."""
    if not request.user.is_authenticated:
        return render(request, "cms/landing.html", {"stats": selectors.network_stats()})
    if not access.is_member(request.user):
        raise PermissionDenied("Votre compte n'a pas accès aux espaces des membres.")
    return render(request, "cms/dashboard.html", selectors.dashboard_context(request.user))


@login_required
def resources(request):
    if not access.is_member(request.user):
        raise PermissionDenied("Votre compte n'a pas accès aux espaces des membres.")
    return render(request, "cms/resources_placeholder.html")


def membership_application(request):
    return render(request, "cms/membership_placeholder.html")
