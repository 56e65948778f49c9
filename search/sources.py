"""From the project's objects to search documents: one builder per kind, and who may see each.

A document's audience names WHERE the thing lives, never who is in there today: `forum:<id>`,
`room:<id>`, `cms:page:<path of the nearest restriction>`, `members`… The caller's keys
(`search.audiences`) say which of those places they may open now, from directory.access and the
apps' selectors, so a role change shows in search at once, without re-indexing. Objects are
re-indexed only when where they live changes (a topic moved, a restriction added, an association
admitted).

`documents_for(keys)` builds the documents of some keys (absent when the object is gone or no
longer searchable: the caller deletes those); `all_documents()` streams everything for a rebuild.
Both stamp what they read with a version, the time taken just BEFORE reading: a task triggered by a
commit starts reading after it, so its version is above that of any read that may have missed the
commit, and Elasticsearch keeps the highest (docs/architecture.md, Search).
"""

from __future__ import annotations

import dataclasses
import html
import time
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from django.db.models import Prefetch
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from machina.apps.forum_conversation.models import Post, Topic
from wagtail.documents import get_document_model
from wagtail.models import CollectionViewRestriction, Page, PageViewRestriction
from wagtail.search import index

from chat.models import ChatMessage
from directory import access
from directory.access import ChatRoomKind
from directory.models import Association, RoleAssignment, User
from directory.roles import Role
from forum.models import ForumSpace
from forum.selectors import topic_url
from search.documents import Kind, SearchDocument

CHUNK = 2000
PUBLIC = "public"
MEMBERS = "members"


def key(kind: str, pk) -> str:
    return f"{kind}:{pk}"


def split_key(value: str) -> tuple[str, str]:
    kind, _sep, pk = value.partition(":")
    return kind, pk


# --- Audience keys of places ----------------------------------------------------------------------


def forum_key(forum_id: int) -> str:
    return f"forum:{forum_id}"


def room_key(room_id: int) -> str:
    return f"room:{room_id}"


def cms_page_key(path: str) -> str:
    return f"cms:page:{path}"


def cms_collection_key(path: str) -> str:
    return f"cms:coll:{path}"


def _deepest(path: str, restricted_paths: Iterable[str]) -> str | None:
    candidates = [p for p in restricted_paths if path.startswith(p)]
    return max(candidates, key=len) if candidates else None


# --- Builders ---------------------------------------------------------------------------------------


def _person_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _associations(pks: Iterable | None = None) -> Iterator[SearchDocument]:
    queryset = Association.objects.select_related("region").prefetch_related("themes").order_by("pk")
    if pks is not None:
        queryset = queryset.filter(pk__in=pks)
    for association in queryset.iterator(chunk_size=CHUNK):
        themes = [theme.name for theme in association.themes.all()]
        body = " · ".join(filter(None, [
            association.city, association.departement, association.region.name, ", ".join(themes),
            association.description,
        ]))
        yield SearchDocument(
            key=key(Kind.ASSOCIATION, association.pk), kind=Kind.ASSOCIATION, title=association.name,
            body=body, url=association.get_absolute_url(), audience=access.listing_audience(association.status),
            date=None, themes=tuple(themes), region=association.region.name,
        )


def _people(pks: Iterable | None = None) -> Iterator[SearchDocument]:
    queryset = (
        access.directory_people()
        .select_related("association__region")
        .prefetch_related("expertise", Prefetch("role_assignments", RoleAssignment.objects.select_related("region")))
        .order_by("pk")
    )
    if pks is not None:
        queryset = queryset.filter(pk__in=pks)
    for person in queryset.iterator(chunk_size=CHUNK):
        roles = list(person.role_assignments.all())
        association = person.association
        role_labels = sorted({str(Role(r.role).label) for r in roles if r.role in Role.values})
        themes = [theme.name for theme in person.expertise.all()]
        body = " · ".join(filter(None, [
            person.job_title, association.name if association else _("Fédération"), ", ".join(role_labels),
            ", ".join(themes), person.bio,
        ]))
        yield SearchDocument(
            key=key(Kind.PERSON, person.pk), kind=Kind.PERSON, title=_person_name(person), body=body,
            url=person.get_absolute_url(),
            audience=access.listing_audience(association.status if association else None), themes=tuple(themes),
            region=association.region.name if association else "",
        )


def _forum_places():
    """forum id → (theme name, region name), from the forum spaces (one query)."""
    return {
        space.forum_id: (space.theme.name if space.theme_id else "", space.region.name if space.region_id else "")
        for space in ForumSpace.objects.select_related("theme", "region")
    }


def _post_text(post) -> str:
    rendered = getattr(post, "_content_rendered", "") or ""
    # Plain text: the rendered HTML's entities decoded too (snippets escape it once, when shown).
    return " ".join(html.unescape(strip_tags(rendered)).split()) if rendered else post.content.raw


def _forum_posts(pks: Iterable | None = None, *, topic_pks: Iterable | None = None) -> Iterator[SearchDocument]:
    """Topics (subject + opening post) and replies, approved ones only, in approved topics."""
    places = _forum_places()
    queryset = (
        Post.objects.filter(approved=True, topic__approved=True)
        .select_related("topic__forum", "poster")
        .order_by("pk")
    )
    if pks is not None:
        queryset = queryset.filter(pk__in=pks)
    if topic_pks is not None:
        queryset = queryset.filter(topic_id__in=topic_pks)
    for post in queryset.iterator(chunk_size=CHUNK):
        topic = post.topic
        theme, region = places.get(topic.forum_id, ("", ""))
        url = topic_url(topic)
        common = {
            "body": _post_text(post), "audience": (forum_key(topic.forum_id),), "date": post.created,
            "author": _person_name(post.poster) or (post.username or ""), "themes": (theme,) if theme else (),
            "region": region,
        }
        if topic.first_post_id == post.pk:
            yield SearchDocument(key=key(Kind.TOPIC, topic.pk), kind=Kind.TOPIC, title=topic.subject, url=url,
                                 **common)
        else:
            yield SearchDocument(key=key(Kind.POST, post.pk), kind=Kind.POST,
                                 title=_("Re : %(sujet)s") % {"sujet": topic.subject},
                                 url=f"{url}?post={post.pk}#{post.pk}", **common)


def _chat_messages(pks: Iterable | None = None) -> Iterator[SearchDocument]:
    queryset = (
        ChatMessage.objects.filter(deleted_at__isnull=True)
        .select_related("room__region", "room__theme", "author")
        .order_by("pk")
    )
    if pks is not None:
        queryset = queryset.filter(pk__in=pks)
    for message in queryset.iterator(chunk_size=CHUNK):
        room = message.room
        title = _("Message privé") if room.kind == ChatRoomKind.DIRECT else room.name
        yield SearchDocument(
            key=key(Kind.MESSAGE, message.pk), kind=Kind.MESSAGE, title=title, body=message.body,
            url=f"{room.get_absolute_url()}?apres={message.pk - 1}#message-{message.pk}",
            audience=(room_key(room.pk),), date=message.created_at, author=_person_name(message.author),
            themes=(room.theme.name,) if room.theme_id else (), region=room.region.name if room.region_id else "",
        )


def _page_text(page) -> str:
    """The searchable text of a page: its search fields, StreamField blocks included."""
    parts = []
    for field in page.get_search_fields():
        if not isinstance(field, index.SearchField) or field.field_name == "title":
            continue
        try:
            value = field.get_value(page)
        except Exception:  # a search field naming a method that needs a request: skip it
            continue
        if isinstance(value, (list, tuple)):  # StreamFields give their blocks' searchable text
            parts.extend(str(chunk) for chunk in value)
        elif isinstance(value, str):
            parts.append(value)
    return " ".join(" ".join(strip_tags(part).split()) for part in parts if part)


def _pages(pks: Iterable | None = None) -> Iterator[SearchDocument]:
    restricted = list(PageViewRestriction.objects.values_list("page__path", flat=True))
    queryset = Page.objects.live().filter(depth__gt=1).specific().order_by("pk")
    if pks is not None:
        queryset = queryset.filter(pk__in=pks)
    for page in queryset.iterator(chunk_size=500):
        path = _deepest(page.path, restricted)
        themes = ()
        if hasattr(page, "themes"):
            themes = tuple(theme.name for theme in page.themes.all())
        yield SearchDocument(
            key=key(Kind.PAGE, page.pk), kind=Kind.PAGE, title=page.title, body=_page_text(page),
            url=page.url or "", audience=(cms_page_key(path),) if path else (PUBLIC,),
            date=page.last_published_at, themes=themes,
        )


def _documents(pks: Iterable | None = None) -> Iterator[SearchDocument]:
    restricted = list(CollectionViewRestriction.objects.values_list("collection__path", flat=True))
    queryset = get_document_model().objects.select_related("collection").order_by("pk")
    if hasattr(get_document_model(), "themes"):
        queryset = queryset.prefetch_related("themes")
    if pks is not None:
        queryset = queryset.filter(pk__in=pks)
    for document in queryset.iterator(chunk_size=CHUNK):
        path = _deepest(document.collection.path, restricted)
        themes = tuple(theme.name for theme in document.themes.all()) if hasattr(document, "themes") else ()
        kind_label = document.get_kind_display() if hasattr(document, "get_kind_display") else ""
        body = " · ".join(filter(None, [kind_label, getattr(document, "description", ""), document.filename]))
        yield SearchDocument(
            key=key(Kind.DOCUMENT, document.pk), kind=Kind.DOCUMENT, title=document.title, body=body,
            url=document.url, audience=(cms_collection_key(path),) if path else (MEMBERS,),
            date=document.created_at, themes=themes,
        )


def _topics_by_pk(pks: Iterable) -> Iterator[SearchDocument]:
    post_pks = Topic.objects.filter(pk__in=list(pks)).values_list("first_post_id", flat=True)
    return _forum_posts([pk for pk in post_pks if pk])


BUILDERS = {
    Kind.ASSOCIATION: _associations,
    Kind.PERSON: _people,
    Kind.PAGE: _pages,
    Kind.DOCUMENT: _documents,
    Kind.TOPIC: _topics_by_pk,
    Kind.POST: _forum_posts,
    Kind.MESSAGE: _chat_messages,
}


class Snapshot(NamedTuple):
    """What `documents_for` read: the documents, the keys without one (to delete), and `version`, the
    time (ns) taken before reading, carried by each document and used for the deletions."""

    documents: list[SearchDocument]
    gone: list[str]
    version: int


def read_version() -> int:
    """A version for a state about to be read: nanoseconds since the epoch, always above 0."""
    return max(time.time_ns(), 1)


def documents_for(keys: Iterable[str]) -> Snapshot:
    """The documents of `keys` as they are now, and the keys that no longer have one (to delete)."""
    version = read_version()
    by_kind: dict[str, list[int]] = {}
    wanted = set()
    for value in keys:
        kind, pk = split_key(value)
        if kind in BUILDERS and pk.isdigit():
            by_kind.setdefault(kind, []).append(int(pk))
            wanted.add(value)
    # By key: a post's key and its topic's key both build the topic's document when it is the opening post.
    found: dict[str, SearchDocument] = {}
    for kind, pks in by_kind.items():
        for start in range(0, len(pks), CHUNK):
            found.update((doc.key, doc) for doc in BUILDERS[kind](pks[start:start + CHUNK]) if doc.key in wanted)
    documents = [dataclasses.replace(document, version=version) for document in found.values()]
    return Snapshot(documents, sorted(wanted - found.keys()), version)


def all_documents() -> Iterator[SearchDocument]:
    """Everything, kind by kind; each kind's documents carry the time taken before its query ran."""
    for builder in (_pages, _documents, _associations, _people, _forum_posts, _chat_messages):
        version = read_version()
        for document in builder():
            yield dataclasses.replace(document, version=version)


def estimated_total() -> int:
    return (
        Page.objects.live().filter(depth__gt=1).count() + get_document_model().objects.count()
        + Association.objects.count() + User.objects.filter(is_active=True).count()
        + Post.objects.filter(approved=True, topic__approved=True).count()
        + ChatMessage.objects.filter(deleted_at__isnull=True).count()
    )


