"""The embedded store's table, and the queue of updates Elasticsearch has not taken yet.

`SearchEntry` holds one row per search document. Its `*_terms` columns are the output of
`search.text` (stems, folded words) and feed the engine's full-text index, which the migrations
create per database: an FTS5 table kept in sync by triggers on SQLite; generated `tsvector` and
`text[]` columns with GIN indexes on PostgreSQL (French configuration with unaccent). Those are
invisible to the ORM on purpose: `search.stores.database` queries them in SQL.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SearchEntry(models.Model):
    key = models.CharField(_("clé"), max_length=120, unique=True)
    kind = models.CharField(_("nature"), max_length=20, db_index=True)
    title = models.CharField(_("titre"), max_length=300)
    body = models.TextField(_("texte"), blank=True)
    url = models.CharField(_("adresse"), max_length=500)
    # Space-separated audience keys: `public`, `members`, `forum:12`, `room:7`, `cms:page:<path>`…
    audience = models.TextField(_("public visé"))
    date = models.DateTimeField(_("date"), null=True, blank=True)
    author = models.CharField(_("auteur·rice"), max_length=200, blank=True)
    themes = models.JSONField(_("thématiques"), default=list, blank=True)
    region = models.CharField(_("région"), max_length=150, blank=True, db_index=True)
    title_terms = models.TextField(blank=True)
    body_terms = models.TextField(blank=True)
    prefix_terms = models.TextField(blank=True)

    class Meta:
        verbose_name = _("document indexé")
        verbose_name_plural = _("documents indexés")

    def __str__(self) -> str:
        return self.key


class PendingIndexUpdate(models.Model):
    """A document key Elasticsearch still has to take (it was down): retried, never dropped.

    Indexing runs replay the due keys in batches (`next_attempt_at`, pushed back exponentially after
    each failed attempt); `search_index retry` replays them all. A row queued again after a replay read
    its key (`queued_at`) stays: that newer change may be missing from what the replay sent.
    """

    key = models.CharField(_("clé"), max_length=120, unique=True)
    created_at = models.DateTimeField(_("en attente depuis"), auto_now_add=True)
    attempts = models.PositiveIntegerField(_("tentatives"), default=0)
    queued_at = models.DateTimeField(_("mise en attente le"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("prochaine tentative"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("mise à jour d'index en attente")
        verbose_name_plural = _("mises à jour d'index en attente")

    def __str__(self) -> str:
        return self.key
