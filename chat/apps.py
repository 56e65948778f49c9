from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "chat"
    label = "chat"
    verbose_name = _("Discussions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from chat import broadcasts, memberships, tasks
        from core import schedule
        from directory import hooks, sessions

        hooks.register(memberships.on_access_changed)
        sessions.register(broadcasts.on_sessions_ended)
        schedule.register(tasks.notices_job)
