"""Which store answers, and what happens when Elasticsearch does not.

The database store is always kept up to date: it is the embedded store when ELASTICSEARCH_URL is
unset, and the fallback when it is set. With Elasticsearch configured, searches go to it and fall
back to the database store when it cannot be reached; index updates it missed wait in
PendingIndexUpdate and are sent again on the next indexing run (or `search_index retry`).
"""

from __future__ import annotations

import logging
from functools import lru_cache

from django.conf import settings

from search.documents import SearchQuery, SearchResults, Suggestion
from search.stores.base import Store, StoreUnavailable
from search.stores.database import DatabaseStore

logger = logging.getLogger(__name__)


def database_store() -> DatabaseStore:
    return DatabaseStore()


@lru_cache(maxsize=4)
def _elastic(url: str, index: str):
    # local import: the Elasticsearch client is an optional heavy backend, loaded only when ELASTICSEARCH_URL is set
    from search.stores.elastic import ElasticsearchStore

    return ElasticsearchStore(url, index=index)


def elastic_store() -> Store | None:
    """The Elasticsearch store when ELASTICSEARCH_URL is set, else None."""
    url = getattr(settings, "SEARCH_ELASTICSEARCH_URL", "")
    if not url:
        return None
    return _elastic(url, getattr(settings, "SEARCH_ELASTICSEARCH_INDEX", "passerelles"))


def search(query: SearchQuery) -> SearchResults:
    elastic = elastic_store()
    if elastic is not None:
        try:
            return elastic.search(query)
        except StoreUnavailable:
            logger.warning("Elasticsearch injoignable : recherche servie par la base de données.")
            results = database_store().search(query)
            results.store = "database-fallback"
            return results
    return database_store().search(query)


def autocomplete(text: str, audience: frozenset[str], kinds: tuple[str, ...], limit: int = 8) -> list[Suggestion]:
    elastic = elastic_store()
    if elastic is not None:
        try:
            return elastic.autocomplete(text, audience, kinds, limit)
        except StoreUnavailable:
            pass
    return database_store().autocomplete(text, audience, kinds, limit)
