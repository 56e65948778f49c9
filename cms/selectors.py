"""Reads of the CMS that list its content: the resources index, the tool library, the agenda, news, and
the CMS panels of the member dashboard.

Who sees what is decided by cms.visibility.Visibility (re-exported here for the apps that read the
CMS: search, the permission audit); the listing pages (cms.models) call these functions, which read
the content pages (cms.content) as rows, in a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.core.paginator import Page as PaginatorPage
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Site

from cms.content import EventPage, GuidePage, NewsPage
from cms.forms import ResourceFilterForm, ResourceKind, ToolFilterForm
from cms.registrations import EventRegistration
from cms.visibility import Denial, Visibility, visibility_for_request, visible_documents, visible_pages
from directory import access
from directory.models import Association, RoleAssignment, Theme, User

if TYPE_CHECKING:
    from cms.models import ToolLibraryPage

__all__ = ["Denial", "Visibility", "visibility_for_request", "visible_documents", "visible_pages"]

PAGE_SIZE = 20


# --- Resources index -------------------------------------------------------------------------------


@dataclass
class ResourceItem:
    """One line of the resources index: a guide, a document, an event or a news item."""

    kind: str
    title: str
    url: str
    summary: str
    date: date | None
    themes: list[str] = field(default_factory=list)
    detail: str = ""
    restricted: bool = False

    @property
    def kind_label(self) -> str:
        return str(ResourceKind.LABELS[self.kind])


def _themes_prefetch(queryset: QuerySet) -> QuerySet:
    return queryset.prefetch_related("themes")


def _local_date(moment: datetime | None) -> date | None:
    return timezone.localdate(moment) if moment else None


def _text_filter(text: str, *fields: str) -> Q:
    condition = Q()
    for word in text.split():
        any_field = Q()
        for name in fields:
            any_field |= Q(**{f"{name}__icontains": word})
        condition &= any_field
    return condition


def theme_choices() -> list[Theme]:
    return list(Theme.objects.order_by("kind", "name"))


def _size_label(size: int | None) -> str:
    if not size:
        return ""
    if size < 1024:
        return f"{size} o"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} Ko".replace(".", ",")
    return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")


def document_detail(document) -> str:
    parts = [document.get_kind_display(), document.file_extension.upper()]
    size = _size_label(document.file_size)
    if size:
        parts.append(size)
    return " · ".join(p for p in parts if p)


def _page_url_builder():
    """A function url_path → the page's URL on the default site, as Wagtail's `Page.url` gives it
    for a single site, without instantiating the pages (listings show hundreds of them)."""
    roots = sorted(Site.get_site_root_paths(), key=lambda root: len(root.root_path), reverse=True)
    base = reverse("wagtail_serve", args=("",))

    def url(url_path: str) -> str:
        for root in roots:
            if url_path.startswith(root.root_path):
                return base + url_path[len(root.root_path):]
        return ""

    return url


def _theme_names(model, page_ids: list[int]) -> dict[int, list[str]]:
    """Theme names of many pages of `model` in one query (ParentalManyToManyField `themes`)."""
    through = model.themes.through
    key = f"{model._meta.model_name}_id"
    names: dict[int, list[str]] = {}
    rows = (through.objects.filter(**{f"{key}__in": page_ids}).order_by("theme__kind", "theme__name")
            .values_list(key, "theme__name"))
    for page_id, name in rows:
        names.setdefault(page_id, []).append(name)
    return names


def resources_for(user, *, theme: str = "", kind: str = "", q: str = "",
                  visibility: Visibility | None = None) -> list[ResourceItem]:
    """Everything of the resources area `user` may see, by kind then newest first, filtered by
    theme, type and words of the title or summary.

    Pages are read as rows (no page instances): one query per kind of resource plus one for its
    themes, whatever the number of items.
    """
    v = visibility or Visibility(user)
    items: list[ResourceItem] = []
    kinds = [kind] if kind else [ResourceKind.GUIDE, ResourceKind.DOCUMENT, ResourceKind.EVENT, ResourceKind.NEWS]
    page_url = _page_url_builder()

    def rows(model, *fields):
        qs = v.pages(model.objects.all())
        if theme:
            qs = qs.filter(themes__slug=theme)
        if q:
            qs = qs.filter(_text_filter(q, "title", "summary"))
        found = list(qs.values("pk", "title", "summary", "url_path", "path", *fields))
        themes = _theme_names(model, [row["pk"] for row in found]) if found else {}
        for row in found:
            row["url"] = page_url(row["url_path"])
            row["themes"] = themes.get(row["pk"], [])
            row["restricted"] = v.is_narrower_than_members(row["path"])
        return found

    def item(kind_: str, row: dict, when, detail: str = "") -> ResourceItem:
        return ResourceItem(kind_, row["title"], row["url"], row["summary"], when, row["themes"], detail=detail,
                            restricted=row["restricted"])

    if ResourceKind.GUIDE in kinds:
        for row in rows(GuidePage, "content_updated_on", "last_published_at"):
            when = row["content_updated_on"] or _local_date(row["last_published_at"])
            items.append(item(ResourceKind.GUIDE, row, when))
    if ResourceKind.EVENT in kinds:
        for row in rows(EventPage, "starts_at", "kind"):
            items.append(item(ResourceKind.EVENT, row, _local_date(row["starts_at"]),
                              str(EventPage.Kind(row["kind"]).label)))
    if ResourceKind.NEWS in kinds:
        for row in rows(NewsPage, "date"):
            items.append(item(ResourceKind.NEWS, row, row["date"]))
    if ResourceKind.DOCUMENT in kinds:
        documents = v.documents().select_related("collection")
        if theme:
            documents = documents.filter(themes__slug=theme)
        if q:
            documents = documents.filter(_text_filter(q, "title", "description"))
        for document in _themes_prefetch(documents):
            items.append(ResourceItem(ResourceKind.DOCUMENT, document.title, document.url, document.description,
                                      _local_date(document.created_at), [t.name for t in document.themes.all()],
                                      detail=document_detail(document)))
    # Guides first (the heart of the knowledge base), then documents, events, news; newest first in each.
    order = {ResourceKind.GUIDE: 0, ResourceKind.DOCUMENT: 1, ResourceKind.EVENT: 2, ResourceKind.NEWS: 3}
    items.sort(key=lambda entry: entry.title.casefold())
    items.sort(key=lambda entry: entry.date or date.min, reverse=True)
    items.sort(key=lambda entry: order[entry.kind])
    return items


def paginate(items, page_number, per_page: int = PAGE_SIZE) -> PaginatorPage:
    """A page of `items`; a missing, malformed or out-of-range number gives the first or last page."""
    return Paginator(items, per_page).get_page(page_number)


def resources_index_context(user, params: Mapping, visibility: Visibility | None = None) -> dict:
    """Context of `/ressources/`: the filter form and the matching items (paginated). The index's
    sections (tool libraries, agenda, news, working groups) are the page's own (cms.models)."""
    themes = theme_choices()
    bound = any(params.get(name) for name in ("q", "theme", "type"))
    form = ResourceFilterForm(params if bound else None, themes=themes)
    v = visibility or Visibility(user)
    if bound and not form.is_valid():
        return {"form": form, "invalid": True, "items_page": None, "result_count": 0}
    data = form.cleaned_data if bound else {}
    items = resources_for(user, theme=data.get("theme", ""), kind=data.get("type", ""), q=data.get("q", ""),
                          visibility=v)
    return {
        "form": form,
        "invalid": False,
        "filtered": bound,
        "items_page": paginate(items, params.get("page")),
        "result_count": len(items),
    }


# --- Tool library ----------------------------------------------------------------------------------


def tool_library_context(library: ToolLibraryPage, user, params: Mapping,
                         visibility: Visibility | None = None) -> dict:
    """The library's documents the reader may download, grouped by collection, filtered."""
    themes = theme_choices()
    bound = any(params.get(name) for name in ("q", "theme", "kind"))
    form = ToolFilterForm(params if bound else None, themes=themes)
    if bound and not form.is_valid():
        return {"form": form, "invalid": True, "sections": [], "document_count": 0}
    data = form.cleaned_data if bound else {}
    documents = (visibility or Visibility(user)).documents().select_related("collection")
    if library.collection_id:
        documents = documents.filter(collection__path__startswith=library.collection.path)
    if data.get("theme"):
        documents = documents.filter(themes__slug=data["theme"])
    if data.get("kind"):
        documents = documents.filter(kind=data["kind"])
    if data.get("q"):
        documents = documents.filter(_text_filter(data["q"], "title", "description"))
    sections: dict[int, dict] = {}
    count = 0
    for document in _themes_prefetch(documents.order_by("collection__path", "title")):
        section = sections.setdefault(document.collection_id, {"collection": document.collection, "documents": []})
        section["documents"].append(document)
        count += 1
    return {"form": form, "invalid": False, "filtered": bound, "sections": list(sections.values()),
            "document_count": count}


# --- Events --------------------------------------------------------------------------------------


def _confirmed_count() -> Subquery:
    return Coalesce(Subquery(
        EventRegistration.objects.filter(event=OuterRef("pk"), status=EventRegistration.Status.CONFIRMED)
        .order_by().values("event").annotate(n=Count("pk")).values("n")[:1]
    ), 0)


def _my_status(user) -> Subquery:
    return Subquery(
        EventRegistration.objects.filter(event=OuterRef("pk"), user_id=user.pk)
        .exclude(status=EventRegistration.Status.CANCELLED).values("status")[:1]
    )


def events_for(user, *, upcoming: bool = True, limit: int | None = None,
               visibility: Visibility | None = None) -> list[EventPage]:
    """Events `user` may see, with `confirmed_count` and `my_status` (their registration) annotated."""
    v = visibility or Visibility(user)
    now = timezone.now()
    qs = v.pages(EventPage.objects.all()).select_related("region").annotate(
        confirmed_count=_confirmed_count(), my_status=_my_status(user))
    if upcoming:
        qs = qs.filter(ends_at__gte=now).order_by("starts_at", "pk")
    else:
        qs = qs.filter(ends_at__lt=now).order_by("-starts_at", "pk")
    if limit:
        qs = qs[:limit]
    return list(qs)


# --- News ----------------------------------------------------------------------------------------


def news_queryset(user, visibility: Visibility | None = None) -> QuerySet:
    """The news `user` may see, latest first (paginate it: it is a queryset)."""
    return (visibility or Visibility(user)).pages(NewsPage.objects.all()).order_by("-date", "-pk")


def news_for(user, *, limit: int | None = None, visibility: Visibility | None = None) -> list[NewsPage]:
    qs = news_queryset(user, visibility)
    return list(qs[:limit] if limit else qs)


# --- Dashboard -----------------------------------------------------------------------------------

DASHBOARD_EVENTS = 5
DASHBOARD_GUIDES = 5
DASHBOARD_NEWS = 3
# Upcoming events looked at to find the reader's own (their audience or their registrations).
UPCOMING_WINDOW = 60


def user_theme_ids(user) -> set[int]:
    """The person's themes: expertise, their association's themes and measures, their referent roles."""
    # One query of three small subqueries (a join of the three relations would multiply their rows).
    conditions = Q(pk__in=User.expertise.through.objects.filter(user_id=user.pk).values("theme_id"))
    conditions |= Q(pk__in=RoleAssignment.objects.filter(user_id=user.pk, theme__isnull=False).values("theme_id"))
    if getattr(user, "association_id", None):
        conditions |= Q(pk__in=Association.themes.through.objects.filter(association_id=user.association_id)
                        .values("theme_id"))
    return set(Theme.objects.filter(conditions).values_list("pk", flat=True))


@dataclass(frozen=True)
class PanelItem:
    """One line of a dashboard panel, read as a row (no page instance)."""

    title: str
    url: str
    date: date | datetime | None = None
    place: str = ""
    my_status: str | None = None


def _event_in_audience(user, audience: str, region_id: int | None) -> bool:
    if audience == access.CmsAudience.REGION and not region_id:
        audience = access.CmsAudience.STAFF  # as EventPage.audience_groups: region deleted
    return access.in_any_group(user, access.cms_audience_groups(audience, region_id=region_id))


def dashboard_panels(user, visibility: Visibility | None = None) -> dict:
    """The CMS panels of the member dashboard, each with what its empty state needs.

    - `cms_events`: upcoming events for the person's audiences or that they registered to;
    - `cms_guides`: the latest guides in their themes (`cms_has_themes` false: none declared);
    - `cms_news`: the latest news of the network.
    Pages are read as rows: a constant number of small queries, whatever the number of pages.
    """
    v = visibility or Visibility(user)
    page_url = _page_url_builder()
    upcoming = (v.pages(EventPage.objects.filter(ends_at__gte=timezone.now()))
                .annotate(my_status=_my_status(user)).order_by("starts_at", "pk")
                .values("title", "url_path", "starts_at", "place", "audience", "region_id", "my_status")
                [:UPCOMING_WINDOW])
    events = [
        PanelItem(row["title"], page_url(row["url_path"]), row["starts_at"], row["place"], row["my_status"])
        for row in upcoming
        if row["my_status"] or _event_in_audience(user, row["audience"], row["region_id"])
    ][:DASHBOARD_EVENTS]
    theme_ids = user_theme_ids(user)
    guides: list[PanelItem] = []
    if theme_ids:
        rows = (v.pages(GuidePage.objects.all())
                .filter(pk__in=GuidePage.themes.through.objects.filter(theme_id__in=theme_ids).values("guidepage_id"))
                .order_by("-last_published_at", "-pk")
                .values("title", "url_path", "content_updated_on", "last_published_at")[:DASHBOARD_GUIDES])
        guides = [PanelItem(row["title"], page_url(row["url_path"]),
                            row["content_updated_on"] or _local_date(row["last_published_at"])) for row in rows]
    news = [PanelItem(row["title"], page_url(row["url_path"]), row["date"])
            for row in news_queryset(user, v).values("title", "url_path", "date")[:DASHBOARD_NEWS]]
    return {"cms_events": events, "cms_guides": guides, "cms_has_themes": bool(theme_ids), "cms_news": news}
