from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    """The network's forum domain around django-machina.

    Installed as "exchange", after machina's apps: machina's class loader matches installed apps
    whose dotted name ends with ".forum", so this package must not shadow machina's `forum` app.
    """

    name = "forum"
    label = "exchange"
    verbose_name = _("Forum")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import schedule
        from directory import hooks
        from forum import (
            receivers,  # noqa: F401 (connects the notification receivers)
            services,
            tasks,
        )

        hooks.register(services.on_access_changed)
        schedule.register(tasks.digests_job)
