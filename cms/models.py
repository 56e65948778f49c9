"""Wagtail pages of Passerelles: home, resources, guides, tool library, events, news; documents.

Tree (parent_page_types / subpage_types): HomePage (site root, `/`) → ResourcesIndexPage
(`/ressources/`, members only by a view restriction by group) → GuidePage, ToolLibraryPage,
EventIndexPage → EventPage, NewsIndexPage → NewsPage, WorkingGroupIndexPage → WorkingGroupPage
(one per working group, restricted to its members and staff) → GuidePage.

This is the app's models module, at the top of the app: it defines the pages that list others (home,
indexes, the tool library), which read through cms.selectors, and re-exports the content they list,
defined below it (cms.content, cms.registrations). Pages own their page logic (context, templates,
routes); reads and access decisions are in the selectors, changes in cms.services.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

from cms import selectors, selectors_working_groups
from cms.blocks import RICH_TEXT_FEATURES
from cms.content import (
    AUDIENCE_CHOICES,
    BodyContextMixin,
    EventPage,
    GuidePage,
    NewsPage,
    PasserellesDocument,
    PeerReviewTask,
    PrivateWhenSignedInMixin,
    WorkingGroupPage,
    themes_panel,
)
from cms.registrations import EventRegistration
from cms.visibility import visibility_for_request
from directory import access, dashboard
from directory import selectors as directory_selectors

# The content pages and models, defined below (migrations name the mixins as cms.models.*).
__all__ = [
    "AUDIENCE_CHOICES", "BodyContextMixin", "EventIndexPage", "EventPage", "EventRegistration", "GuidePage",
    "HomePage", "NewsIndexPage", "NewsPage", "PasserellesDocument", "PeerReviewTask", "PrivateWhenSignedInMixin",
    "ResourcesIndexPage", "ToolLibraryPage", "WorkingGroupIndexPage", "WorkingGroupPage", "themes_panel",
]


# --- Home ----------------------------------------------------------------------------------------


class HomePage(PrivateWhenSignedInMixin, Page):
    """`/`: the public landing for visitors, the dashboard for members (403 for other accounts)."""

    intro = RichTextField(
        _("présentation du réseau"), features=RICH_TEXT_FEATURES, blank=True,
        help_text=_("Affichée aux visiteurs non connectés. Laissez vide pour le texte par défaut."),
    )
    join_text = RichTextField(
        _("rejoindre le réseau"), features=RICH_TEXT_FEATURES, blank=True,
        help_text=_("Texte du cadre « Rejoindre le réseau » de la page publique."),
    )

    max_count = 1
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["cms.ResourcesIndexPage"]
    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("join_text")]

    class Meta:
        verbose_name = _("page d'accueil")
        verbose_name_plural = _("pages d'accueil")

    def serve(self, request, *args, **kwargs):
        if request.user.is_authenticated and not access.is_member(request.user):
            raise PermissionDenied(_("Votre compte n'a pas accès aux espaces des membres."))
        return super().serve(request, *args, **kwargs)

    def get_template(self, request, *args, **kwargs):
        return "cms/dashboard.html" if access.is_member(request.user) else "cms/landing.html"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        if access.is_member(request.user):
            # The sections of the directory, forum, parrainage and CMS (cms.dashboard), by the directory's registry.
            context.update(dashboard.dashboard_context(request))
        else:
            context["stats"] = directory_selectors.network_stats()
        return context


# --- Resources -----------------------------------------------------------------------------------


class ResourcesIndexPage(PrivateWhenSignedInMixin, Page):
    """`/ressources/`: guides, tools, events and news the reader may see, filtered by theme and type."""

    intro = models.TextField(_("introduction"), blank=True, max_length=1000)

    max_count = 1
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.GuidePage", "cms.ToolLibraryPage", "cms.EventIndexPage", "cms.NewsIndexPage",
                     "cms.WorkingGroupIndexPage"]
    content_panels = [*Page.content_panels, FieldPanel("intro")]

    class Meta:
        verbose_name = _("index des ressources")
        verbose_name_plural = _("index des ressources")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        visibility = visibility_for_request(request)
        section_types = (ToolLibraryPage, EventIndexPage, NewsIndexPage)
        sections = [page for page in visibility.pages(self.get_children()).specific().order_by("path")
                    if isinstance(page, section_types)]
        context.update(selectors.resources_index_context(request.user, request.GET, visibility))
        # The working groups' index is a section too: its listing shows each reader their own spaces.
        spaces = visibility.pages(WorkingGroupIndexPage.objects.child_of(self)).order_by("path").first()
        context["sections"] = sections if spaces is None else [*sections, spaces]
        return context

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        if getattr(response, "context_data", None) and response.context_data.get("invalid"):
            response.status_code = 400
        return response


class ToolLibraryPage(PrivateWhenSignedInMixin, Page):
    """A tool library: the documents of a collection (and its sub-collections), by theme and kind."""

    intro = models.TextField(_("introduction"), blank=True, max_length=1000)
    collection = models.ForeignKey(
        "wagtailcore.Collection", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("collection de documents"),
        help_text=_("Les documents de cette collection et de ses sous-collections sont listés."),
    )

    parent_page_types = ["cms.ResourcesIndexPage"]
    subpage_types: list[str] = []
    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("collection")]

    class Meta:
        verbose_name = _("boîte à outils")
        verbose_name_plural = _("boîtes à outils")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(selectors.tool_library_context(self, request.user, request.GET,
                                                      visibility_for_request(request)))
        return context

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        if getattr(response, "context_data", None) and response.context_data.get("invalid"):
            response.status_code = 400
        return response


# --- Events --------------------------------------------------------------------------------------


class EventIndexPage(PrivateWhenSignedInMixin, Page):
    """The network's agenda: upcoming events first, then the latest past ones."""

    intro = models.TextField(_("introduction"), blank=True, max_length=1000)

    max_count = 1
    parent_page_types = ["cms.ResourcesIndexPage"]
    subpage_types = ["cms.EventPage"]
    content_panels = [*Page.content_panels, FieldPanel("intro")]

    class Meta:
        verbose_name = _("agenda")
        verbose_name_plural = _("agendas")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        visibility = visibility_for_request(request)
        context["upcoming_events"] = selectors.events_for(request.user, upcoming=True, visibility=visibility)
        context["past_events"] = selectors.events_for(request.user, upcoming=False, limit=10, visibility=visibility)
        return context


# --- News ----------------------------------------------------------------------------------------


class NewsIndexPage(PrivateWhenSignedInMixin, Page):
    intro = models.TextField(_("introduction"), blank=True, max_length=1000)

    max_count = 1
    parent_page_types = ["cms.ResourcesIndexPage"]
    subpage_types = ["cms.NewsPage"]
    content_panels = [*Page.content_panels, FieldPanel("intro")]

    class Meta:
        verbose_name = _("index des actualités")
        verbose_name_plural = _("index des actualités")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        news = selectors.news_queryset(request.user, visibility_for_request(request))
        context["news_page"] = selectors.paginate(news, request.GET.get("page"))
        return context


# --- Working groups ------------------------------------------------------------------------------


class WorkingGroupIndexPage(PrivateWhenSignedInMixin, Page):
    """`/ressources/groupes-de-travail/`: the working groups' private spaces the reader may open.

    Created with the spaces by `cms.setup.ensure_working_group_spaces`, never by hand.
    """

    intro = models.TextField(_("introduction"), blank=True, max_length=1000)

    max_count = 1
    is_creatable = False
    parent_page_types = ["cms.ResourcesIndexPage"]
    subpage_types = ["cms.WorkingGroupPage"]
    content_panels = [*Page.content_panels, FieldPanel("intro")]

    class Meta:
        verbose_name = _("index des groupes de travail")
        verbose_name_plural = _("index des groupes de travail")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        spaces = WorkingGroupPage.objects.child_of(self)
        context["spaces"] = selectors_working_groups.spaces_for(spaces, visibility_for_request(request))
        return context
