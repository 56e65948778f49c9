"""Filter forms of the resources index and the tool library (GET, validated, never a 500)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cms.content import PasserellesDocument


class ResourceKind:
    GUIDE = "guide"
    DOCUMENT = "document"
    EVENT = "evenement"
    NEWS = "actualite"

    CHOICES = [
        (GUIDE, _("Guides")),
        (DOCUMENT, _("Documents et outils")),
        (EVENT, _("Événements")),
        (NEWS, _("Actualités")),
    ]
    LABELS = {
        GUIDE: _("Guide"),
        DOCUMENT: _("Document"),
        EVENT: _("Événement"),
        NEWS: _("Actualité"),
    }


def _theme_choices(themes) -> list[tuple[str, str]]:
    return [("", _("Toutes les thématiques")), *((t.slug, t.name) for t in themes)]


class ResourceFilterForm(forms.Form):
    q = forms.CharField(label=_("Mots du titre ou du résumé"), required=False, max_length=100)
    theme = forms.ChoiceField(label=_("Thématique"), required=False)
    type = forms.ChoiceField(label=_("Type de ressource"), required=False,
                             choices=[("", _("Tous les types")), *ResourceKind.CHOICES])

    def __init__(self, *args, themes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = _theme_choices(themes)
        self.fields["theme"].error_messages["invalid_choice"] = _(
            "Cette thématique n'existe pas. Choisissez-en une dans la liste.")
        self.fields["type"].error_messages["invalid_choice"] = _(
            "Ce type de ressource n'existe pas. Choisissez-en un dans la liste.")


class ToolFilterForm(forms.Form):
    q = forms.CharField(label=_("Mots du titre"), required=False, max_length=100)
    theme = forms.ChoiceField(label=_("Thématique"), required=False)
    kind = forms.ChoiceField(label=_("Nature du document"), required=False,
                             choices=[("", _("Toutes les natures")), *PasserellesDocument.Kind.choices])

    def __init__(self, *args, themes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = _theme_choices(themes)
        self.fields["theme"].error_messages["invalid_choice"] = _(
            "Cette thématique n'existe pas. Choisissez-en une dans la liste.")
        self.fields["kind"].error_messages["invalid_choice"] = _(
            "Cette nature de document n'existe pas. Choisissez-en une dans la liste.")
