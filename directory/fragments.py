"""Parts of pages that are the same for many readers, rendered once and kept in the cache.

The one place where a cached fragment's key is made (docs/architecture.md, "Caches"). A key has
four parts, and nothing else decides which cached copy a reader gets:

- the fragment's **name** (what it is: "forum-tree", "dashboard-guides"…);
- the **access version** (`access.version()`): any change to roles, groups, associations, forums,
  forum permissions, rooms or page restrictions makes every fragment new at once;
- the **audience**: a digest of exactly what the fragment's content depends on for this reader
  (the forums they may read, their profile…). Two readers with the same audience must be entitled to
  the very same HTML; a personal fragment uses the person's id. Callers build it with `audience()` or
  `profile_audience()`, never by hand;
- the **stamp**: a digest of what changes the content itself (the content version of a scope, a
  last-post date), given by the caller.

Content versions work like the access version: `content_changed(scope)` replaces a random token, so a
version lost from the cache can never bring old entries back.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe

from directory import access

# Fragments also expire on their own: a safety net for changes made without signals.
FRAGMENT_SECONDS = 300

_KEY_PREFIX = "passerelles:fragment"
_CONTENT_PREFIX = "passerelles:content-version"


def digest(*parts: object) -> str:
    """A short, stable digest of `parts` (sets and frozensets are sorted first)."""
    normalised = [sorted(map(repr, part)) if isinstance(part, (set, frozenset)) else part for part in parts]
    return hashlib.sha256(repr(normalised).encode()).hexdigest()[:24]


def audience(*parts: object) -> str:
    """The audience of a fragment whose content depends on `parts` only (e.g. readable forum ids)."""
    return "a-" + digest(*parts)


def profile_audience(user) -> str:
    """The audience of a fragment that depends on who the person is in the network (their whole access
    profile: roles, association and its status, regions, working groups, themes), not on their id."""
    return "p-" + digest(*access.audience_parts(user))


def personal_audience(user) -> str:
    """The audience of a fragment meant for one person only."""
    return f"u-{user.pk}" if getattr(user, "is_authenticated", False) else "anonymous"


def content_version(scope: str) -> str:
    """The current content version of `scope` (a token to put in a fragment's stamp)."""
    key = f"{_CONTENT_PREFIX}:{scope}"
    current = cache.get(key)
    if current is None:
        cache.add(key, uuid.uuid4().hex, None)
        current = cache.get(key) or "unset"
    return current


def content_changed(*scopes: str) -> None:
    """What fragments of these scopes show has changed: they are rendered again on next view."""
    cache.set_many({f"{_CONTENT_PREFIX}:{scope}": uuid.uuid4().hex for scope in scopes}, None)


def key(name: str, *, audience: str, stamp: str = "") -> str:
    return f"{_KEY_PREFIX}:{name}:{access.version()}:{audience}:{stamp}"


def cached(name: str, *, audience: str, render: Callable[[], str], stamp: str = "",
           timeout: int = FRAGMENT_SECONDS) -> SafeString:
    """The fragment `name` for this audience and stamp: from the cache, else `render()`d and kept.

    `render` returns HTML that is already safe (a rendered template)."""
    cache_key = key(name, audience=audience, stamp=stamp)
    html = cache.get(cache_key)
    if html is None:
        html = str(render())
        cache.set(cache_key, html, timeout)
    # Rendered by our own templates, escaped there.
    return mark_safe(html)


def stamp(*parts: Iterable[object] | object) -> str:
    """A stamp made of content versions and values the caller knows (dates, counts)."""
    return digest(*parts)
