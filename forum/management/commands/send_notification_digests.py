"""Send the daily forum digest to people who chose it: run once a day (cron or a scheduled worker)."""

from django.core.management.base import BaseCommand

from forum import notifications, tasks


class Command(BaseCommand):
    help = (
        "Envoie le résumé quotidien des notifications du forum aux personnes qui l'ont choisi. "
        "Sans effet si on le relance : les notifications déjà envoyées ne repartent pas."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue", action="store_true",
            help="Confier l'envoi au worker de tâches (django-tasks) au lieu de l'effectuer ici.",
        )

    def handle(self, *args, **options):
        if options["enqueue"]:
            result = tasks.send_notification_digests.enqueue()
            self.stdout.write(f"Envoi des résumés confié au worker (tâche {result.id}).")
            return
        sent = notifications.send_digests()
        self.stdout.write(self.style.SUCCESS(f"{sent} résumé(s) envoyé(s)."))
