"""Parrainages between member associations and the onboarding steps of the new one.

The tables keep the names they had when these models lived in the directory app (db_table), so
that moving them here changed no data: see parrainage/migrations/0001_initial.py.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.models import Association


class Parrainage(models.Model):
    """A sponsorship: an established member association (parrain) accompanies a new one (filleul).

    The membership commission picks a parrain among the platform's proposals (score and reasons
    kept); the parrain's director accepts (→ active) or declines (→ declined, the next proposal
    comes); it ends when the onboarding is over.
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposé")
        ACTIVE = "active", _("En cours")
        DECLINED = "declined", _("Décliné")
        ENDED = "ended", _("Terminé")

    parrain = models.ForeignKey(
        Association, on_delete=models.CASCADE, related_name="parrainages_given", verbose_name=_("parrain")
    )
    filleul = models.ForeignKey(
        Association, on_delete=models.CASCADE, related_name="parrainages_received", verbose_name=_("filleul")
    )
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.PROPOSED)
    started_on = models.DateField(_("début"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    # The proposal as the commission saw it: matching score and its reasons in words.
    score = models.PositiveIntegerField(_("score de proximité"), null=True, blank=True)
    reasons = models.JSONField(_("raisons"), default=list, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("proposé par"),
    )
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("réponse de"),
    )
    responded_at = models.DateTimeField(_("répondu le"), null=True, blank=True)
    decline_reason = models.TextField(_("motif du refus"), blank=True, max_length=2000)

    class Meta:
        db_table = "directory_parrainage"
        ordering = ["-created_at"]
        verbose_name = _("parrainage")
        verbose_name_plural = _("parrainages")
        constraints = [
            models.UniqueConstraint(
                fields=["filleul"], condition=Q(status="active"), name="one_active_parrain_per_filleul"
            ),
            models.UniqueConstraint(
                fields=["filleul"], condition=Q(status="proposed"), name="one_open_proposal_per_filleul"
            ),
            models.CheckConstraint(condition=~Q(parrain=models.F("filleul")), name="parrain_is_not_filleul"),
        ]

    def __str__(self) -> str:
        return f"{self.parrain} → {self.filleul}"


class OnboardingStep(models.Model):
    """One step of a new association's onboarding checklist, ticked by either side, with its date."""

    class Step(models.TextChoices):
        WELCOME_MEETING = "welcome_meeting", _("Rencontre de bienvenue")
        FORUM_INTRODUCTION = "forum_introduction", _("Présentation sur le forum « Accueil des nouveaux adhérents »")
        KEY_GUIDES = "key_guides", _("Guides clés lus")
        FIRST_REGIONAL_MEETING = "first_regional_meeting", _("Première réunion régionale")

    parrainage = models.ForeignKey(Parrainage, on_delete=models.CASCADE, related_name="steps",
                                   verbose_name=_("parrainage"))
    step = models.CharField(_("étape"), max_length=30, choices=Step.choices)
    done_on = models.DateField(_("fait le"))
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("coché par"))
    recorded_at = models.DateTimeField(_("enregistré le"), auto_now=True)

    class Meta:
        db_table = "directory_onboardingstep"
        ordering = ["parrainage", "step"]
        verbose_name = _("étape d'accueil")
        verbose_name_plural = _("étapes d'accueil")
        constraints = [models.UniqueConstraint(fields=["parrainage", "step"], name="onboarding_step_once")]

    def __str__(self) -> str:
        return f"{self.parrainage} · {self.get_step_display()}"
