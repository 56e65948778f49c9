"""The one search document shape (docs/architecture.md, Search) and what stores answer.

Every searchable thing — a CMS page, a document, a forum topic or post, an association, a person,
a chat message — becomes one `SearchDocument`. Its `audience` holds keys (`public`, `members`,
`forum:12`, `room:7`, `cms:page:<path>`…); a caller's keys come from `search.audiences`, which asks
`directory.access` and the apps' selectors. Stores always filter by the caller's keys inside the
engine, before counting, faceting, ranking and paginating.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext_lazy as _


class Kind:
    PAGE = "page"
    DOCUMENT = "document"
    TOPIC = "topic"
    POST = "post"
    ASSOCIATION = "association"
    PERSON = "person"
    MESSAGE = "message"

    LABELS = {
        PAGE: _("Page ou guide"),
        DOCUMENT: _("Document"),
        TOPIC: _("Sujet du forum"),
        POST: _("Message du forum"),
        ASSOCIATION: _("Association"),
        PERSON: _("Personne"),
        MESSAGE: _("Discussion"),
    }
    ALL = tuple(LABELS)
    # What the navigation's autocomplete proposes (issue 6: associations, people and guides).
    AUTOCOMPLETE = (ASSOCIATION, PERSON, PAGE)


# Limits that keep every query cheap whatever is typed.
MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 12
MAX_PAGE = 50
PER_PAGE = 20


@dataclass(frozen=True)
class SearchDocument:
    """One indexed thing. `key` is unique and stable: "<kind>:<primary key>" (e.g. "post:42").

    `version` is when its state was read from the database (time.time_ns() taken before the read,
    search.sources): Elasticsearch keeps the document of the highest version, so a task applied late
    never overwrites a newer state (docs/architecture.md, Search). 0: no version (tests, the embedded store).
    """

    key: str
    kind: str
    title: str
    body: str
    url: str
    audience: tuple[str, ...]
    date: datetime | None = None
    author: str = ""
    themes: tuple[str, ...] = ()
    region: str = ""
    version: int = 0


@dataclass(frozen=True)
class SearchQuery:
    """A search as a store receives it: text already trimmed to MAX_QUERY_CHARS."""

    text: str
    audience: frozenset[str]
    kind: str = ""
    theme: str = ""
    region: str = ""
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Hit:
    key: str
    kind: str
    title: str
    url: str
    snippet: str  # HTML: escaped text with <mark> around matched words
    date: datetime | None = None
    author: str = ""


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


@dataclass
class SearchResults:
    total: int = 0
    hits: list[Hit] = field(default_factory=list)
    # "kind", "theme", "region" → values with counts, most frequent first
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    # Which store answered ("database", "elasticsearch"); the page says when it fell back.
    store: str = ""
    # True when no document had every word and the results have any of them (the page says so).
    relaxed: bool = False


@dataclass(frozen=True)
class Suggestion:
    kind: str
    title: str
    url: str
