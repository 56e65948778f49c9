from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from chat import selectors
from directory.models import Region


class PersonChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, person) -> str:
        name = person.get_full_name() or person.get_username()
        return f"{name} — {person.association}" if person.association_id else name


class MessageForm(forms.Form):
    """The composer without JavaScript: `client_id` is generated with the page, so a form posted
    twice (double click, reload) still makes one message."""

    client_id = forms.CharField(widget=forms.HiddenInput, max_length=64)
    body = forms.CharField(
        label=_("Votre message"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=settings.CHAT_MAX_MESSAGE_LENGTH,
        strip=False,
    )


class EditMessageForm(forms.Form):
    body = forms.CharField(label=_("Texte du message"), widget=forms.Textarea(attrs={"rows": 4}),
                           max_length=settings.CHAT_MAX_MESSAGE_LENGTH, strip=False)


class DeleteMessageForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de la suppression"), required=False, max_length=500,
        help_text=_("Obligatoire pour supprimer le message de quelqu'un d'autre : il est consigné dans le journal "
                    "de modération."),
        widget=forms.TextInput,
    )


class AdhocRoomForm(forms.Form):
    name = forms.CharField(label=_("Nom du salon"), max_length=150,
                           help_text=_("Par exemple : Réunion régionale Sud-Ouest du 14 octobre."))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    members = PersonChoiceField(
        label=_("Participant·es"), queryset=selectors.adhoc_candidates(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text=_("Maintenez Ctrl (ou Cmd) pour en choisir plusieurs. Vous faites partie du salon."),
    )
    region = forms.ModelChoiceField(
        label=_("Inviter toute une région"), queryset=Region.objects.all(), required=False,
        empty_label=_("Aucune"),
        help_text=_("Toutes les personnes qui participent à la vie de cette région sont ajoutées."),
    )

    def __init__(self, *args, with_region: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_region:
            del self.fields["region"]
        for name, field in self.fields.items():
            if field.help_text:  # templates/chat/room_form.html renders it with this id
                field.widget.attrs["aria-describedby"] = f"id_{name}-aide"

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("members") and not cleaned.get("region") and "region" in self.fields:
            raise forms.ValidationError(_("Choisissez au moins une personne ou une région."))
        return cleaned
