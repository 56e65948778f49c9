from django.core.management.base import BaseCommand

from forum import services


class Command(BaseCommand):
    help = "Crée ou met à jour l'arborescence du forum et ses permissions à partir de l'annuaire."

    def handle(self, *args, **options):
        result = services.ensure_forum_tree()
        self.stdout.write(self.style.SUCCESS(
            f"Forum prêt : {result['total']} espaces ({result['created']} créés)."
        ))
