"""Send the daily forum digest to people who chose it: once a day (the scheduler does: core/schedule.py)."""

from core.task_command import TaskCommand
from forum import tasks


class Command(TaskCommand):
    help = (
        "Envoie le résumé quotidien des notifications du forum aux personnes qui l'ont choisi. "
        "Sans effet si on le relance : les notifications déjà envoyées ne repartent pas."
    )
    done = "{count} résumé(s) envoyé(s)."
    queued = "Envoi des résumés confié au worker (tâche {id})."

    def get_task(self):
        return tasks.send_notification_digests
