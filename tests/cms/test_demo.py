"""seed_cms: believable content, real PDF/ODT files, restrictions, a waiting list; idempotent."""

import re
import zipfile
from xml.etree import ElementTree

import pytest
from wagtail.documents import get_document_model
from wagtail.models import Page, PageViewRestriction

from cms.models import EventPage, EventRegistration, GuidePage, NewsPage
from demo.cms import seed_cms
from demo.cms_files import odt_document, pdf_document
from directory import access
from directory.access import CmsAudience
from directory.roles import Role
from tests.factories import RoleSpec, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(association, staff, other_staff, president):
    for i in range(10):
        make_person(f"membre{i}.test", association=association, roles=[RoleSpec(Role.MEMBER)])
    return seed_cms()


def _check_pdf(data: bytes) -> None:
    assert data.startswith(b"%PDF-1.4\n") and data.rstrip().endswith(b"%%EOF")
    start = int(re.search(rb"startxref\n(\d+)\n", data).group(1))
    assert data[start:start + 4] == b"xref"
    count = int(re.search(rb"xref\n0 (\d+)\n", data).group(1))
    entries = data[start:].split(b"\n")[3:3 + count - 1]
    for number, entry in enumerate(entries, start=1):
        offset = int(entry[:10])
        assert data[offset:].startswith(b"%d 0 obj" % number)


def _check_odt(data: bytes, title: str) -> None:
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert archive.read("mimetype") == b"application/vnd.oasis.opendocument.text"
        content = ElementTree.fromstring(archive.read("content.xml"))
        assert title in "".join(content.itertext())
        ElementTree.fromstring(archive.read("META-INF/manifest.xml"))


def test_the_generated_files_are_valid():
    _check_pdf(pdf_document("Guide (test) \\ éè", ["Première ligne, avec des accents : « é à ç œ ».", "- Point"]))
    _check_odt(odt_document("Trame <test> & co", ["Paragraphe", "- point"]), "Trame <test> & co")


def test_the_seed_creates_the_guides_of_the_issue(seeded):
    titles = set(GuidePage.objects.live().values_list("title", flat=True))
    assert {
        "Guide juridique des fonctions support",
        "Guide du financement des associations socio-judiciaires",
        "Guide du recrutement, de l'animation et de la formation des conseils d'administration",
        "Charte de bonnes pratiques de coopération",
        "Fiches techniques des correspondants interrégionaux",
        "Guide de réflexion éthique",
    } <= titles
    assert seeded["news"] >= 4 and seeded["events"] >= 5


def test_the_presidents_guide_is_restricted_to_presidents_and_staff(seeded):
    guide = GuidePage.objects.get(slug="guide-du-recrutement-de-lanimation-et-de-la-formation-des-ca")
    restriction = PageViewRestriction.objects.get(page=guide)
    keys = set(restriction.groups.values_list("managed__key", flat=True))
    assert keys == access.cms_audience_groups(CmsAudience.PRESIDENTS)


def test_documents_are_real_files_in_restricted_collections(seeded):
    documents = list(get_document_model().objects.select_related("collection"))
    assert len(documents) >= 8
    for document in documents:
        with document.open_file() as handle:
            data = handle.read()
        assert document.file_size == len(data)
        if document.file_extension == "pdf":
            _check_pdf(data)
        else:
            _check_odt(data, document.title)
        assert document.collection.get_view_restrictions().exists(), document.title


def test_an_event_has_a_waiting_list(seeded):
    event = EventPage.objects.get(slug="formation-ecrits-professionnels-esr")
    statuses = list(event.registrations.values_list("status", flat=True))
    assert statuses.count(EventRegistration.Status.CONFIRMED) == event.capacity
    assert statuses.count(EventRegistration.Status.WAITING) >= 1


def test_a_draft_guide_waits_for_review(seeded):
    draft = GuidePage.objects.get(slug="guide-daccueil-des-nouveaux-adherents")
    assert not draft.live and draft.workflow_in_progress


def test_seeding_again_changes_nothing(seeded):
    before = (Page.objects.count(), get_document_model().objects.count(), EventRegistration.objects.count(),
              NewsPage.objects.count(), PageViewRestriction.objects.count())
    assert seed_cms() == seeded
    after = (Page.objects.count(), get_document_model().objects.count(), EventRegistration.objects.count(),
             NewsPage.objects.count(), PageViewRestriction.objects.count())
    assert after == before


def test_a_larger_scale_adds_generated_sheets_and_news(seeded):
    counts = seed_cms(scale=2)
    assert counts["guides"] == seeded["guides"] + 5
    assert counts["news"] == seeded["news"] + 3
    assert seed_cms(scale=2) == counts
