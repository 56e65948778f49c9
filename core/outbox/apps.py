from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "core.outbox"
    label = "outbox"
    verbose_name = _("Courriels sortants")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import schedule
        from core.outbox import tasks

        schedule.register(tasks.sweep_job)
