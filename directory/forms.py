"""Forms of the directory pages: the association list filters and the "offre par juridiction" choice.

Filters arrive as slugs in the query string. The forms only check that values are well formed
(a slug, at most 100 characters, a known size band): a well-formed slug that names nothing is
valid and simply matches nothing, while a malformed value makes the form invalid (HTTP 400).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from directory.models import SizeBand, Theme
from directory.selectors import AssociationFilters, FilterChoices

MAX_FILTER_LENGTH = 100

SLUG_ERRORS = {
    "invalid": _("Cette valeur n'est pas un identifiant valide (lettres, chiffres et tirets seulement)."),
    "max_length": _("Cette valeur est trop longue (%(limit_value)d caractères au plus)."),
}


def _slug_field(label, empty_label) -> forms.SlugField:
    field = forms.SlugField(
        label=label, required=False, max_length=MAX_FILTER_LENGTH, error_messages=SLUG_ERRORS, widget=forms.Select
    )
    field.empty_label = empty_label
    return field


def _grouped(items, key, label) -> list:
    """Choices grouped in <optgroup>s, e.g. juridictions by cour d'appel."""
    return [(group, [(item.slug, label(item)) for item in members]) for group, members in groupby(items, key=key)]


class ChoicesFromReferenceMixin:
    """Fill the select widgets of slug fields from the reference rows, keeping an empty first option."""

    def set_choices(self, name: str, choices: list) -> None:
        field = self.fields[name]
        field.widget.choices = [("", field.empty_label), *choices]
        field.known_values = {value for value, _label in _flatten(choices)}

    def unknown_filters(self) -> list[str]:
        """Labels of the filters whose well-formed value names nothing (the result is then empty)."""
        if not self.is_bound or not hasattr(self, "cleaned_data"):
            return []
        return [
            str(field.label)
            for name, field in self.fields.items()
            if hasattr(field, "known_values")
            and self.cleaned_data.get(name)
            and self.cleaned_data[name] not in field.known_values
        ]


def _cour_group(juridiction) -> str:
    return gettext("Cour d'appel : %(name)s") % {"name": juridiction.cour.name}


def _flatten(choices):
    for value, label in choices:
        if isinstance(label, list | tuple):
            yield from label
        else:
            yield value, label


class AssociationFilterForm(ChoicesFromReferenceMixin, forms.Form):
    q = forms.CharField(
        label=_("Nom, ville ou département"),
        required=False,
        max_length=MAX_FILTER_LENGTH,
        error_messages={"max_length": _("La recherche est trop longue (%(limit_value)d caractères au plus).")},
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    region = _slug_field(_("Région"), _("Toutes les régions"))
    cour = _slug_field(_("Cour d'appel"), _("Toutes les cours d'appel"))
    juridiction = _slug_field(_("Juridiction"), _("Toutes les juridictions"))
    theme = _slug_field(_("Thématique ou mesure"), _("Toutes les thématiques et mesures"))
    taille = forms.ChoiceField(
        label=_("Taille de l'association"),
        required=False,
        choices=[("", _("Toutes les tailles")), *SizeBand.choices],
        error_messages={"invalid_choice": _("Cette taille n'existe pas : choisissez une taille de la liste.")},
    )

    def __init__(self, *args, choices: FilterChoices | Callable[[], FilterChoices], **kwargs):
        """`choices`, or a function giving them: then read only when needed (the list's filter form is
        usually served from the cache, and a form without filters names no unknown value)."""
        super().__init__(*args, **kwargs)
        self._choices = choices
        self._choices_set = False
        if not callable(choices):
            self.load_choices()

    def load_choices(self) -> AssociationFilterForm:
        """Fill the select widgets (and the known values) from the reference rows, once."""
        if self._choices_set:
            return self
        choices = self._choices() if callable(self._choices) else self._choices
        self._choices_set = True
        self.set_choices("region", [(r.slug, r.name) for r in choices.regions])
        self.set_choices("cour", _grouped(choices.cours, key=lambda c: c.region.name, label=str))
        self.set_choices("juridiction", _grouped(choices.juridictions, key=_cour_group, label=str))
        kinds = dict(Theme.Kind.choices)
        theme_groups = _grouped(choices.themes, key=lambda t: t.kind, label=str)
        self.set_choices("theme", [(kinds.get(kind, kind), items) for kind, items in theme_groups])
        return self

    def unknown_filters(self) -> list[str]:
        if not self.is_filtered():
            return []
        self.load_choices()
        return super().unknown_filters()

    def filters(self) -> AssociationFilters:
        """The validated filters; call after is_valid() returned True."""
        data = self.cleaned_data
        return AssociationFilters(
            region=data["region"],
            cour=data["cour"],
            juridiction=data["juridiction"],
            theme=data["theme"],
            taille=data["taille"],
            q=data["q"],
        )

    def is_filtered(self) -> bool:
        return self.is_bound and hasattr(self, "cleaned_data") and any(self.cleaned_data.values())


class OfferForm(ChoicesFromReferenceMixin, forms.Form):
    juridiction = _slug_field(_("Juridiction (tribunal judiciaire)"), _("Choisir une juridiction"))
    cour = _slug_field(_("Cour d'appel"), _("Choisir une cour d'appel"))

    def __init__(self, *args, choices: FilterChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_choices("juridiction", _grouped(choices.juridictions, key=_cour_group, label=str))
        self.set_choices("cour", _grouped(choices.cours, key=lambda c: c.region.name, label=str))
