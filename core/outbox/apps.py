from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "core.outbox"
    label = "outbox"
    verbose_name = "Courriels sortants"
    default_auto_field = "django.db.models.BigAutoField"
