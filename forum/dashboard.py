"""The forum's section of the member's home page (directory.dashboard, registered in
ExchangeConfig.ready()): their upcoming national meetings and the latest topics they may read."""

from __future__ import annotations

from directory import access
from forum import selectors

DASHBOARD_MEETINGS = 5
DASHBOARD_TOPICS = 5


def dashboard_section(request, person) -> dict:
    """`upcoming_meetings` and `latest_topics` (each with its `unread` marker) of the reader.

    The number of queries is the same whatever the number of forums, topics or meetings. The
    request's `forum_permission_handler` (set by the forum's middleware) is shared, with machina's
    permission cache, with the rest of the page.
    """
    user = request.user
    handler = getattr(request, "forum_permission_handler", None) or access.forum_permission_handler()
    latest_topics = selectors.latest_topics_for(user, limit=DASHBOARD_TOPICS, handler=handler)
    unread = selectors.unread_topic_ids(user, latest_topics)
    return {
        "upcoming_meetings": list(selectors.meetings_for(user, upcoming=True, handler=handler)[:DASHBOARD_MEETINGS]),
        "latest_topics": [{"topic": topic, "unread": topic.pk in unread} for topic in latest_topics],
    }
