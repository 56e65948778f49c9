"""References from one app's pages to the content of another app, resolved by the app that owns it.

A CMS page cites a forum topic by its number; the CMS sits beside the forum, not above it, so it may
not import it. The owning app registers, from its `AppConfig.ready()`, how to resolve a kind of
reference (the forum: `forum.topic_links`, for `FORUM_TOPIC`):

    references.register(references.FORUM_TOPIC, exists=topic_exists, readable=readable_topic_links)

- `exists(pk)`: whether the content exists (an editor's input is checked against it);
- `readable(user, pks)`: the contents among `pks` the reader may open, as `Reference`s (the owning
  app applies the access rules, in a fixed number of queries).

Without a resolver (the owning app is not installed) nothing exists and nothing is shown. Core imports
no project app (the same pattern as directory/hooks.py, one layer lower).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

FORUM_TOPIC = "forum-topic"


@dataclass(frozen=True)
class Reference:
    """What a page shows of a content it cites: its title, its address, where it lives (a forum's name)."""

    title: str
    url: str
    place: str = ""


@dataclass(frozen=True)
class Resolver:
    exists: Callable[[int], bool]
    readable: Callable[[Any, set[int]], dict[int, Reference]]


_resolvers: dict[str, Resolver] = {}


def register(kind: str, *, exists: Callable[[int], bool],
             readable: Callable[[Any, set[int]], dict[int, Reference]]) -> None:
    """Called from the owning app's `ready()`; a second registration of `kind` replaces the first."""
    _resolvers[kind] = Resolver(exists, readable)


def exists(kind: str, pk: int) -> bool:
    resolver = _resolvers.get(kind)
    return resolver is not None and resolver.exists(pk)


def readable(kind: str, user, pks: Iterable[int]) -> dict[int, Reference]:
    """pk → Reference for the contents among `pks` that `user` may open (none asked: no query)."""
    pks = set(pks)
    resolver = _resolvers.get(kind)
    if not pks or resolver is None:
        return {}
    return resolver.readable(user, pks)
