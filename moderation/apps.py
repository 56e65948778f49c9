from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    """One moderation log for the forum and the chat (it sits below both and imports neither)."""

    name = "moderation"
    label = "moderation"
    verbose_name = _("Modération")
    default_auto_field = "django.db.models.BigAutoField"
