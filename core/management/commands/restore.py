"""`python manage.py restore <archive.tar.gz> [--yes]`: put back an archive written by `backup` (logic in
core.backup)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core import backup


class Command(BaseCommand):
    help = (
        "Restaure la base de données et les fichiers envoyés depuis une archive de `backup`, après en avoir "
        "vérifié le manifeste et les sommes SHA-256. Remplace tout le contenu actuel : --yes est exigé quand "
        "la base n'est pas vide. Arrêtez les autres processus (serveur, worker) pendant la restauration."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="Archive .tar.gz écrite par `manage.py backup`.")
        parser.add_argument(
            "--yes", action="store_true",
            help="Confirme le remplacement d'une base qui contient déjà des données.",
        )

    def handle(self, *args, archive: str, yes: bool, **options) -> None:
        try:
            report = backup.restore_backup(Path(archive), confirmed=yes)
        except backup.BackupError as error:
            raise CommandError(f"Restauration refusée ou échouée : {error}") from error
        self.stdout.write(self.style.SUCCESS(f"Restauration terminée depuis {report.archive}."))
        self.stdout.write(f"  Sauvegarde du {_when(report.created)} ; base {report.vendor} restaurée.")
        self.stdout.write(
            f"  {report.media_files} fichier(s) envoyé(s) restauré(s) ; "
            f"{report.replaced_media_files} fichier(s) présent(s) auparavant remplacé(s)."
        )
        if report.dropped_tables:
            self.stdout.write(
                f"  Tables absentes de la sauvegarde supprimées : {', '.join(report.dropped_tables)}."
            )
        if report.pending_migrations:
            self.stdout.write(self.style.WARNING(
                f"  La sauvegarde précède {len(report.pending_migrations)} migration(s) de ce code : "
                "lancez python manage.py migrate."
            ))
        if backup.search_uses_elasticsearch():
            self.stdout.write(
                "  L'index Elasticsearch ne fait pas partie de la sauvegarde : "
                "lancez python manage.py search_index rebuild."
            )


def _when(created: str) -> str:
    moment = parse_datetime(created)
    if moment is None or timezone.is_naive(moment):
        return created
    return timezone.localtime(moment).strftime("%d/%m/%Y à %H:%M:%S")
