"""Forms of the membership application (candidate) and of its examination (commission).

They check what a form can check (formats, SIRET key, document type and size); the services in
membership.services check the states and write.
"""

from __future__ import annotations

import re
import secrets
from itertools import groupby

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from directory.models import Juridiction, Region, Theme
from directory.siret import normalize_siret, siret_error
from membership import services
from membership.models import MembershipApplication

DEPARTEMENT_PATTERN = re.compile(r"^(\d{2,3}|2[AB])$")


def _document_help() -> str:
    return gettext("PDF, ODT ou DOCX, %(size)d Mo au plus.") % {
        "size": settings.MEMBERSHIP_UPLOAD_MAX_BYTES // (1024 * 1024)}


class DocumentField(forms.FileField):
    """An optional PDF/ODT/DOCX upload, checked by extension, content and size."""

    widget = forms.FileInput(attrs={"accept": ".pdf,.odt,.docx"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("error_messages", {
            "invalid": _("Aucun fichier n'a été reçu : choisissez le fichier à nouveau."),
            "empty": _("Ce fichier est vide."),
            "max_length": _("Le nom de ce fichier est trop long (%(max)d caractères au plus) : renommez-le."),
        })
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload and hasattr(upload, "size"):
            error = services.document_error(upload)
            if error:
                raise forms.ValidationError(error)
        return upload


class ApplicationForm(forms.ModelForm):
    """The candidate's file. As a draft only the name and the follow-up e-mail are required;
    completeness is checked when submitting (membership.services.missing_items)."""

    siret = forms.CharField(
        label=_("SIRET"), required=False, max_length=30,
        help_text=_("Les 14 chiffres du numéro SIRET de l'association (espaces acceptés)."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    website = forms.URLField(
        label=_("Site internet"), required=False, max_length=200, assume_scheme="https",
        error_messages={"invalid": _("Cette adresse de site n'est pas valide (par exemple https://exemple.org).")},
    )
    # One-time key of this rendering of the form: a repeated post does not create a second draft.
    form_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    statutes = DocumentField(label=_("Statuts de l'association"))
    activity_report = DocumentField(label=_("Dernier rapport d'activité"))

    class Meta:
        model = MembershipApplication
        fields = [
            "name", "siret", "address", "postal_code", "city", "departement", "region", "website",
            "juridictions", "themes", "staff_count",
            "president_first_name", "president_last_name", "president_email", "president_phone",
            "director_first_name", "director_last_name", "director_email", "director_phone",
            "contact_email", "motivation",
        ]
        widgets = {
            "juridictions": forms.SelectMultiple(attrs={"size": 12}),
            "themes": forms.CheckboxSelectMultiple,
            "motivation": forms.Textarea(attrs={"rows": 8, "maxlength": 5000}),
            "president_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "director_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
        }
        help_texts = {
            "name": _("Le nom officiel, tel qu'il figure dans les statuts."),
            "departement": _("Numéro du département du siège, par exemple 33, 974 ou 2A."),
            "region": _("La région de la fédération où se trouve le siège."),
            "juridictions": _(
                "Les tribunaux judiciaires auprès desquels l'association intervient, classés par cour d'appel. "
                "Maintenez Ctrl (ou Cmd sur Mac) pour en choisir plusieurs."),
            "themes": _("Les mesures que l'association met en œuvre et ses thématiques de travail."),
            "staff_count": _("En personnes physiques, au dernier exercice."),
            "contact_email": _("Nous y envoyons le lien privé de la candidature, l'accusé de réception et les "
                               "questions de la commission."),
            "motivation": _("Le projet de l'association et ce qu'elle attend du réseau (5 000 caractères au plus)."),
        }
        error_messages = {
            "name": {"required": _("Indiquez le nom de l'association.")},
            "contact_email": {"required": _("Indiquez le courriel où suivre la candidature."),
                              "invalid": _("Cette adresse électronique n'est pas valide.")},
            "president_email": {"invalid": _("Cette adresse électronique n'est pas valide.")},
            "director_email": {"invalid": _("Cette adresse électronique n'est pas valide.")},
            "staff_count": {"invalid": _("Indiquez un nombre entier."),
                            "min_value": _("Le nombre de salarié·es ne peut pas être négatif.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.order_by("name")
        self.fields["region"].empty_label = gettext("Choisir une région")
        self.fields["region"].error_messages["invalid_choice"] = gettext("Choisissez une région de la liste.")
        juridictions = list(Juridiction.objects.select_related("cour").order_by("cour__name", "name"))
        self.fields["juridictions"].queryset = Juridiction.objects.all()
        self.fields["juridictions"].choices = [
            (gettext("Cour d'appel : %(name)s") % {"name": cour}, [(j.pk, j.name) for j in items])
            for cour, items in groupby(juridictions, key=lambda j: j.cour.name)
        ]
        kinds = dict(Theme.Kind.choices)
        themes = list(Theme.objects.order_by("kind", "name"))
        self.fields["themes"].queryset = Theme.objects.all()
        self.fields["themes"].choices = [
            (kinds.get(kind, kind), [(t.pk, t.name) for t in items])
            for kind, items in groupby(themes, key=lambda t: t.kind)
        ]
        for name in ("juridictions", "themes"):
            self.fields[name].error_messages["invalid_choice"] = gettext(
                "Un des choix n'existe pas : choisissez dans la liste.")
            self.fields[name].error_messages["invalid_pk_value"] = gettext(
                "Un des choix n'existe pas : choisissez dans la liste.")
        self.fields["staff_count"].widget.attrs.update({"min": 0, "max": 100000})
        self.fields["contact_email"].widget.attrs["autocomplete"] = "email"
        for name in ("statutes", "activity_report"):
            self.fields[name].help_text = _document_help()
        self.submit_required = set(services.REQUIRED_TO_SUBMIT)
        if not self.is_bound:
            self.initial.setdefault("form_key", secrets.token_urlsafe(16))

    def clean_siret(self) -> str:
        value = normalize_siret(self.cleaned_data.get("siret", ""))
        if value:
            error = siret_error(value)
            if error:
                raise forms.ValidationError(error)
        return value

    def clean_departement(self) -> str:
        value = (self.cleaned_data.get("departement") or "").strip().upper()
        if value and not DEPARTEMENT_PATTERN.match(value):
            raise forms.ValidationError(gettext("Indiquez le numéro du département : 2 ou 3 chiffres, ou 2A / 2B."))
        return value

    def clean_staff_count(self):
        value = self.cleaned_data.get("staff_count")
        if value is not None and value > 100000:
            raise forms.ValidationError(gettext("Ce nombre de salarié·es paraît trop élevé : vérifiez-le."))
        return value

    def service_data(self) -> dict:
        """What the services take: field values, lists, and the new uploads (None: keep the current file)."""
        data = {name: self.cleaned_data.get(name) for name in services.EDITABLE_FIELDS}
        data["juridictions"] = list(self.cleaned_data.get("juridictions") or [])
        data["themes"] = list(self.cleaned_data.get("themes") or [])
        for name in services.FILE_FIELDS:
            data[name] = self.cleaned_data.get(name) or None
        return data

    def mark_missing(self, missing: list[tuple[str, str]]) -> None:
        """Show, on each field, what submission still needs."""
        for name, _label in missing:
            if name in self.fields and name not in self.errors:
                message = (gettext("Joignez ce document pour déposer la candidature.") if name in services.FILE_FIELDS
                           else gettext("Ce champ est obligatoire pour déposer la candidature."))
                self.add_error(name, message)


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Votre réponse"), max_length=10000, widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Écrivez votre réponse avant de l'envoyer."),
                        "max_length": _("La réponse est trop longue (%(limit_value)d caractères au plus).")},
    )
    answer_file = DocumentField(label=_("Document joint (facultatif)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["answer_file"].help_text = _document_help()


class CommentForm(forms.Form):
    opinion = forms.ChoiceField(
        label=_("Votre avis"), required=False,
        choices=[("", _("Pas d'avis pour l'instant")), *services.OPINIONS.items()],
        error_messages={"invalid_choice": _("Cet avis n'existe pas : choisissez dans la liste.")},
    )
    message = forms.CharField(
        label=_("Message à la commission"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Visible des seuls membres de la commission et de l'équipe fédérale, jamais de l'association."),
        error_messages={"required": _("Écrivez votre message avant de l'envoyer."),
                        "max_length": _("Le message est trop long (%(limit_value)d caractères au plus).")},
    )


class InformationRequestForm(forms.Form):
    question = forms.CharField(
        label=_("Question à l'association"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Envoyée par courriel à l'association, qui répond depuis son lien privé (un nouveau lien lui "
                    "est envoyé)."),
        error_messages={"required": _("Écrivez la question à poser à l'association."),
                        "max_length": _("La question est trop longue (%(limit_value)d caractères au plus).")},
    )


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Décision"), widget=forms.RadioSelect,
        choices=[(value, MembershipApplication.Status(value).label) for value in services.DECISIONS],
        error_messages={"required": _("Choisissez la décision : admise, refusée ou ajournée."),
                        "invalid_choice": _("Choisissez la décision : admise, refusée ou ajournée.")},
    )
    reason = forms.CharField(
        label=_("Motif de la décision"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Communiqué à l'association candidate. Une admission crée l'association dans l'annuaire et "
                    "les comptes de sa direction et de sa présidence."),
        error_messages={"required": _("Le motif de la décision est obligatoire."),
                        "max_length": _("Le motif est trop long (%(limit_value)d caractères au plus).")},
    )


class CommissionFilterForm(forms.Form):
    statut = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tabs = services.commission_tabs()
        self.fields["statut"].choices = [(key, label) for key, label, _states in self.tabs]
        self.fields["statut"].error_messages["invalid_choice"] = gettext(
            "Ce statut n'existe pas : choisissez un des onglets.")

    def tab(self) -> str:
        return self.cleaned_data.get("statut") or services.CommissionTab.PENDING

    def states(self) -> tuple[str, ...]:
        key = self.tab()
        return next(states for tab_key, _label, states in self.tabs if tab_key == key)
