"""`python manage.py search_index rebuild|retry|status`: maintain the search stores."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.timesince import timesince
from django.utils.timezone import localtime

from search import backend, indexing, sources
from search.models import PendingIndexUpdate
from search.stores.base import StoreUnavailable


class ProgressBar:
    """A one-line progress bar on a terminal, a line per 10% otherwise (logs stay readable)."""

    def __init__(self, stream, total: int, width: int = 40):
        self.stream, self.total, self.width = stream, max(total, 1), width
        self.done, self.started, self.last_tenth = 0, time.monotonic(), -1
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def __call__(self, count: int) -> None:
        self.done += count
        share = min(self.done / self.total, 1.0)
        rate = self.done / max(time.monotonic() - self.started, 1e-6)
        line = f"{self.done}/{self.total} documents ({share:.0%}, {rate:.0f} documents/s)"
        if self.tty:
            filled = int(share * self.width)
            self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {line}")
            self.stream.flush()
        elif int(share * 10) > self.last_tenth:
            self.last_tenth = int(share * 10)
            self.stream.write(line + "\n")

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")


class Command(BaseCommand):
    help = "Reconstruit l'index de recherche, relance les mises à jour en attente ou affiche son état."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild", "retry", "status"])
        parser.add_argument("--no-progress", action="store_true", help="Sans barre de progression.")

    def handle(self, *args, action: str, no_progress: bool = False, **options):
        if action == "rebuild":
            total = sources.estimated_total()
            stream = getattr(self.stdout, "_out", sys.stdout)
            bars = []

            def progress_for(store: str):
                if bars:
                    bars[-1].finish()
                stream.write(f"{store} :\n")
                bars.append(ProgressBar(stream, total))
                return bars[-1]

            started = time.monotonic()
            try:
                counts = indexing.rebuild(None if no_progress else progress_for, total=total)
            except StoreUnavailable as error:
                raise CommandError(
                    "Elasticsearch ne répond pas : l'index de la base de données est reconstruit (la recherche "
                    f"fonctionne en secours), relancez la commande quand Elasticsearch répond. ({error})"
                ) from error
            if bars:
                bars[-1].finish()
            elapsed = time.monotonic() - started
            for store, count in counts.items():
                self.stdout.write(f"{store} : {count} documents indexés.")
            self.stdout.write(self.style.SUCCESS(f"Index reconstruit en {elapsed:.1f} s."))
        elif action == "retry":
            if backend.elastic_store() is None:
                raise CommandError("ELASTICSEARCH_URL n'est pas défini : rien à relancer.")
            left = indexing.retry_pending()
            self.stdout.write(f"Mises à jour encore en attente : {left}.")
        else:
            self.status()

    def status(self) -> None:
        """What an administrator runs first (README, "Recherche"): which store answers, the index behind
        the alias, its count against the database's, the queue, the last failure. Exits non-zero when
        Elasticsearch cannot answer, has no index, or lacks more documents than the queue will bring."""
        write = self.stdout.write
        # The database store is written by the same tasks, before Elasticsearch: its row count is what
        # Elasticsearch should hold once the queue is drained.
        expected = backend.database_store().count()
        queued = PendingIndexUpdate.objects.count()
        oldest = PendingIndexUpdate.objects.order_by("created_at").values_list("created_at", flat=True).first()
        elastic = backend.elastic_store()
        if elastic is None:
            write("Moteur de recherche : base de données (ELASTICSEARCH_URL n'est pas défini).")
            write(f"Documents indexés (table SearchEntry) : {expected}.")
        else:
            write(f"Moteur de recherche : Elasticsearch ({elastic.display_url}), base de données en secours.")
        write(f"Mises à jour en attente pour Elasticsearch : {queued}"
              + (f", la plus ancienne depuis {timesince(oldest)} ({localtime(oldest):%d/%m/%Y %H:%M})." if oldest
                 else "."))
        failure = backend.last_failure()
        if failure is None:
            write("Dernière erreur d'Elasticsearch : aucune enregistrée.")
        else:
            write(f"Dernière erreur d'Elasticsearch : {failure.ago} "
                  f"({localtime(failure.at):%d/%m/%Y %H:%M}) : {failure.label}. {failure.message}")
        if elastic is None:
            return

        try:
            description = elastic.describe()
        except StoreUnavailable as error:
            label = backend.record_failure(error).label
            raise CommandError(f"Elasticsearch ne répond pas à {elastic.display_url} : {label}. ({error})") from error
        if description.indices:
            write(f"Alias : {description.alias} → {', '.join(description.indices)}.")
        elif description.squatted:
            raise CommandError(f"Aucun alias {description.alias} : un index porte ce nom (créé sans alias), les "
                               "mises à jour ne l'atteignent pas. Lancez « python manage.py search_index rebuild ».")
        else:
            write(f"Alias : {description.alias} n'existe pas.")
        if description.count is None:
            raise CommandError(f"L'index Elasticsearch {description.alias} est absent : la recherche répond depuis "
                               "la base de données. Lancez « python manage.py search_index rebuild ».")
        write(f"Documents dans Elasticsearch : {description.count} ; attendus d'après la base de données "
              f"(table SearchEntry, tenue à jour par les mêmes tâches) : {expected}.")
        missing = expected - description.count
        if missing > queued:
            raise CommandError(
                f"Il manque {missing} documents à Elasticsearch, plus que les {queued} mises à jour en attente "
                "n'en apporteront : lancez « python manage.py search_index rebuild ».")
        if missing > 0:
            write(f"Il manque {missing} documents, que les mises à jour en attente apporteront "
                  "(« python manage.py search_index retry » les envoie maintenant).")
        elif missing < 0:
            write(f"Elasticsearch a {-missing} documents de plus que la base de données (suppressions en attente, "
                  "ou à reconstruire : « python manage.py search_index rebuild »).")
        self.stdout.write(self.style.SUCCESS("Index de recherche en ordre."))
