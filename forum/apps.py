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
        from core import references, schedule
        from directory import dashboard, hooks
        from forum import (
            content_signals,
            receivers,  # noqa: F401 (connects the notification receivers)
            services,
            tasks,
            topic_links,
        )
        from forum import dashboard as forum_dashboard

        content_signals.connect()
        hooks.register(services.on_access_changed)
        schedule.register(tasks.digests_job)
        # The CMS and the member's home page show the forum through these registries (they import none of it).
        references.register(references.FORUM_TOPIC, exists=topic_links.topic_exists,
                             readable=topic_links.readable_topic_links)
        dashboard.add_section(forum_dashboard.dashboard_section)
