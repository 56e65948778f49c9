"""The member's dashboard: what the home page (cms.models.HomePage) shows a signed-in member.

It gathers the directory (the person, their association and roles, the recently admitted members),
parrainage (their sponsorships, the commission's figures) and the forum (upcoming national meetings,
latest topics). It lives here, above those apps, because the directory may import none of them.
"""

from __future__ import annotations

from directory import access
from directory.models import RoleAssignment, User
from directory.selectors import recently_admitted
from forum import selectors as forum_selectors
from parrainage.selectors import commission_summary, parrainage_summary

DASHBOARD_MEETINGS = 5
DASHBOARD_TOPICS = 5


def dashboard_context(user, *, forum_permission_handler=None) -> dict:
    """What the member's home page shows: their association, roles, parrainage, network news, and
    from the forum their upcoming national meetings and the latest topics they may read.

    The number of queries is the same whatever the number of forums, topics or meetings. Pass the
    request's `forum_permission_handler` to share machina's permission cache with the page.
    """
    person = User.objects.select_related("association__region").get(pk=user.pk)
    association = person.association
    roles = list(
        RoleAssignment.objects.filter(user_id=user.pk)
        .select_related("region", "theme", "working_group")
        .order_by("role")
    )
    handler = forum_permission_handler or access.forum_permission_handler()
    latest_topics = forum_selectors.latest_topics_for(user, limit=DASHBOARD_TOPICS, handler=handler)
    unread = forum_selectors.unread_topic_ids(user, latest_topics)
    return {
        "person": person,
        "association": association,
        "association_visible": bool(association and access.can_view_association(user, association)),
        "roles": roles,
        "parrainage": parrainage_summary(person),
        "commission": commission_summary(user),
        "recent_associations": recently_admitted(),
        "upcoming_meetings": list(
            forum_selectors.meetings_for(user, upcoming=True, handler=handler)[:DASHBOARD_MEETINGS]
        ),
        "latest_topics": [{"topic": topic, "unread": topic.pk in unread} for topic in latest_topics],
    }
