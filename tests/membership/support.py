"""Builders for the membership application tests: documents, form data, applications in each state.

Applications are built through membership.services (the services the pages use), never by hand.
"""

from __future__ import annotations

import html
import io
import re
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

from membership import services as membership
from membership.models import MembershipApplication
from tests.factories import juridiction, region, theme

VALID_SIRET = "73282932000074"
FOLLOW_RE = re.compile(r"/adhesion/suivi/([A-Za-z0-9_-]+)/")


def pdf(name: str = "statuts.pdf", body: bytes = b"contenu") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.7\n" + body + b"\n%%EOF\n", content_type="application/pdf")


def odt(name: str = "rapport.odt", mimetype: bytes = membership.ODT_MIMETYPE) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype)
        archive.writestr("content.xml", "<office:document-content/>")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/vnd.oasis.opendocument.text")


def docx(name: str = "rapport.docx", content_types: bytes | None = None) -> SimpleUploadedFile:
    if content_types is None:
        content_types = (b'<?xml version="1.0"?><Types><Override PartName="/word/document.xml" ContentType="'
                         + membership.DOCX_MAIN_TYPE + b'"/></Types>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("word/document.xml", "<w:document/>")
    return SimpleUploadedFile(name, buffer.getvalue())


def complete_fields(**overrides) -> dict:
    """Every field a complete application needs, as the form posts them (files apart)."""
    fields = {
        "name": "Association Arcachonnaise de Médiation",
        "siret": "732 829 320 00074",
        "address": "12 rue du Port",
        "postal_code": "33120",
        "city": "Arcachon",
        "departement": "33",
        "region": region("sud-ouest").pk,
        "website": "https://mediation-arcachon.example.org",
        "juridictions": [juridiction("tj-bordeaux").pk, juridiction("tj-libourne").pk],
        "themes": [theme("mediation-penale").pk, theme("pre-sentenciel").pk],
        "staff_count": "14",
        "president_first_name": "Paul",
        "president_last_name": "Présidé",
        "president_email": "paul.preside@arcachon.example.org",
        "president_phone": "05 56 00 00 01",
        "director_first_name": "Diane",
        "director_last_name": "Dirigeante",
        "director_email": "diane.dirigeante@arcachon.example.org",
        "director_phone": "05 56 00 00 02",
        "contact_email": "candidature@arcachon.example.org",
        "motivation": "Rejoindre le réseau pour partager nos pratiques de médiation pénale.",
    }
    fields.update(overrides)
    return fields


def complete_post(**overrides) -> dict:
    data = complete_fields()
    data.update({"statutes": pdf(), "activity_report": odt()})
    data.update(overrides)
    return data


def service_data(**overrides) -> dict:
    """The same application as the services take it (model instances, uploads)."""
    fields = complete_fields()
    data = {name: fields[name] for name in membership.EDITABLE_FIELDS if name in fields}
    data["siret"] = VALID_SIRET
    data["staff_count"] = 14
    data["region"] = region("sud-ouest")
    data["juridictions"] = [juridiction("tj-bordeaux"), juridiction("tj-libourne")]
    data["themes"] = [theme("mediation-penale"), theme("pre-sentenciel")]
    data["statutes"] = pdf()
    data["activity_report"] = odt()
    data.update(overrides)
    return data


def draft(**overrides) -> tuple[MembershipApplication, str]:
    return membership.start_application(service_data(**overrides))


def submitted(**overrides) -> tuple[MembershipApplication, str]:
    application, token = draft(**overrides)
    return membership.submit_application(application, token=token), token


def token_from(location: str) -> str:
    match = FOLLOW_RE.search(location)
    assert match, location
    return match.group(1)


def text(response) -> str:
    return html.unescape(response.content.decode())


def reload(application: MembershipApplication) -> MembershipApplication:
    return MembershipApplication.objects.get(pk=application.pk)
