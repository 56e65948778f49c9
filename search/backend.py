"""Which store answers, and what happens when Elasticsearch does not.

The database store is always kept up to date: it is the embedded store when ELASTICSEARCH_URL is
unset, and the fallback when it is set. With Elasticsearch configured, searches go to it and fall
back to the database store when it cannot be reached; index updates it missed wait in
PendingIndexUpdate and are sent again on the next indexing run (or `search_index retry`).

Every such failure is recorded in one place (`record_failure`, read back by `last_failure`): the
search page and the Wagtail admin home show it to federal staff, `search_index status` prints it.
Failures a retry cannot cure (refused credentials, an untrusted certificate, a broken configuration)
are also logged as errors, once per distinct failure every few minutes rather than once per request.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from directory import access
from search.documents import SearchQuery, SearchResults, Suggestion
from search.stores.base import Store, StoreUnavailable
from search.stores.database import DatabaseStore

logger = logging.getLogger(__name__)

LAST_FAILURE = "search:elasticsearch-last-failure"
LAST_FAILURE_KEPT = 7 * 24 * 3600
# A failure this recent is shown to staff as the current state of the search.
RECENT_FAILURE = timedelta(minutes=15)
# The same loud failure is logged again after this long at the earliest.
LOG_AGAIN_AFTER = 10 * 60
# What StoreUnavailable.kind means, as staff read it.
FAILURE_KINDS = {
    "authentication": _("Elasticsearch refuse l'authentification (identifiant, mot de passe ou clé d'API, "
                        "ou droits insuffisants)"),
    "configuration": _("la configuration d'Elasticsearch est inutilisable"),
    "tls": _("le certificat d'Elasticsearch n'est pas reconnu (ELASTICSEARCH_CA_CERTS)"),
    "not-elasticsearch": _("le serveur à cette adresse n'est pas Elasticsearch"),
    "unreachable": _("Elasticsearch est injoignable"),
    "overloaded": _("Elasticsearch est surchargé ou en erreur"),
    "missing-index": _("l'index Elasticsearch est absent"),
}
# Failures no retry cures: someone must act.
LOUD_KINDS = frozenset({"authentication", "configuration", "tls", "not-elasticsearch"})


@dataclass(frozen=True)
class Failure:
    kind: str
    message: str
    at: datetime

    @property
    def label(self) -> str:
        return str(FAILURE_KINDS.get(self.kind, FAILURE_KINDS["unreachable"]))

    @property
    def ago(self) -> str:
        """"à l'instant", "il y a 3 minutes"…: when it happened, as staff read it."""
        elapsed = timezone.now() - self.at
        if elapsed < timedelta(minutes=1):
            return str(_("à l'instant"))
        return str(_("il y a %(duree)s") % {"duree": timesince(self.at)})

    @property
    def recent(self) -> bool:
        return timezone.now() - self.at <= RECENT_FAILURE


def record_failure(error: StoreUnavailable) -> Failure:
    """Remember `error` as the last Elasticsearch failure; log it as an error if someone must act."""
    kind = getattr(error, "kind", "unreachable")
    failure = Failure(kind=kind, message=str(error)[:500], at=timezone.now())
    cache.set(LAST_FAILURE, {"kind": failure.kind, "message": failure.message, "at": failure.at.isoformat()},
              timeout=LAST_FAILURE_KEPT)
    if kind in LOUD_KINDS:
        digest = hashlib.sha256(f"{kind}:{failure.message}".encode()).hexdigest()[:16]
        if cache.add(f"search:elasticsearch-failure-logged:{digest}", True, timeout=LOG_AGAIN_AFTER):
            logger.error("Elasticsearch inutilisable, la recherche répond depuis la base de données : %s. %s",
                         failure.label, failure.message)
    return failure


def last_failure() -> Failure | None:
    """The last Elasticsearch failure recorded (kept a week), or None."""
    stored = cache.get(LAST_FAILURE)
    if not stored:
        return None
    try:
        return Failure(kind=stored["kind"], message=stored["message"], at=datetime.fromisoformat(stored["at"]))
    except (KeyError, TypeError, ValueError):
        return None


def staff_warning(user) -> Failure | None:
    """The recent Elasticsearch failure to show `user`, if federal staff (directory.access), else None."""
    if elastic_store() is None or not access.is_federal_staff(user):
        return None
    failure = last_failure()
    return failure if failure is not None and failure.recent else None


def database_store() -> DatabaseStore:
    return DatabaseStore()


@lru_cache(maxsize=4)
def _elastic(url: str, index: str, api_key: str = "", ca_certs: str = ""):
    # local import: the Elasticsearch client is an optional heavy backend, loaded only when ELASTICSEARCH_URL is set
    from search.stores.elastic import ElasticsearchStore

    return ElasticsearchStore(url, index=index, api_key=api_key, ca_certs=ca_certs)


def elastic_store() -> Store | None:
    """The Elasticsearch store when ELASTICSEARCH_URL is set (with its API key and CA bundle), else None."""
    url = getattr(settings, "SEARCH_ELASTICSEARCH_URL", "")
    if not url:
        return None
    return _elastic(url, getattr(settings, "SEARCH_ELASTICSEARCH_INDEX", "passerelles"),
                    getattr(settings, "SEARCH_ELASTICSEARCH_API_KEY", ""),
                    getattr(settings, "SEARCH_ELASTICSEARCH_CA_CERTS", ""))


def search(query: SearchQuery) -> SearchResults:
    elastic = elastic_store()
    if elastic is not None:
        try:
            return elastic.search(query)
        except StoreUnavailable as error:
            if record_failure(error).kind not in LOUD_KINDS:
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
        except StoreUnavailable as error:
            record_failure(error)
    return database_store().autocomplete(text, audience, kinds, limit)
