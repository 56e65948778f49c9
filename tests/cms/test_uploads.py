"""Upload limits of the Wagtail admin: an over-size document or image gets a French error, not a 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from wagtail.documents import get_document_model
from wagtail.images import get_image_model

from demo.cms_files import pdf_document
from tests.factories.cms import members_collection

pytestmark = pytest.mark.django_db

# A valid 1×1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def test_an_oversize_document_is_refused_in_french(client, staff, settings):
    settings.CMS_DOCUMENT_MAX_BYTES = 1024
    client.force_login(staff)
    content = pdf_document("Gros document", ["Texte. " * 500])
    assert len(content) > 1024

    response = client.post("/cms-admin/documents/add/", {
        "title": "Gros document", "file": SimpleUploadedFile("gros.pdf", content, "application/pdf"),
        "collection": members_collection().pk, "kind": "fiche",
    })

    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert errors == ["Ce fichier pèse 5,7\xa0Kio : la taille maximale d'un document est de 1,0\xa0Kio."]
    assert "la taille maximale d&#x27;un document est de 1,0\xa0Kio" in response.content.decode()
    assert not get_document_model().objects.filter(title="Gros document").exists()


def test_a_document_within_the_limit_is_accepted(client, staff):
    client.force_login(staff)

    response = client.post("/cms-admin/documents/add/", {
        "title": "Petit document", "file": SimpleUploadedFile("petit.pdf", pdf_document("Petit", ["Texte."])),
        "collection": members_collection().pk, "kind": "fiche",
    })

    assert response.status_code == 302
    assert get_document_model().objects.filter(title="Petit document").exists()


def test_an_oversize_image_is_refused_in_french(client, staff, settings):
    settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10
    client.force_login(staff)

    response = client.post("/cms-admin/images/add/", {
        "title": "Grande image", "file": SimpleUploadedFile("grande.png", PNG, "image/png"),
        "collection": members_collection().pk,
    })

    assert response.status_code == 200
    [error] = response.context["form"].errors["file"]
    assert error.startswith("Ce fichier est trop gros")
    assert not get_image_model().objects.filter(title="Grande image").exists()


def test_too_much_form_data_is_a_400_not_a_500(client, director, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client.force_login(director)

    response = client.post("/compte/mot-de-passe/", {"old_password": "x" * 4096})

    assert response.status_code == 400
    assert "Requête incorrecte" in response.content.decode()
