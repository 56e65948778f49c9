from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo data (`seed_demo`): it uses every domain app's services, and no domain app imports it."""

    name = "demo"
    label = "demo"
    verbose_name = _("Démonstration")
    default_auto_field = "django.db.models.BigAutoField"
