"""The Wagtail admin's document form (WAGTAILDOCS_DOCUMENT_FORM_BASE), with a size limit.

Wagtail limits image uploads (WAGTAILIMAGES_MAX_UPLOAD_SIZE) but not documents. The single upload,
the multiple upload and the chooser's upload tab all build their form on this base.
"""

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.forms import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from wagtail.documents.forms import BaseDocumentForm


class DocumentForm(BaseDocumentForm):
    def clean_file(self):
        upload = self.cleaned_data.get("file")
        # A new upload, not the file already stored when another field of the document is edited.
        if isinstance(upload, UploadedFile) and upload.size > settings.CMS_DOCUMENT_MAX_BYTES:
            raise ValidationError(
                _("Ce fichier pèse %(size)s : la taille maximale d'un document est de %(limit)s.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(settings.CMS_DOCUMENT_MAX_BYTES)},
                code="file_too_large",
            )
        return upload
