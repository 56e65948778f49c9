"""Keeping the search stores in step with the project: after commit, through a task, in bulk.

Signal receivers (search/receivers.py) call `schedule(keys)`; keys gather per transaction and one
task per commit re-reads their objects (`sources.documents_for`), writes what exists and deletes
what is gone. Nothing is indexed for a transaction that rolls back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from contextlib import contextmanager

from django.core.cache import cache
from django.db import transaction
from django_tasks import task

from search import backend, sources
from search.models import PendingIndexUpdate
from search.stores.base import StoreUnavailable

logger = logging.getLogger(__name__)
REBUILDING = "search:elasticsearch-rebuilding"


class _Pending:
    """Keys gathered during one transaction, sent by the first of its on_commit callbacks to run."""

    def __init__(self):
        self.keys: set[str] = set()

    def flush(self) -> None:
        keys, self.keys = sorted(self.keys), set()
        if keys:
            update_index.enqueue(keys)


_suspension = threading.local()


@contextmanager
def suspended():
    """Schedule nothing inside the block (bulk loads that rebuild the index afterwards)."""
    previous = getattr(_suspension, "active", False)
    _suspension.active = True
    try:
        yield
    finally:
        _suspension.active = previous


def schedule(keys: Iterable[str]) -> None:
    """Index `keys` once the current transaction commits (at once outside a transaction).

    Keys of one transaction share one task: every call registers the same flush, the first to run
    sends all the keys gathered and the others find nothing left. Registering on each call (rather
    than once per transaction) keeps the keys of a savepoint that commits even when an earlier
    registration is dropped with a rolled-back savepoint, or never runs (a test capturing on_commit
    callbacks runs only those registered inside its block). A key whose change rolled back is
    harmless: indexing re-reads the object and finds it unchanged or gone.
    """
    keys = set(keys)
    if not keys or getattr(_suspension, "active", False):
        return
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        update_index.enqueue(sorted(keys))
        return
    pending = getattr(connection, "_passerelles_search_pending", None)
    if pending is None:
        pending = connection._passerelles_search_pending = _Pending()
    pending.keys.update(keys)
    transaction.on_commit(pending.flush)


@task()
def update_index(keys: list[str]) -> dict[str, int]:
    return apply(keys)


def apply(keys: Iterable[str]) -> dict[str, int]:
    """Write the current state of `keys` to every store; retries what Elasticsearch missed before."""
    documents, gone = sources.documents_for(keys)
    database = backend.database_store()
    written = database.index(documents)
    deleted = database.delete(gone)
    elastic = backend.elastic_store()
    rebuilding = elastic is not None and cache.get(REBUILDING)
    if rebuilding:
        # A rebuild is loading a new index from a snapshot: these changes could miss it. They wait
        # and are sent once the alias has moved.
        _remember([d.key for d in documents] + gone)
    if elastic is not None:
        retry_keys = list(PendingIndexUpdate.objects.values_list("key", flat=True)[:5000])
        if retry_keys:
            retry_docs, retry_gone = sources.documents_for(retry_keys)
            documents = [*documents, *[d for d in retry_docs if d.key not in {x.key for x in documents}]]
            gone = sorted(set(gone) | set(retry_gone))
        try:
            elastic.index(documents)
            elastic.delete(gone)
        except StoreUnavailable as error:
            backend.record_failure(error)
            _remember([d.key for d in documents] + gone)
            logger.warning("Elasticsearch injoignable : %d mises à jour en attente.", len(documents) + len(gone))
        else:
            # Not while a rebuild runs: the queue then holds what its new index may lack, and the write
            # above only reached the index the alias still names (tests/faults/test_elasticsearch_down.py).
            if retry_keys and not rebuilding:
                PendingIndexUpdate.objects.filter(key__in=retry_keys).delete()
    return {"written": written, "deleted": deleted}


def _remember(keys: list[str]) -> None:
    from django.db.models import F

    existing = set(PendingIndexUpdate.objects.filter(key__in=keys).values_list("key", flat=True))
    PendingIndexUpdate.objects.filter(key__in=existing).update(attempts=F("attempts") + 1)
    PendingIndexUpdate.objects.bulk_create(
        [PendingIndexUpdate(key=k, attempts=1) for k in set(keys) - existing], ignore_conflicts=True
    )


def retry_pending() -> int:
    """Send Elasticsearch what it missed; returns how many keys are still pending."""
    keys = list(PendingIndexUpdate.objects.values_list("key", flat=True))
    if keys and backend.elastic_store() is not None:
        apply([])
    return PendingIndexUpdate.objects.count()


def rebuild(progress_for: Callable[[str], Callable[[int], None]] | None = None, *,
            total: int | None = None) -> dict[str, int]:
    """Replace every store's index with all documents, read fresh from the database.

    `progress_for(store name)` gives the callback told of each batch written to that store."""
    def progress(name):
        return progress_for(name) if progress_for else None

    counts = {"database": backend.database_store().rebuild(sources.all_documents(), total=total,
                                                           progress=progress("database"))}
    elastic = backend.elastic_store()
    if elastic is not None:
        cache.set(REBUILDING, True, timeout=6 * 3600)
        try:
            counts["elasticsearch"] = elastic.rebuild(sources.all_documents(), total=total,
                                                     progress=progress("elasticsearch"))
        finally:
            cache.delete(REBUILDING)
        apply([])  # what changed during the rebuild
    return counts
