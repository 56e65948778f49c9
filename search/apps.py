from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "search"
    label = "search"
    verbose_name = _("Recherche")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from directory import hooks
        from search import (
            audiences,
            receivers,  # noqa: F401 (connects the indexing receivers)
        )

        hooks.register(audiences.on_access_changed)
