"""`manage.py import_network FILE [--dry-run] [--only-valid]`: load associations and people from a
CSV or XLSX file (directory.network_import), with a French report line per row."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from directory import network_import


class Command(BaseCommand):
    help = "Importe les associations et les personnes du réseau depuis un fichier CSV ou XLSX (voir docs/import.md)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="fichier .csv ou .xlsx")
        parser.add_argument("--dry-run", action="store_true", help="montrer ce qui serait fait, sans rien écrire")
        parser.add_argument("--only-valid", action="store_true",
                            help="importer les lignes valides même si d'autres sont refusées")

    def handle(self, *args, file, dry_run, only_valid, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {path}")
        if path.stat().st_size > network_import.MAX_FILE_BYTES:
            raise CommandError(f"Le fichier pèse plus de {network_import.MAX_FILE_BYTES // (1024 * 1024)} Mo.")
        content = path.read_bytes()
        try:
            if dry_run:
                preview = network_import.preview_file(content, path.name)
            else:
                preview = network_import.import_file(content, path.name, only_valid=only_valid).preview
        except network_import.ImportRefused as refused:
            self._report(refused.preview)
            raise CommandError(f"{refused} Corrigez le fichier, ou relancez avec --only-valid pour importer "
                               "seulement les lignes valides.") from refused
        except network_import.ImportFileError as error:
            raise CommandError(str(error)) from error
        self._report(preview)
        if dry_run:
            self.stdout.write("Simulation (--dry-run) : rien n'a été écrit.")
            if preview.has_refusals and not only_valid:
                raise CommandError(f"{preview.refused} ligne(s) refusée(s).")
        elif preview.has_refusals:
            self.stdout.write(f"Lignes refusées ignorées (--only-valid) : {preview.refused}.")

    def _report(self, preview: network_import.Preview) -> None:
        for row in preview.rows:
            detail = f" — {row.detail}" if row.detail else ""
            self.stdout.write(f"ligne {row.line} · {row.kind_label} · {row.label or '—'} : {row.fate_label}{detail}")
        self.stdout.write(preview.summary())
