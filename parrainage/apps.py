from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParrainageConfig(AppConfig):
    name = "parrainage"
    # No existing app uses this label (the URL namespace "parrainage" is another registry).
    label = "parrainage"
    verbose_name = _("Parrainage")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The apps below hear of parrainage only through these registries (they import none of it).
        from chat import selectors as chat_selectors
        from directory import admission, dashboard
        from directory import selectors as directory_selectors
        from parrainage import selectors, services

        admission.on_admission(services.open_parrainage_step)
        directory_selectors.add_association_section(selectors.SponsorshipSection())
        chat_selectors.add_contact_source(selectors.sponsorship_partner_ids)
        dashboard.add_section(selectors.dashboard_section)
