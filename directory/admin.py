"""Django admin screens of the directory.

Groups are derived from roles and associations (directory.services.sync_groups): they are shown
read-only here, and every save that may change them resyncs the people concerned.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from directory import hooks, membership, services
from directory.models import (
    ApplicationEvent,
    Association,
    CourDAppel,
    InformationRequest,
    Juridiction,
    MembershipApplication,
    OnboardingStep,
    Parrainage,
    Region,
    RoleAssignment,
    Theme,
    User,
    WorkingGroup,
)


class UnitOfWorkAdmin(admin.ModelAdmin):
    """Each change made through these screens is one unit of work (directory.hooks): whatever it
    touches (a region renamed, roles edited inline, an association excluded), the forum, chat, CMS and
    search hear of it once, before the page answers."""

    def changeform_view(self, *args, **kwargs):
        with hooks.unit_of_work():
            return super().changeform_view(*args, **kwargs)

    def delete_view(self, *args, **kwargs):
        with hooks.unit_of_work():
            return super().delete_view(*args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):
        if request.method != "POST":  # actions and list editing
            return super().changelist_view(request, *args, **kwargs)
        with hooks.unit_of_work():
            return super().changelist_view(request, *args, **kwargs)


class StableSlugAdmin(UnitOfWorkAdmin):
    """Regions, working groups and themes are renamed freely; their slug, which chat rooms and search
    audiences use as a key, is set once at creation."""

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "slug") if obj is not None else fields

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None else super().get_prepopulated_fields(request, obj)


@admin.register(Region)
class RegionAdmin(StableSlugAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(CourDAppel)
class CourDAppelAdmin(UnitOfWorkAdmin):
    list_display = ("name", "region")
    list_filter = ("region",)
    list_select_related = ("region",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Juridiction)
class JuridictionAdmin(UnitOfWorkAdmin):
    list_display = ("name", "cour")
    list_filter = ("cour__region", "cour")
    list_select_related = ("cour",)
    search_fields = ("name", "cour__name")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Theme)
class ThemeAdmin(StableSlugAdmin):
    list_display = ("name", "kind")
    list_filter = ("kind",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(WorkingGroup)
class WorkingGroupAdmin(StableSlugAdmin):
    list_display = ("name", "theme")
    list_select_related = ("theme",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Association)
class AssociationAdmin(UnitOfWorkAdmin):
    list_display = ("name", "city", "departement", "region", "size_band", "status", "admitted_on")
    list_filter = ("status", "region", "size_band")
    list_select_related = ("region",)
    search_fields = ("name", "city", "departement", "postal_code")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("size_band",)
    filter_horizontal = ("juridictions", "cours", "themes")
    date_hierarchy = "admitted_on"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Status and region decide the people's member and regional groups.
        if change and {"status", "region"} & set(form.changed_data):
            for person in form.instance.people.all():
                services.sync_groups(person)


class OnboardingStepInline(admin.TabularInline):
    model = OnboardingStep
    fields = ("step", "done_on", "done_by", "recorded_at")
    readonly_fields = ("recorded_at",)
    autocomplete_fields = ("done_by",)
    extra = 0


@admin.register(Parrainage)
class ParrainageAdmin(UnitOfWorkAdmin):
    """Parrainages with the proposal as the commission saw it and the parrain's answer.

    Score, reasons and answer are written by directory.parrainage (the commission's choice, the
    director's answer): shown read-only here.
    """

    list_display = ("parrain", "filleul", "status", "score", "started_on", "responded_at", "created_at")
    list_filter = ("status",)
    list_select_related = ("parrain", "filleul")
    search_fields = ("parrain__name", "filleul__name")
    autocomplete_fields = ("parrain", "filleul")
    inlines = (OnboardingStepInline,)
    fieldsets = (
        (None, {"fields": ("parrain", "filleul", "status", "started_on")}),
        (_("Proposition"), {"fields": ("score", "reasons_in_words", "proposed_by", "created_at")}),
        (_("Réponse du parrain"), {"fields": ("responded_by", "responded_at", "decline_reason")}),
    )
    readonly_fields = ("score", "reasons_in_words", "proposed_by", "created_at", "responded_by", "responded_at",
                       "decline_reason")

    @admin.display(description=_("raisons"))
    def reasons_in_words(self, obj: Parrainage) -> str:
        if not obj.reasons:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((r,) for r in obj.reasons)))


@admin.register(OnboardingStep)
class OnboardingStepAdmin(admin.ModelAdmin):
    list_display = ("parrainage", "step", "done_on", "done_by", "recorded_at")
    list_filter = ("step",)
    list_select_related = ("parrainage__parrain", "parrainage__filleul", "done_by")
    search_fields = ("parrainage__parrain__name", "parrainage__filleul__name")
    autocomplete_fields = ("parrainage", "done_by")
    readonly_fields = ("recorded_at",)
    date_hierarchy = "done_on"


class ApplicationEventInline(admin.TabularInline):
    """The dated log of an application: written by directory.membership only."""

    model = ApplicationEvent
    fields = ("created_at", "kind", "actor", "message")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("journal de la candidature (discussion de la commission comprise)")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class InformationRequestInline(admin.StackedInline):
    """The commission's questions and the candidate's answers: written by directory.membership only."""

    model = InformationRequest
    fields = ("asked_at", "asked_by", "question", "answered_at", "answer", "answer_document")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("asked_by")

    @admin.display(description=_("pièce jointe"))
    def answer_document(self, obj: InformationRequest) -> str:
        if not obj.answer_file:
            return "—"
        # The private files are served only through the commission's permission-checked view.
        url = reverse("parrainage:commission-answer-file",
                      kwargs={"pk": obj.application_id, "request_id": obj.pk})
        return format_html('<a href="{}">{}</a>', url, _("Télécharger la pièce jointe"))


@admin.register(MembershipApplication)
class MembershipApplicationAdmin(admin.ModelAdmin):
    """Membership applications, to look one up or correct a contact; the examination itself (state,
    questions, decision) happens on the commission's pages, which log every step."""

    list_display = ("name", "siret", "city", "region", "status", "submitted_at", "decided_at")
    list_filter = ("status", "region")
    list_select_related = ("region",)
    search_fields = ("name", "siret", "city", "contact_email")
    date_hierarchy = "submitted_at"
    autocomplete_fields = ("juridictions",)
    filter_horizontal = ("themes",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = (InformationRequestInline, ApplicationEventInline)
    fieldsets = (
        (_("Suivi"), {
            "fields": ("status", "commission_page", "token_hash", "created_at", "updated_at", "submitted_at"),
            "description": _("Le statut et la décision changent depuis la page de la commission, qui les "
                             "enregistre dans le journal."),
        }),
        (_("Association"), {"fields": ("name", "siret", "address", "postal_code", "city", "departement", "region",
                                       "juridictions", "themes", "staff_count", "website")}),
        (_("Contacts"), {"fields": ("contact_email", "president_first_name", "president_last_name",
                                    "president_email", "president_phone", "director_first_name",
                                    "director_last_name", "director_email", "director_phone")}),
        (_("Dossier"), {"fields": ("motivation", "documents")}),
        (_("Décision"), {"fields": ("decided_at", "decided_by", "decision_reason", "association")}),
    )
    readonly_fields = ("status", "commission_page", "token_hash", "created_at", "updated_at", "submitted_at",
                       "documents", "decided_at", "decided_by", "decision_reason", "association")

    def has_add_permission(self, request) -> bool:
        # An application starts on the public form, which issues the candidate's private link.
        return False

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # A SIRET is often typed with spaces (732 829 320 00074).
        siret = membership.normalize_siret(search_term)
        if siret.isdigit() and siret != search_term.strip():
            results |= queryset.filter(siret__contains=siret)
        return results, may_have_duplicates

    @admin.display(description=_("page de la commission"))
    def commission_page(self, obj: MembershipApplication) -> str:
        if obj.pk is None or obj.status == MembershipApplication.Status.DRAFT:
            return _("Brouillon : la commission le voit une fois déposé.")
        url = reverse("parrainage:commission-application", kwargs={"pk": obj.pk})
        return format_html('<a href="{}">{}</a>', url, _("Ouvrir le dossier sur la page de la commission"))

    @admin.display(description=_("documents"))
    def documents(self, obj: MembershipApplication) -> str:
        rows = []
        for kind, field in (("statuts", "statutes"), ("rapport", "activity_report")):
            label = MembershipApplication._meta.get_field(field).verbose_name
            if not getattr(obj, field):
                rows.append((label, _("non fourni"), ""))
            elif obj.status == MembershipApplication.Status.DRAFT:
                rows.append((label, _("fourni"), ""))
            else:
                url = reverse("parrainage:commission-document", kwargs={"pk": obj.pk, "kind": kind})
                rows.append((label, _("télécharger"), url))
        return format_html("<ul>{}</ul>", format_html_join(
            "", "<li>{} : {}</li>",
            ((label, format_html('<a href="{}">{}</a>', url, text) if url else text) for label, text, url in rows),
        ))


class RoleAssignmentInlineForm(forms.ModelForm):
    class Meta:
        model = RoleAssignment
        fields = ("role", "region", "theme", "working_group")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") and not cleaned.get("DELETE"):
            spec = services.RoleSpec(
                role=cleaned["role"],
                region=cleaned.get("region"),
                theme=cleaned.get("theme"),
                working_group=cleaned.get("working_group"),
            )
            try:
                services.check_role_spec(spec)
            except services.DirectoryError as error:
                raise ValidationError(str(error)) from error
        return cleaned


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    form = RoleAssignmentInlineForm
    extra = 1
    verbose_name = _("rôle")
    verbose_name_plural = _("rôles (les groupes en découlent)")


@admin.register(User)
class PersonAdmin(UnitOfWorkAdmin, UserAdmin):
    """People of the network; their groups follow their roles and association."""

    inlines = (RoleAssignmentInline,)
    list_display = ("username", "first_name", "last_name", "association", "job_title", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "is_superuser", "association__status", "role_assignments__role")
    list_select_related = ("association",)
    search_fields = ("username", "first_name", "last_name", "email", "association__name")
    autocomplete_fields = ("association",)
    filter_horizontal = ("user_permissions", "expertise")
    readonly_fields = ("groups", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("Identité et contact"),
            {"fields": ("first_name", "last_name", "email", "phone", "contact_visible_to_members")},
        ),
        (_("Dans le réseau"), {"fields": ("association", "job_title", "bio", "expertise")}),
        (
            _("Droits"),
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "description": _(
                    "Les groupes découlent des rôles et de l'association : modifiez les rôles ci-dessous."
                ),
            },
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        (_("Dans le réseau"), {"fields": ("first_name", "last_name", "email", "association", "job_title")}),
    )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.sync_groups(form.instance)


# --- Network import and invitations (issue 14): screens added to the admins above ----------------------
from directory import admin_network  # noqa: E402

admin_network.install(admin.site)
