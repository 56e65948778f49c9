"""What every search store does. `search.backend` picks one from ELASTICSEARCH_URL."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from search.documents import SearchDocument, SearchQuery, SearchResults, Suggestion


class StoreUnavailable(Exception):
    """The store cannot be reached (Elasticsearch down): searches fall back, updates are retried.

    `kind` says why, for the logs, the staff warning and `search_index status` (search.backend.FAILURE_KINDS):
    "unreachable", "authentication" (401/403), "overloaded" (429/5xx), "missing-index", "not-elasticsearch",
    "configuration" (a CA file missing, contradictory credentials).
    """

    def __init__(self, message: str = "", *, kind: str = "unreachable"):
        super().__init__(message)
        self.kind = kind


class IndexMissing(StoreUnavailable):
    """The store answers but has no index to write to (never created, or its data lost).

    A write never creates an empty index on its own: the caller knows whether there is content to load
    first (search.indexing asks for a rebuild) or none (a fresh install: `ensure_index()`)."""

    def __init__(self, message: str = "", *, kind: str = "missing-index"):
        super().__init__(message, kind=kind)


class Store:
    name = "base"

    def index(self, documents: Iterable[SearchDocument]) -> int:
        """Add or replace documents (by key), in bulk. Returns how many were written.

        A store that keeps versions skips a document older (`SearchDocument.version`) than the one it holds."""
        raise NotImplementedError

    def delete(self, keys: Iterable[str], *, version: int = 0) -> int:
        """Remove documents by key; unknown keys are ignored. `version`: when their absence was read
        (a store that keeps versions leaves a newer document in place)."""
        raise NotImplementedError

    def search(self, query: SearchQuery) -> SearchResults:
        """Hits, total and facets of the documents whose audience meets `query.audience`."""
        raise NotImplementedError

    def autocomplete(self, text: str, audience: frozenset[str], kinds: tuple[str, ...],
                     limit: int = 8) -> list[Suggestion]:
        """Titles starting with the words typed (prefix of the last one), among `kinds`, audience-filtered."""
        raise NotImplementedError

    def rebuild(self, documents: Iterable[SearchDocument], *, total: int | None = None,
                progress: Callable[[int], None] | None = None) -> int:
        """Replace the whole index with `documents`; searches keep answering meanwhile."""
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError
