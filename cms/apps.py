from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    label = "cms"
    verbose_name = _("Ressources")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # local import: ready() runs once the app registry is loaded; these modules import models.
        from cms import dashboard, setup
        from directory import dashboard as member_dashboard
        from directory import hooks

        hooks.register(setup.on_access_changed)
        member_dashboard.add_section(dashboard.dashboard_section)
