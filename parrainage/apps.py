from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParrainageConfig(AppConfig):
    name = "parrainage"
    # No existing app uses this label (the URL namespace "parrainage" is another registry).
    label = "parrainage"
    verbose_name = _("Parrainage")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from directory import membership
        from parrainage import services

        membership.on_admission(services.open_parrainage_step)
