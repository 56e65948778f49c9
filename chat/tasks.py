"""Background work of the chat (run by django-tasks: immediately by default, by a worker in production)."""

import datetime as dt

from django.conf import settings
from django_tasks import task

from chat import notices
from core import schedule


@task()
def send_chat_notices() -> int:
    """E-mail the direct messages left unread (chat.notices.send_chat_notices)."""
    return notices.send_chat_notices()


def notices_job() -> schedule.Job:
    """The scheduler's job (core/schedule.py, registered in ChatConfig.ready): the notices, queued for
    the worker every CHAT_NOTICES_EVERY_MINUTES."""
    return schedule.Job("avis-messages", "courriels des messages privés non lus",
                        lambda: schedule.queue(send_chat_notices),
                        every=dt.timedelta(minutes=settings.CHAT_NOTICES_EVERY_MINUTES))
