"""Attachment forms: only the allowed document and image types, under a size limit."""

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.forms.models import modelformset_factory
from django.utils.translation import gettext_lazy as _
from machina.apps.forum_conversation.forum_attachments.forms import BaseAttachmentFormset
from machina.conf import settings as machina_settings
from machina.core.db.models import get_model

from forum.uploads import check_attachment

Attachment = get_model("forum_attachments", "Attachment")


class AttachmentForm(forms.ModelForm):
    class Meta:
        model = Attachment
        fields = ["file", "comment"]
        labels = {"file": _("Fichier"), "comment": _("Commentaire")}
        help_texts = {"file": _("PDF, ODT, DOCX, XLSX, ODS, PNG ou JPG ; %(size)d Mo au plus.")
                      % {"size": settings.FORUM_ATTACHMENT_MAX_BYTES // (1024 * 1024)}}

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if isinstance(upload, UploadedFile):  # a new upload, not the file already stored
            message = check_attachment(upload)
            if message:
                raise forms.ValidationError(message)
        return upload


AttachmentFormset = modelformset_factory(
    Attachment, AttachmentForm, formset=BaseAttachmentFormset, can_delete=True, extra=1,
    max_num=machina_settings.ATTACHMENT_MAX_FILES_PER_POST, validate_max=True,
)
