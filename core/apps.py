from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The shared helpers every app builds on. No models; an app so that its management commands
    (backup, restore, run_schedule) are found. It imports no project app: apps above it fill its
    registries (core.schedule.register, core.backup.after_restore) in their own `ready()`."""

    name = "core"
    label = "core"
    verbose_name = _("Socle")
