"""E-mail unread direct messages: run every few minutes (the scheduler does: core/schedule.py)."""

from chat import tasks
from core.task_command import TaskCommand


class Command(TaskCommand):
    help = (
        "Envoie un courriel pour les messages privés restés non lus depuis CHAT_NOTICE_DELAY_MINUTES minutes, "
        "selon le choix de chaque personne (immédiatement, résumé quotidien ou jamais). Sans effet si on le "
        "relance : un lot de messages déjà signalé ne repart pas."
    )
    done = "{count} courriel(s) envoyé(s)."
    queued = "Envoi des avis confié au worker (tâche {id})."

    def get_task(self):
        return tasks.send_chat_notices
