from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied

from directory import access


class MemberRequiredMixin(AccessMixin):
    """Members of the network only: anonymous visitors go to login, other accounts get a 403."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not access.is_member(request.user):
            raise PermissionDenied("Votre compte n'a pas accès aux espaces des membres.")
        return super().dispatch(request, *args, **kwargs)
