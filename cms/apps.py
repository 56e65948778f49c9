from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    label = "cms"
    verbose_name = _("Ressources")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cms import setup
        from directory import hooks

        hooks.register(setup.on_access_changed)
