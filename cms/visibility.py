"""Who sees which CMS pages and documents, decided in one place.

`Visibility(user)` is THE answer to "which pages and documents may this person see": it loads every
Wagtail view restriction (pages and collections, two queries), asks `directory.access` which of
them the person passes (from their roles), and filters querysets by excluding the subtrees they do
not pass. Menus, listings, the dashboard, blocks pointing at documents, the serving hooks
(cms.wagtail_hooks), registrations (cms.services): all go through it, so a page or document that
cannot be opened never shows its title either. It knows no CMS model: every module of the app may
use it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from django.db.models import Q, QuerySet
from wagtail.documents import get_document_model
from wagtail.models import CollectionViewRestriction, PageViewRestriction

from directory import access


@dataclass(frozen=True)
class Restriction:
    """One Wagtail view restriction: the tree path it covers, its type and its managed groups' keys."""

    path: str
    restriction_type: str
    groups: frozenset[str]


def _load_restrictions(model, path_lookup: str) -> list[Restriction]:
    rows = model.objects.values_list("pk", path_lookup, "restriction_type", "groups__managed__key")
    grouped: dict[int, tuple[str, str, set[str]]] = {}
    for pk, path, restriction_type, group_key in rows:
        entry = grouped.setdefault(pk, (path, restriction_type, set()))
        if group_key:
            entry[2].add(group_key)
    return [Restriction(path, kind, frozenset(groups)) for path, kind, groups in grouped.values()]


class Denial(enum.Enum):
    """Why a page or document is refused: anonymous → login; not a member → 403; else → 404."""

    LOGIN = "login"
    FORBIDDEN = "forbidden"
    HIDDEN = "hidden"


class Visibility:
    """What `user` may see of the CMS (see module docstring). Two queries, loaded on first use."""

    def __init__(self, user):
        self.user = user
        self.profile = access.profile(user)

    @cached_property
    def page_restrictions(self) -> list[Restriction]:
        return _load_restrictions(PageViewRestriction, "page__path")

    @cached_property
    def collection_restrictions(self) -> list[Restriction]:
        return _load_restrictions(CollectionViewRestriction, "collection__path")

    def _refused_paths(self, restrictions: Iterable[Restriction]) -> tuple[str, ...]:
        return tuple(sorted({
            r.path for r in restrictions
            if not access.passes_view_restriction(self.user, r.restriction_type, r.groups)
        }))

    @cached_property
    def hidden_page_paths(self) -> tuple[str, ...]:
        return self._refused_paths(self.page_restrictions)

    @cached_property
    def hidden_collection_paths(self) -> tuple[str, ...]:
        return self._refused_paths(self.collection_restrictions)

    @staticmethod
    def _exclude(queryset: QuerySet, paths: tuple[str, ...], lookup: str) -> QuerySet:
        if not paths:
            return queryset
        condition = Q()
        for path in paths:
            condition |= Q(**{f"{lookup}__startswith": path})
        return queryset.exclude(condition)

    def pages(self, queryset: QuerySet) -> QuerySet:
        """Live pages of `queryset` outside every subtree the person may not open."""
        return self._exclude(queryset.filter(live=True), self.hidden_page_paths, "path")

    def documents(self, queryset: QuerySet | None = None) -> QuerySet:
        """Documents the person may download: members only, outside refused collections."""
        queryset = get_document_model().objects.all() if queryset is None else queryset
        if not self.profile.is_member:
            return queryset.none()
        return self._exclude(queryset, self.hidden_collection_paths, "collection__path")

    def can_view_page(self, page) -> bool:
        return page.live and not any(page.path.startswith(p) for p in self.hidden_page_paths)

    def can_view_document(self, document) -> bool:
        if not self.profile.is_member:
            return False
        path = document.collection.path
        return not any(path.startswith(p) for p in self.hidden_collection_paths)

    def is_narrower_than_members(self, path: str) -> bool:
        """Whether a restriction on `path` or above it narrows the audience below all members
        (shown as a "diffusion restreinte" badge to those who may see it)."""
        members = frozenset({access.cms_members_group()})
        return any(path.startswith(r.path) and r.groups != members for r in self.page_restrictions)

    def _denial(self, visible: bool) -> Denial | None:
        if visible:
            return None
        if not self.profile.is_authenticated:
            return Denial.LOGIN
        if not self.profile.is_member:
            return Denial.FORBIDDEN
        return Denial.HIDDEN

    def page_denial(self, page) -> Denial | None:
        return self._denial(self.can_view_page(page))

    def document_denial(self, document) -> Denial | None:
        return self._denial(self.can_view_document(document))


def visibility_for_request(request) -> Visibility:
    """The reader's Visibility, computed once per request (serving hooks and page context share it)."""
    visibility = getattr(request, "_cms_visibility", None)
    if visibility is None or visibility.user is not request.user:
        visibility = Visibility(request.user)
        request._cms_visibility = visibility
    return visibility


def visible_pages(user, queryset: QuerySet) -> QuerySet:
    """Shortcut: the pages of `queryset` that `user` may see."""
    return Visibility(user).pages(queryset)


def visible_documents(user, queryset: QuerySet | None = None) -> QuerySet:
    """Shortcut: the documents (of `queryset`) that `user` may download."""
    return Visibility(user).documents(queryset)
