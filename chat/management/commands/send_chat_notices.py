"""E-mail unread direct messages: run every few minutes (cron or a scheduled worker)."""

from django.core.management.base import BaseCommand

from chat import services, tasks


class Command(BaseCommand):
    help = (
        "Envoie un courriel pour les messages privés restés non lus depuis CHAT_NOTICE_DELAY_MINUTES minutes, "
        "selon le choix de chaque personne (immédiatement, résumé quotidien ou jamais). Sans effet si on le "
        "relance : un lot de messages déjà signalé ne repart pas."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue", action="store_true",
            help="Confier l'envoi au worker de tâches (django-tasks) au lieu de l'effectuer ici.",
        )

    def handle(self, *args, **options):
        if options["enqueue"]:
            result = tasks.send_chat_notices.enqueue()
            self.stdout.write(f"Envoi des avis confié au worker (tâche {result.id}).")
            return
        sent = services.send_chat_notices()
        self.stdout.write(self.style.SUCCESS(f"{sent} courriel(s) envoyé(s)."))
