"""`python manage.py backup <dossier-ou-fichier.tar.gz>`: one archive of the database and the uploaded
files (logic in core.backup; `restore` puts an archive back)."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import backup


class Command(BaseCommand):
    help = (
        "Sauvegarde la base de données et les fichiers envoyés (MEDIA_ROOT) dans une seule archive .tar.gz, "
        "avec un manifeste (date, base, migrations, sommes SHA-256). Donnez un dossier (l'archive y est nommée "
        "passerelles-AAAAMMJJ-HHMMSS.tar.gz ; créé s'il finit par « / ») ou le chemin de l'archive."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "destination",
            help="Dossier (créé s'il finit par « / »), ou chemin de l'archive à créer (.tar.gz).",
        )

    def handle(self, *args, destination: str, **options) -> None:
        try:
            report = backup.create_backup(destination)
        except backup.BackupError as error:
            raise CommandError(f"Sauvegarde impossible : {error}") from error
        self.stdout.write(self.style.SUCCESS(f"Sauvegarde écrite : {report.path}"))
        self.stdout.write(
            f"  {_size(report.size)} ; base {report.vendor} ; "
            f"{report.media_files} fichier(s) envoyé(s) ({_size(report.media_bytes)} avant compression)."
        )


def _size(count: int) -> str:
    for unit in ("octets", "Ko", "Mo", "Go"):
        if count < 1024 or unit == "Go":
            return f"{count} {unit}" if unit == "octets" else f"{count:.1f} {unit}".replace(".", ",")
        count /= 1024
    return f"{count} octets"
