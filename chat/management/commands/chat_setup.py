"""Create the missing shared rooms and re-sync everyone's memberships (after an import, say)."""

from django.core.management.base import BaseCommand

from chat import services


class Command(BaseCommand):
    help = (
        "Crée le salon de chaque région, groupe de travail et thématique qui n'en a pas, puis recalcule "
        "l'appartenance de chaque personne aux salons partagés à partir de l'annuaire."
    )

    def handle(self, *args, **options):
        created = services.ensure_shared_rooms()
        counts = services.sync_all_memberships()
        self.stdout.write(self.style.SUCCESS(
            f"{created} salon(s) créé(s) ; participations ajoutées : {counts['added']}, retirées : {counts['removed']}."
        ))
