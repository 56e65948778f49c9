"""Django admin screens of the membership applications: to look one up or correct a contact.

The examination itself (state, questions, decision) happens on the commission's pages.
"""

from django.contrib import admin
from django.db import models
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from directory.siret import normalize_siret
from membership.models import ApplicationEvent, InformationRequest, MembershipApplication


class ApplicationEventInline(admin.TabularInline):
    """The dated log of an application: written by membership.services only."""

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
    """The commission's questions and the candidate's answers: written by membership.services only."""

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
        siret = normalize_siret(search_term)
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
