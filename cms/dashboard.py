"""The CMS's section of the member's home page (directory.dashboard, registered in CmsConfig.ready()):
upcoming events for the reader, guides in their themes, the latest news (cms.selectors.dashboard_panels)."""

from __future__ import annotations

from cms import selectors
from cms.visibility import visibility_for_request


def dashboard_section(request, person) -> dict:
    """The CMS panels, with the request's Visibility (shared with the page's serving hooks)."""
    return selectors.dashboard_panels(request.user, visibility=visibility_for_request(request))
