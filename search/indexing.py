"""Keeping the search stores in step with the project: after commit, through a task, in bulk.

Signal receivers (search/receivers.py) call `schedule(keys)`; keys gather per transaction and one
task per commit re-reads their objects (`sources.documents_for`), writes what exists and deletes
what is gone. Nothing is indexed for a transaction that rolls back.

What Elasticsearch misses waits in PendingIndexUpdate and is replayed in batches, with backoff; a
missing index while the database has content asks for one rebuild task instead of starting an empty
index (docs/architecture.md, Search).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from search import backend, sources
from search.models import PendingIndexUpdate
from search.stores.base import IndexMissing, Store, StoreUnavailable

logger = logging.getLogger(__name__)
# Set while an Elasticsearch rebuild loads its new index: changes made meanwhile stay queued.
REBUILDING = "search:elasticsearch-rebuilding"
# Set from the request of a healing rebuild (missing index) until its task ends: one request at a time,
# however many writers find the index missing. Expires in case the task is lost with its worker.
REBUILD_REQUESTED = "search:elasticsearch-rebuild-requested"
REBUILD_REQUEST_TIMEOUT = 3600
# Queued keys replayed per batch: one document read and a few bulk requests (elastic.BULK_CHUNK), so a
# backlog of any size drains in steps that each fit the bulk timeout.
REPLAY_BATCH = 500
# After a failed attempt a key waits 0 s (the first: Elasticsearch was away, any later run may send it),
# then 30 s, 1 min, 2 min… up to an hour, so a batch that keeps failing does not cost every run.
RETRY_FIRST_DELAY = timedelta(seconds=30)
RETRY_MAX_DELAY = timedelta(hours=1)


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
    """Write the current state of `keys` to every store; then replay one batch of what Elasticsearch
    missed before and is due again (fresh changes go first: a failing backlog never holds them up)."""
    read_at = timezone.now()
    snapshot = sources.documents_for(keys)
    database = backend.database_store()
    written = database.index(snapshot.documents)
    deleted = database.delete(snapshot.gone)
    elastic = backend.elastic_store()
    if elastic is not None:
        fresh = _keys(snapshot)
        rebuilding = bool(cache.get(REBUILDING))
        if rebuilding:
            # A rebuild is loading a new index from a snapshot: these changes could miss it. They wait
            # and are sent once the alias has moved (tests/faults/test_elasticsearch_down.py).
            _remember(fresh, failed=False)
        if _write(elastic, snapshot, fresh) and not rebuilding:
            _forget(fresh, read_at)
            _replay(elastic, list(PendingIndexUpdate.objects.filter(next_attempt_at__lte=timezone.now())
                                  .order_by("next_attempt_at", "pk").values_list("key", flat=True)[:REPLAY_BATCH]))
    return {"written": written, "deleted": deleted}


def retry_pending() -> int:
    """Send Elasticsearch everything it missed, batch by batch and whatever the backoff says, until a
    batch fails. Returns how many keys are still pending."""
    elastic = backend.elastic_store()
    if elastic is not None and not cache.get(REBUILDING):
        _drain(elastic)
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
        counts["elasticsearch"] = _rebuild_elasticsearch(elastic, total=total, progress=progress("elasticsearch"))
    return counts


def request_rebuild() -> bool:
    """Ask for one Elasticsearch rebuild (`heal_elasticsearch`), unless one is asked for or running."""
    if cache.get(REBUILDING) or not cache.add(REBUILD_REQUESTED, True, timeout=REBUILD_REQUEST_TIMEOUT):
        return False
    try:
        heal_elasticsearch.enqueue()
    except BaseException:
        cache.delete(REBUILD_REQUESTED)
        raise
    return True


@task()
def heal_elasticsearch() -> dict[str, int]:
    """Load Elasticsearch's missing index from the database, then send what waited for it.

    Elasticsearch only: the embedded store is up to date. If the cluster fails meanwhile, the next write
    that finds the index missing asks again."""
    try:
        elastic = backend.elastic_store()
        if elastic is None or cache.get(REBUILDING):
            return {}
        try:
            if elastic.has_index(cached=False):  # rebuilt meanwhile (search_index rebuild)
                _drain(elastic)
                return {}
            written = _rebuild_elasticsearch(elastic)
        except StoreUnavailable as error:
            backend.record_failure(error)
            logger.warning("Reconstruction de l'index Elasticsearch impossible : %s", error)
            return {}
        logger.warning("Index Elasticsearch absent reconstruit depuis la base de données : %d documents.", written)
        return {"elasticsearch": written}
    finally:
        cache.delete(REBUILD_REQUESTED)


# Internals


def _keys(snapshot: sources.Snapshot) -> list[str]:
    return [document.key for document in snapshot.documents] + list(snapshot.gone)


def _write(elastic: Store, snapshot: sources.Snapshot, keys: list[str]) -> bool:
    """Send `snapshot` to Elasticsearch; on failure queue `keys` (and ask for a rebuild when the index is
    missing while the database has content). True when it went through."""
    try:
        try:
            elastic.index(snapshot.documents)
            elastic.delete(snapshot.gone, version=snapshot.version)
        except IndexMissing:
            if backend.database_store().count() > len(snapshot.documents):
                raise  # an empty index would hide that content from searches: rebuild instead
            # A fresh install: nothing else to load, an empty index completed by this write is the whole index.
            elastic.ensure_index()
            elastic.index(snapshot.documents)
            elastic.delete(snapshot.gone, version=snapshot.version)
    except IndexMissing as error:
        backend.record_failure(error)
        _remember(keys)
        asked = request_rebuild()
        logger.warning("Index Elasticsearch absent alors que la base a du contenu : %d mises à jour en attente, "
                       "reconstruction %s. (%s)", len(keys), "demandée" if asked else "déjà demandée", error)
        return False
    except StoreUnavailable as error:
        backend.record_failure(error)
        _remember(keys)
        logger.warning("Elasticsearch injoignable : %d mises à jour en attente.", len(keys))
        return False
    return True


def _replay(elastic: Store, keys: list[str]) -> bool:
    """Send the current state of queued `keys`; they leave the queue once sent."""
    if not keys:
        return True
    read_at = timezone.now()
    snapshot = sources.documents_for(keys)
    if not _write(elastic, snapshot, keys):
        return False
    _forget(keys, read_at)
    return True


def _drain(elastic: Store) -> None:
    """Replay the whole queue as it is now, REPLAY_BATCH keys at a time, until a batch fails."""
    last = PendingIndexUpdate.objects.order_by("-pk").values_list("pk", flat=True).first()
    after = 0
    while last is not None:
        rows = list(PendingIndexUpdate.objects.filter(pk__gt=after, pk__lte=last).order_by("pk")
                    .values_list("pk", "key")[:REPLAY_BATCH])
        if not rows or not _replay(elastic, [key for _pk, key in rows]):
            return
        after = rows[-1][0]


def retry_delay(attempts: int) -> timedelta:
    """How long a key waits after its `attempts`-th failed attempt."""
    if attempts <= 1:
        return timedelta(0)
    return min(RETRY_FIRST_DELAY * 2 ** min(attempts - 2, 20), RETRY_MAX_DELAY)


def _remember(keys: list[str], *, failed: bool = True) -> None:
    """Queue `keys`: after a failed attempt (counted, next attempt pushed back), or to be sent again."""
    now = timezone.now()
    for start in range(0, len(keys), REPLAY_BATCH):
        chunk = set(keys[start:start + REPLAY_BATCH])
        rows = list(PendingIndexUpdate.objects.filter(key__in=chunk))
        for row in rows:
            row.attempts += int(failed)
            row.queued_at = now
            row.next_attempt_at = now + retry_delay(row.attempts) if failed else now
        PendingIndexUpdate.objects.bulk_update(rows, ["attempts", "queued_at", "next_attempt_at"])
        PendingIndexUpdate.objects.bulk_create(
            [PendingIndexUpdate(key=key, attempts=int(failed), queued_at=now, next_attempt_at=now)
             for key in chunk - {row.key for row in rows}],
            ignore_conflicts=True,
        )


def _forget(keys: list[str], read_at: datetime) -> None:
    """Drop `keys` from the queue, except those queued again since `read_at` (a change we may not have)."""
    for start in range(0, len(keys), REPLAY_BATCH):
        PendingIndexUpdate.objects.filter(key__in=keys[start:start + REPLAY_BATCH], queued_at__lt=read_at).delete()


def _rebuild_elasticsearch(elastic: Store, *, total: int | None = None,
                           progress: Callable[[int], None] | None = None) -> int:
    cache.set(REBUILDING, True, timeout=6 * 3600)
    try:
        written = elastic.rebuild(sources.all_documents(), total=total, progress=progress)
    finally:
        cache.delete(REBUILDING)
    _drain(elastic)  # what changed during the rebuild, and what waited for it
    return written
