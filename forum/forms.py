from django import forms
from django.utils.translation import gettext_lazy as _

from forum.models import NationalMeeting

AGENDA_EXTENSIONS = {".pdf", ".odt", ".docx"}
AGENDA_MAX_BYTES = 5 * 1024 * 1024


class MeetingForm(forms.Form):
    title = forms.CharField(label=_("Titre"), max_length=200)
    starts_at = forms.DateTimeField(label=_("Début"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(label=_("Fin"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    place = forms.CharField(label=_("Lieu"), max_length=250, required=False)
    video_link = forms.URLField(label=_("Lien de visioconférence"), required=False, assume_scheme="https")
    agenda = forms.CharField(label=_("Ordre du jour"), widget=forms.Textarea(attrs={"rows": 6}), required=False,
                             max_length=10_000)
    agenda_document = forms.FileField(label=_("Ordre du jour (PDF, ODT ou DOCX, 5 Mo maximum)"), required=False)
    audience = forms.ChoiceField(label=_("Public"), choices=NationalMeeting.Audience.choices,
                                 initial=NationalMeeting.Audience.PRESIDENTS)

    def clean_agenda_document(self):
        document = self.cleaned_data.get("agenda_document")
        if document is None:
            return None
        name = document.name.lower()
        if not any(name.endswith(ext) for ext in AGENDA_EXTENSIONS):
            raise forms.ValidationError(_("Formats acceptés : PDF, ODT ou DOCX."))
        if document.size > AGENDA_MAX_BYTES:
            raise forms.ValidationError(_("Le document dépasse 5 Mo."))
        return document

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("La fin doit être postérieure au début."))
        if not cleaned.get("place") and not cleaned.get("video_link"):
            self.add_error("place", _("Indiquez un lieu ou un lien de visioconférence."))
        return cleaned


class MeetingResponseForm(forms.Form):
    answer = forms.ChoiceField(choices=[
        ("yes", _("Je viens")), ("no", _("Je ne viens pas")), ("maybe", _("Peut-être")),
    ])
