from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "directory"
    label = "directory"
    verbose_name = _("Annuaire")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from directory import access_signals, groups, hooks

        access_signals.connect()
        hooks.register(groups.on_access_changed)
