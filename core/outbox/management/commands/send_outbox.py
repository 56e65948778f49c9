"""Send the e-mails of the outbox that are due (new, to retry, or left by a worker that died)."""

from django.core.management.base import BaseCommand

from core.outbox import tasks


class Command(BaseCommand):
    help = (
        "Envoie les courriels en attente de l'outbox (nouveaux, à réessayer, ou laissés par un worker arrêté). "
        "Sans effet sur ceux déjà envoyés ou abandonnés. Oublie ensuite les courriels envoyés depuis plus de "
        "OUTBOX_KEEP_SENT_DAYS jours (90)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue", action="store_true",
            help="Confier l'envoi au worker de tâches (django-tasks) au lieu de l'effectuer ici.",
        )

    def handle(self, *args, **options):
        if options["enqueue"]:
            self.stdout.write(tasks.queue_sweep())
            return
        self.stdout.write(self.style.SUCCESS(f"{tasks.send_due_emails.call()} courriel(s) envoyé(s)."))
