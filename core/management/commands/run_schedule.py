"""`python manage.py run_schedule`: the deployment's recurring jobs (core/schedule.py), in a loop."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import schedule


class Command(BaseCommand):
    help = (
        "Lance les tâches récurrentes : courriels des messages privés non lus, résumé quotidien du forum, "
        "sauvegarde quotidienne (si BACKUP_DIR est défini). Tourne sans fin ; --once pour un seul passage "
        "(depuis cron), --check pour vérifier qu'un planificateur tourne."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Un seul passage, puis s'arrête.")
        parser.add_argument("--check", action="store_true",
                            help="Vérifie que la boucle a tourné récemment (contrôle de santé) et s'arrête.")
        parser.add_argument("--interval", type=float, default=30.0,
                            help="Secondes entre deux passages (30 par défaut).")

    def handle(self, *args, once: bool, check: bool, interval: float, **options) -> None:
        path = Path(settings.SCHEDULE_STATE_FILE)
        if check:
            self._check(path, interval)
            return
        try:
            planned = schedule.jobs()
        except ValueError as error:
            raise CommandError(str(error)) from error
        if interval <= 0:
            raise CommandError("--interval doit être positif.")
        for job in planned:
            when = f"toutes les {job.every}" if job.every else f"chaque jour à {job.at:%H:%M}"
            self.stdout.write(f"{job.name} : {job.description}, {when}")
        while True:
            for name, outcome in schedule.tick(path, planned):
                self.stdout.write(f"{name} : {outcome}")
            if once:
                return
            time.sleep(interval)

    def _check(self, path: Path, interval: float) -> None:
        age = schedule.heartbeat_age(path)
        # Three missed turns (a job may take a while: a backup), and never less than two minutes.
        limit = max(120.0, 3 * interval)
        if age is None:
            raise CommandError(f"Le planificateur n'a jamais tourné ({path} absent).")
        if age.total_seconds() > limit:
            raise CommandError(f"Le planificateur ne tourne plus : dernier passage il y a {age.total_seconds():.0f} s.")
        self.stdout.write(f"Planificateur actif (dernier passage il y a {age.total_seconds():.0f} s).")
