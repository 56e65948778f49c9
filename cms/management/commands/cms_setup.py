"""`python manage.py cms_setup`: re-assert the CMS structure (the migration creates it; cms.setup)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from cms.setup import ensure_site_structure


class Command(BaseCommand):
    help = (
        "Crée ce qui manque de la structure du site (accueil, ressources réservées aux membres, collection "
        "des membres, droits de l'équipe fédérale, processus de relecture) et réaffirme ses règles d'accès."
    )

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            result = ensure_site_structure()
        created = ", ".join(result.created) if result.created else "rien à créer"
        self.stdout.write(f"Structure du site à jour ({created}).")
