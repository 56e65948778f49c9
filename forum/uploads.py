"""What members may attach to posts: a short list of document and image types, by content too."""

from django.conf import settings
from django.utils.translation import gettext as _

# extension → how the file must start (magic bytes); office formats are zip containers.
ALLOWED_ATTACHMENTS: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF-",),
    ".odt": (b"PK\x03\x04",),
    ".ods": (b"PK\x03\x04",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
}


def check_attachment(upload) -> str | None:
    """Return a French error message if the upload is not acceptable, else None."""
    name = (upload.name or "").lower()
    extension = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if extension not in ALLOWED_ATTACHMENTS:
        return _("Ce type de fichier n'est pas accepté. Formats acceptés : PDF, ODT, DOCX, XLSX, ODS, PNG, JPG.")
    if upload.size > settings.FORUM_ATTACHMENT_MAX_BYTES:
        return _("Le fichier dépasse la taille maximale de %(size)d Mo.") % {
            "size": settings.FORUM_ATTACHMENT_MAX_BYTES // (1024 * 1024)}
    if upload.size == 0:
        return _("Le fichier est vide.")
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(magic) for magic in ALLOWED_ATTACHMENTS[extension]):
        return _("Le contenu du fichier ne correspond pas à son extension.")
    return None
