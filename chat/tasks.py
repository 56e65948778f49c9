"""Background work of the chat (run by django-tasks: immediately by default, by a worker in production)."""

from django_tasks import task


@task()
def send_chat_notices() -> int:
    """E-mail the direct messages left unread (chat.notices.send_chat_notices)."""
    from chat import notices

    return notices.send_chat_notices()
