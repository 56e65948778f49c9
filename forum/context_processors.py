"""Template context for the notification link in the navigation and the forum "follow" button.

Both values are lazy: a page that does not show them runs no query; a page that shows the unread
count runs one COUNT query.
"""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from forum import notifications as notification_services


def notifications(request) -> dict:
    """`notifications_unread_count` (int) and `followed_forum_ids` (set of forum ids), both lazy."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "notifications_unread_count": SimpleLazyObject(lambda: notification_services.unread_count(user)),
        "followed_forum_ids": SimpleLazyObject(lambda: notification_services.followed_forum_ids(user)),
    }
