"""A caller's audience keys: which places (see search.sources) the person may open right now.

The rules are not here: directory.access gives the person's roles and groups, the forums they may
read (machina's permissions, granted to those groups) and the rooms they may open (the chat's
memberships, re-synced on every role change, and the staff's moderation of shared rooms); the
CMS's Visibility gives the page and collection restrictions they pass. This module only turns those
answers into keys, kept until the access version changes.
"""

from __future__ import annotations

from django.core.cache import cache

from chat.models import ChatRoom
from cms.selectors import Visibility
from directory import access
from search import sources

_ATTR = "_passerelles_search_keys"


def _forum_keys(user) -> set[str]:
    return {sources.forum_key(pk) for pk in access.readable_forums(user).values_list("pk", flat=True)}


def _room_keys(user) -> set[str]:
    rooms = access.chat_rooms_open_to(user, ChatRoom.objects.all())
    return {sources.room_key(pk) for pk in rooms.values_list("pk", flat=True)}


def _open_paths(restrictions, refused: tuple[str, ...]) -> set[str]:
    """Restricted paths the person may open: they pass that restriction and every one above it."""
    return {r.path for r in restrictions if not any(r.path.startswith(path) for path in refused)}


def _cms_keys(user) -> set[str]:
    visibility = Visibility(user)
    keys = {sources.cms_page_key(path)
            for path in _open_paths(visibility.page_restrictions, visibility.hidden_page_paths)}
    if visibility.profile.is_member:
        keys.update(sources.cms_collection_key(path) for path in
                    _open_paths(visibility.collection_restrictions, visibility.hidden_collection_paths))
    return keys


def keys_for(user) -> frozenset[str]:
    """Every audience key of `user`: cached on the user object for the request, and in the cache
    across requests under the access version (directory.access.version), which every change of
    roles, groups, forum permissions, rooms or restrictions replaces."""
    cached = getattr(user, _ATTR, None)
    if cached is not None:
        return cached
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    cache_key = f"passerelles:search-keys:{user.pk}:{access.version()}" if authenticated else None
    result = cache.get(cache_key) if cache_key else None
    if result is None:
        keys = set(access.audience_keys(user))
        keys.update(_cms_keys(user))
        if access.is_member(user):
            keys.update(_forum_keys(user))
            keys.update(_room_keys(user))
        result = frozenset(keys)
        if cache_key:
            cache.set(cache_key, result, access.ACCESS_CACHE_SECONDS)
    if authenticated:
        setattr(user, _ATTR, result)
    return result


def forget(user) -> None:
    if user is not None and hasattr(user, _ATTR):
        delattr(user, _ATTR)


def on_access_changed(change) -> None:
    """The search's handler of the directory's "access changed" hook (registered in SearchConfig.ready):
    every person's audience keys kept in the cache are outdated. The access version is replaced once
    per unit of work, however many rows the change touched (directory.access.changed)."""
    access.changed()
