"""The unread count of the "Discussions" entry of the navigation: lazy, one query when shown."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from chat import selectors


def chat(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"chat_unread_total": SimpleLazyObject(lambda: selectors.unread_total(user))}
