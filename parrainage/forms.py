"""Forms of the parrainage pages. They check the shape of what was sent; the rules (who may, in which
state) are parrainage.services', whose French errors the views show beside these forms' own."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from parrainage.models import OnboardingStep, Parrainage
from parrainage.services import DECLINE_REASON_MAX_LENGTH

INVALID_CHOICE = _("Ce choix n'est pas valide : choisissez une association parmi les propositions.")
DECLINE_REASON_REQUIRED = _("Indiquez le motif du refus : il aide la commission à proposer un autre parrain.")


class ChooseParrainForm(forms.Form):
    parrain = forms.IntegerField(
        min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput,
        error_messages={"required": _("Choisissez une association parmi les propositions."),
                        "invalid": INVALID_CHOICE, "min_value": INVALID_CHOICE, "max_value": INVALID_CHOICE},
    )


class RespondForm(forms.Form):
    ACCEPT, DECLINE = "accepter", "decliner"

    decision = forms.ChoiceField(
        label=_("Votre réponse"), widget=forms.RadioSelect,
        choices=[(ACCEPT, _("Nous acceptons de parrainer cette association")),
                 (DECLINE, _("Nous déclinons cette proposition"))],
        error_messages={"required": _("Choisissez d'accepter ou de décliner la proposition."),
                        "invalid_choice": _("Choisissez d'accepter ou de décliner la proposition.")},
    )
    reason = forms.CharField(
        label=_("Motif du refus"), required=False, max_length=DECLINE_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Obligatoire si vous déclinez : il aide la commission à proposer un autre parrain."),
        error_messages={"max_length": _("Le motif ne doit pas dépasser %(limit_value)d caractères.")},
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == self.DECLINE and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", DECLINE_REASON_REQUIRED)
        return cleaned

    @property
    def accepted(self) -> bool:
        return self.cleaned_data["decision"] == self.ACCEPT


class StepForm(forms.Form):
    TICK, UNTICK = "cocher", "decocher"

    step = forms.ChoiceField(
        label=_("Étape"), choices=OnboardingStep.Step.choices, widget=forms.HiddenInput,
        error_messages={"required": _("Cette étape d'accueil n'existe pas."),
                        "invalid_choice": _("Cette étape d'accueil n'existe pas.")},
    )
    action = forms.ChoiceField(
        choices=[(TICK, _("Cocher")), (UNTICK, _("Décocher"))], widget=forms.HiddenInput,
        error_messages={"required": _("Action inconnue."), "invalid_choice": _("Action inconnue.")},
    )
    done_on = forms.DateField(
        label=_("Fait le"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={"invalid": _("Indiquez une date valide, par exemple 15/09/2025.")},
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == self.TICK and not cleaned.get("done_on") and "done_on" not in self.errors:
            self.add_error("done_on", _("Indiquez la date à laquelle l'étape a été faite."))
        return cleaned


class OverviewFilterForm(forms.Form):
    field_order = ["q", "status", "sans_contact"]  # as the overview's filter bar shows them
    status = forms.ChoiceField(
        label=_("Statut"), required=False, choices=[("", _("Tous les statuts")), *Parrainage.Status.choices],
        error_messages={"invalid_choice": _("Ce statut n'existe pas.")},
    )
    q = forms.CharField(label=_("Association ou ville"), required=False, max_length=100,
                        error_messages={"max_length": _("Cette recherche est trop longue (%(limit_value)d caractères "
                                                        "au plus).")})
    sans_contact = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        days = int(getattr(settings, "PARRAINAGE_NO_CONTACT_DAYS", 30))
        self.fields["sans_contact"].label = gettext("Seulement les parrainages sans contact depuis %(days)d jours") % {
            "days": days}

    def clean_q(self):
        return " ".join(self.cleaned_data["q"].replace("\x00", "").split())
