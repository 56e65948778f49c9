"""CMS test data, built through Wagtail's own API and cms.services (restrictions, collections)."""

from __future__ import annotations

import json
from datetime import timedelta

from django.core.files.base import ContentFile
from django.utils import timezone
from wagtail.documents import get_document_model
from wagtail.models import Collection

from cms import services
from cms.models import EventIndexPage, EventPage, GuidePage, NewsIndexPage, NewsPage, ResourcesIndexPage
from cms.setup import MEMBERS_COLLECTION_NAME
from demo.cms_files import odt_document, pdf_document
from directory.access import CmsAudience

PRESIDENTS_COLLECTION = "Réservé aux président·es"


def resources_index() -> ResourcesIndexPage:
    return ResourcesIndexPage.objects.get()


def publish(parent, page, themes=()):
    if themes:
        page.themes.set(list(themes))
    parent.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def body(*blocks) -> str:
    return json.dumps(list(blocks))


def paragraph(text: str) -> dict:
    return {"type": "paragraph", "value": f"<p>{text}</p>"}


def heading(text: str, level: str = "h2") -> dict:
    return {"type": "heading", "value": {"text": text, "level": level}}


def document_block(document, label: str = "") -> dict:
    return {"type": "document", "value": {"document": document.pk, "label": label, "description": ""}}


def topic_block(topic, label: str = "") -> dict:
    return {"type": "forum_topic", "value": {"topic": topic.pk, "label": label}}


def add_guide(title: str, *, blocks=(), themes=(), audience: str | None = None, summary: str = "Un résumé.",
              parent=None) -> GuidePage:
    guide = publish(parent or resources_index(),
                    GuidePage(title=title, summary=summary, body=body(*(blocks or [paragraph("Contenu.")]))), themes)
    if audience:
        services.restrict_page(guide, audience)
    return guide


def members_collection() -> Collection:
    return Collection.objects.get(name=MEMBERS_COLLECTION_NAME, depth=2)


def presidents_collection() -> Collection:
    return services.ensure_collection(PRESIDENTS_COLLECTION, members_collection(), CmsAudience.PRESIDENTS)


def add_document(title: str, *, collection=None, filename: str = "fiche.pdf", kind: str = "fiche", themes=()):
    Document = get_document_model()
    maker = pdf_document if filename.endswith(".pdf") else odt_document
    document = Document(title=title, collection=collection or members_collection(), kind=kind)
    document.file.save(filename, ContentFile(maker(title, ["Texte du document."])), save=False)
    document._set_document_file_metadata()
    document.save()
    if themes:
        document.themes.set(themes)
    return document


def agenda() -> EventIndexPage:
    existing = EventIndexPage.objects.first()
    return existing or publish(resources_index(), EventIndexPage(title="Agenda", slug="agenda"))


def add_event(title: str, *, capacity: int | None = None, audience: str = CmsAudience.MEMBERS, starts_in_days: int = 10,
              region=None, place: str = "Maison des associations, Lyon", video_link: str = "",
              themes=()) -> EventPage:
    start = timezone.now().replace(microsecond=0) + timedelta(days=starts_in_days)
    return publish(agenda(), EventPage(
        title=title, kind=EventPage.Kind.THEMATIC_DAY, starts_at=start, ends_at=start + timedelta(hours=3),
        place=place, video_link=video_link, audience=audience, region=region, capacity=capacity,
        summary=f"Résumé de {title}.", body=body()), themes)


def news_index() -> NewsIndexPage:
    existing = NewsIndexPage.objects.first()
    return existing or publish(resources_index(), NewsIndexPage(title="Actualités", slug="actualites"))


def add_news(title: str, *, days_ago: int = 1, themes=()) -> NewsPage:
    return publish(news_index(), NewsPage(title=title, date=timezone.localdate() - timedelta(days=days_ago),
                                          summary=f"Chapeau de {title}.", body=body()), themes)
