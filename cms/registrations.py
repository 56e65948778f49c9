"""Registrations to the CMS's events (cms.content.EventPage): a model of its own, below the event page,
so that the registration reads and services the page calls (cms.selectors_events, cms.services) need
not import the page."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventRegistration(models.Model):
    """A person's registration to an event: confirmed, on the waiting list, or cancelled.

    One row per person and event (a cancelled registration is reused if they register again);
    the waiting list is ordered by `registered_at`. Written only by cms.services.
    """

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Inscription confirmée")
        WAITING = "waiting", _("Liste d'attente")
        CANCELLED = "cancelled", _("Annulée")

    event = models.ForeignKey("cms.EventPage", on_delete=models.CASCADE, related_name="registrations",
                              verbose_name=_("événement"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_registrations",
                             verbose_name=_("personne"))
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices)
    registered_at = models.DateTimeField(_("inscrit·e le"), default=timezone.now)
    updated_at = models.DateTimeField(_("mis à jour le"), auto_now=True)

    class Meta:
        ordering = ["registered_at", "pk"]
        verbose_name = _("inscription à un événement")
        verbose_name_plural = _("inscriptions aux événements")
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="one_registration_per_person")]
        indexes = [models.Index(fields=["event", "status", "registered_at"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.event} ({self.get_status_display()})"
