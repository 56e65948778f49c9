"""`python manage.py search_index rebuild|retry|status`: maintain the search stores."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError

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
            self.stdout.write(f"Base de données : {backend.database_store().count()} documents.")
            elastic = backend.elastic_store()
            if elastic is not None:
                self.stdout.write(f"Mises à jour Elasticsearch en attente : {PendingIndexUpdate.objects.count()}.")
