"""Members-only by default: anonymous visitors reach only the public pages listed in settings.

Pages of the Wagtail tree are the exception: Wagtail's view restrictions decide for them (public
CMS pages such as the landing stay public; restricted ones send visitors to the login page). An
address of the tree that does not exist still sends anonymous visitors to the login page rather
than a 404, so that the names of private pages cannot be probed from outside.
"""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.urls import Resolver404, resolve
from wagtail.views import serve as wagtail_serve


class MembersOnlyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.public_prefixes = tuple(settings.PUBLIC_URL_PREFIXES)
        self.public_exact = frozenset(settings.PUBLIC_EXACT_URLS)

    def __call__(self, request):
        if request.user.is_authenticated or self.is_public(request.path_info):
            return self.get_response(request)
        if not self.is_cms_page(request):
            return redirect_to_login(request.get_full_path())
        response = self.get_response(request)
        if response.status_code == 404:
            return redirect_to_login(request.get_full_path())
        return response

    def is_public(self, path: str) -> bool:
        return path in self.public_exact or path.startswith(self.public_prefixes)

    @staticmethod
    def is_cms_page(request) -> bool:
        """Whether the address is served by Wagtail's page view (the tree at the site root)."""
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return False
        return match.func is wagtail_serve
