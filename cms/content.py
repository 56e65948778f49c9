"""What the editors write: documents, guides, events, news, the working groups' spaces; and the review task.

Tree (parent_page_types / subpage_types): see cms.models, which adds the pages that list these
(home, resources index, tool library, agenda, news index, working groups' index) and is the app's
models module. These pages own only their own logic: the reads they call (cms.bodies,
cms.selectors_events, cms.selectors_working_groups) and the services (cms.services) import no page,
so that the listings (cms.selectors) can read these pages without an import cycle.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.documents.models import AbstractDocument
from wagtail.fields import StreamField
from wagtail.models import AbstractGroupApprovalTask, Page
from wagtail.search import index

from cms import selectors_events, selectors_working_groups, services
from cms.blocks import BodyStreamBlock
from cms.bodies import body_context
from cms.registrations import EventRegistration
from cms.visibility import visibility_for_request
from core import links
from directory import access
from directory.access import CmsAudience

# --- Documents -----------------------------------------------------------------------------------


class PasserellesDocument(AbstractDocument):
    """A document of the tool library: its kind and themes let members find it.

    Documents are private: they live in collections restricted by group (cms.setup) and are served
    only by Wagtail's permission-checked view (WAGTAILDOCS_SERVE_METHOD = "serve_view").
    """

    class Kind(models.TextChoices):
        GUIDE = "guide", _("Guide")
        TRAME = "trame", _("Trame")
        MODELE = "modele", _("Modèle")
        CHARTE = "charte", _("Charte")
        FICHE = "fiche", _("Fiche technique")
        AUTRE = "autre", _("Autre document")

    kind = models.CharField(_("nature"), max_length=10, choices=Kind.choices, default=Kind.AUTRE)
    description = models.TextField(_("description"), blank=True, max_length=1000)
    themes = models.ManyToManyField("directory.Theme", blank=True, related_name="documents",
                                    verbose_name=_("thématiques"))

    admin_form_fields = ("title", "file", "collection", "kind", "description", "themes", "tags")

    def clean(self):
        # Wagtail checks the file's extension here. A file the form refused (too large: see
        # cms/forms_documents.py) never reaches the instance: its own error is enough, without a second
        # one about the extension of an empty file.
        if self.file:
            super().clean()

    class Meta(AbstractDocument.Meta):
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        permissions = [("choose_document", "Can choose document")]


# --- Shared page behaviour ---------------------------------------------------------------------


class PrivateWhenSignedInMixin:
    """What a signed-in person sees is theirs: never kept by a shared cache.

    Wagtail already marks pages under a view restriction "never cache"; this covers the member
    dashboard and any page whose content depends on the reader.
    """

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        if request.user.is_authenticated:
            add_never_cache_headers(response)
        patch_vary_headers(response, ("Cookie",))
        return response


class BodyContextMixin:
    """Context shared by pages with a StreamField `body`: anchors, table of contents, and which
    documents and forum topics of the body the reader may see (computed once, constant queries)."""

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(body_context(self.body, request.user, visibility_for_request(request)))
        return context


def themes_panel():
    return FieldPanel("themes", widget=forms.CheckboxSelectMultiple)


class GuidePage(PrivateWhenSignedInMixin, BodyContextMixin, Page):
    """A guide of the network (fonctions support, financement, CA…): structured, themed, printable."""

    summary = models.TextField(_("résumé"), max_length=600,
                               help_text=_("Deux ou trois phrases, affichées dans les listes."))
    body = StreamField(BodyStreamBlock(), verbose_name=_("contenu"))
    themes = ParentalManyToManyField("directory.Theme", blank=True, related_name="guide_pages",
                                     verbose_name=_("thématiques"))
    content_updated_on = models.DateField(
        _("dernière mise à jour du contenu"), null=True, blank=True,
        help_text=_("Laissez vide pour afficher la date de la dernière publication."),
    )

    # A working group's own guides (minutes, drafts) live under its private page.
    parent_page_types = ["cms.ResourcesIndexPage", "cms.WorkingGroupPage"]
    subpage_types: list[str] = []
    content_panels = [*Page.content_panels, FieldPanel("summary"), FieldPanel("body"), themes_panel(),
                      FieldPanel("content_updated_on")]
    search_fields = [*Page.search_fields, index.SearchField("summary"), index.SearchField("body")]

    class Meta:
        verbose_name = _("guide")
        verbose_name_plural = _("guides")

    @property
    def updated_on(self):
        if self.content_updated_on:
            return self.content_updated_on
        moment = self.last_published_at or self.latest_revision_created_at
        return timezone.localdate(moment) if moment else None


# --- Events --------------------------------------------------------------------------------------


AUDIENCE_CHOICES = [
    (CmsAudience.MEMBERS, _("Tous les membres du réseau")),
    (CmsAudience.PRESIDENTS, _("Président·es")),
    (CmsAudience.DIRECTORS, _("Directeurs et directrices")),
    (CmsAudience.BOARD, _("Conseil d'administration")),
    (CmsAudience.CORRESPONDENTS, _("DICA et correspondant·es interrégionaux")),
    (CmsAudience.REGION, _("Membres d'une région")),
]


class EventPage(PrivateWhenSignedInMixin, BodyContextMixin, RoutablePageMixin, Page):
    """A journée thématique, a réunion régionale…: when, where, for whom, registration, ICS."""

    class Kind(models.TextChoices):
        THEMATIC_DAY = "thematic_day", _("Journée thématique")
        REGIONAL_MEETING = "regional_meeting", _("Réunion régionale")
        TRAINING = "training", _("Formation")
        OTHER = "other", _("Autre rendez-vous")

    kind = models.CharField(_("nature"), max_length=20, choices=Kind.choices, default=Kind.THEMATIC_DAY)
    starts_at = models.DateTimeField(_("début"))
    ends_at = models.DateTimeField(_("fin"))
    place = models.CharField(_("lieu"), max_length=250, blank=True,
                             help_text=_("Adresse du lieu ; laissez vide pour une rencontre en visio seulement."))
    video_link = models.URLField(_("lien de visioconférence"), blank=True)
    audience = models.CharField(_("public"), max_length=20, choices=AUDIENCE_CHOICES, default=CmsAudience.MEMBERS,
                                help_text=_("Qui peut s'inscrire ; tous les membres voient l'événement."))
    region = models.ForeignKey("directory.Region", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="event_pages", verbose_name=_("région"))
    capacity = models.PositiveIntegerField(
        _("nombre de places"), null=True, blank=True,
        help_text=_("Laissez vide pour un nombre de places illimité. Au-delà, les inscriptions vont en liste "
                    "d'attente."),
    )
    registration_open = models.BooleanField(_("inscriptions ouvertes"), default=True)
    summary = models.TextField(_("résumé"), max_length=600)
    body = StreamField(BodyStreamBlock(), blank=True, verbose_name=_("programme et informations"))
    themes = ParentalManyToManyField("directory.Theme", blank=True, related_name="event_pages",
                                     verbose_name=_("thématiques"))

    parent_page_types = ["cms.EventIndexPage"]
    subpage_types: list[str] = []
    content_panels = [
        *Page.content_panels,
        FieldPanel("kind"),
        MultiFieldPanel([FieldRowPanel([FieldPanel("starts_at"), FieldPanel("ends_at")]),
                         FieldPanel("place"), FieldPanel("video_link")], heading=_("Date et lieu")),
        MultiFieldPanel([FieldPanel("audience"), FieldPanel("region"), FieldPanel("capacity"),
                         FieldPanel("registration_open")], heading=_("Public et inscriptions")),
        FieldPanel("summary"),
        FieldPanel("body"),
        themes_panel(),
    ]
    search_fields = [*Page.search_fields, index.SearchField("summary"), index.SearchField("body")]

    class Meta:
        verbose_name = _("événement")
        verbose_name_plural = _("événements")

    def clean(self):
        super().clean()
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("La fin doit suivre le début.")
        if not self.place and not self.video_link:
            errors["place"] = _("Indiquez un lieu, un lien de visioconférence, ou les deux.")
        if self.audience == CmsAudience.REGION and not self.region_id:
            errors["region"] = _("Choisissez la région des membres invités.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_online(self) -> bool:
        return bool(self.video_link)

    def audience_groups(self) -> frozenset[str]:
        """The group keys that may register (directory.access); a regional event whose region was deleted
        is left to federal staff until an editor chooses another region."""
        if self.audience == CmsAudience.REGION and not self.region_id:
            return access.cms_audience_groups(CmsAudience.STAFF)
        return access.cms_audience_groups(self.audience, region_id=self.region_id)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["event_status"] = selectors_events.event_status(self, request.user, visibility_for_request(request))
        return context

    @path("inscription/", name="register")
    def register_route(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            registration = services.register_for_event(self, request.user)
        except services.CmsError as error:
            messages.error(request, str(error))
        else:
            if registration.status == EventRegistration.Status.CONFIRMED:
                messages.success(request, _("Votre inscription est confirmée."))
            else:
                messages.info(request, _("L'événement est complet : vous êtes inscrit·e sur la liste d'attente."))
        return redirect(self.url)

    @path("desinscription/", name="cancel")
    def cancel_route(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            services.cancel_registration(self, request.user)
        except services.CmsError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Votre inscription est annulée."))
        return redirect(self.url)

    @path("calendrier/", name="ics")
    def ics_route(self, request):
        response = HttpResponse(selectors_events.event_ics(self, base_url=links.site_url()),
                                content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.slug}.ics"'
        return response


# --- News ----------------------------------------------------------------------------------------


class NewsPage(PrivateWhenSignedInMixin, BodyContextMixin, Page):
    date = models.DateField(_("date"), default=timezone.localdate)
    summary = models.TextField(_("chapeau"), max_length=600)
    body = StreamField(BodyStreamBlock(), blank=True, verbose_name=_("contenu"))
    themes = ParentalManyToManyField("directory.Theme", blank=True, related_name="news_pages",
                                     verbose_name=_("thématiques"))

    parent_page_types = ["cms.NewsIndexPage"]
    subpage_types: list[str] = []
    content_panels = [*Page.content_panels, FieldPanel("date"), FieldPanel("summary"), FieldPanel("body"),
                      themes_panel()]
    search_fields = [*Page.search_fields, index.SearchField("summary"), index.SearchField("body")]

    class Meta:
        verbose_name = _("actualité")
        verbose_name_plural = _("actualités")


# --- Working groups ------------------------------------------------------------------------------


class WorkingGroupPage(PrivateWhenSignedInMixin, BodyContextMixin, Page):
    """A working group's private space: its description, members, forum, room and pages.

    One per working group, created, retitled and restricted (to the group's members and federal staff)
    by `cms.setup.ensure_working_group_spaces` as soon as the group exists. When the group is deleted
    the page stays, with its content, for federal staff only (`working_group` becomes empty).
    """

    working_group = models.OneToOneField(
        "directory.WorkingGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="cms_page",
        verbose_name=_("groupe de travail"),
    )
    intro = models.TextField(
        _("introduction"), blank=True, max_length=1000,
        help_text=_("Quelques phrases affichées sous la description du groupe de travail."),
    )
    body = StreamField(BodyStreamBlock(), blank=True, verbose_name=_("contenu"))

    is_creatable = False
    parent_page_types = ["cms.WorkingGroupIndexPage"]
    subpage_types = ["cms.GuidePage"]
    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]

    class Meta:
        verbose_name = _("espace d'un groupe de travail")
        verbose_name_plural = _("espaces des groupes de travail")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(selectors_working_groups.space_context(self, request.user, visibility_for_request(request)))
        return context


# --- Workflow ------------------------------------------------------------------------------------


class PeerReviewTask(AbstractGroupApprovalTask):
    """"Relu" step of "brouillon → relu → publié": a member of the groups approves, never the author.

    The person who submitted the page, or who wrote the revision under review, gets no approve
    action: a second staff member has to read it (issue 4).
    """

    class Meta:
        verbose_name = _("relecture par un·e autre membre de l'équipe")
        verbose_name_plural = _("relectures par un·e autre membre de l'équipe")

    @classmethod
    def get_description(cls):
        return _("Un membre des groupes choisis, autre que l'auteur·rice de la modification, approuve la "
                 "publication.")

    def is_author(self, obj, user) -> bool:
        state = getattr(obj, "current_workflow_state", None)
        if state is None or user is None:
            return False
        if state.requested_by_id == user.pk:
            return True
        task_state = state.current_task_state
        revision = task_state.revision if task_state is not None else None
        return revision is not None and revision.user_id == user.pk

    def get_actions(self, obj, user):
        if self.is_author(obj, user):
            return []
        return super().get_actions(obj, user)

    def get_task_states_user_can_moderate(self, user, **kwargs):
        # The admin's "awaiting your review" list leaves out the person's own submissions.
        return super().get_task_states_user_can_moderate(user, **kwargs).exclude(workflow_state__requested_by=user)

    def on_action(self, task_state, user, action_name, **kwargs):
        if action_name == "approve" and self.is_author(task_state.workflow_state.content_object, user):
            raise PermissionDenied(_("Une autre personne de l'équipe doit relire cette modification."))
        return super().on_action(task_state, user, action_name, **kwargs)
