from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "directory"
    label = "directory"
    verbose_name = _("Annuaire")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core import backup
        from directory import access, access_signals, content_versions, groups, hooks, sessions

        access_signals.connect()
        sessions.connect()
        content_versions.connect()
        hooks.register(groups.on_access_changed)
        # A restore replaces every row access answers derive from: the cached answers are outdated.
        backup.after_restore(access.changed)
