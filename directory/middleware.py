"""Members-only by default: anonymous visitors reach only the public pages listed in settings."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login


class MembersOnlyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.public_prefixes = tuple(settings.PUBLIC_URL_PREFIXES)
        self.public_exact = frozenset(settings.PUBLIC_EXACT_URLS)

    def __call__(self, request):
        if not request.user.is_authenticated and not self.is_public(request.path_info):
            return redirect_to_login(request.get_full_path())
        return self.get_response(request)

    def is_public(self, path: str) -> bool:
        return path in self.public_exact or path.startswith(self.public_prefixes)
