from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "chat"
    label = "chat"
    verbose_name = _("Discussions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from chat import memberships, tasks
        from core import schedule
        from directory import hooks

        hooks.register(memberships.on_access_changed)
        schedule.register(tasks.notices_job)
