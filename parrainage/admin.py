"""Django admin screens of the parrainages and their onboarding steps."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from directory.admin import UnitOfWorkAdmin
from parrainage.models import OnboardingStep, Parrainage


class OnboardingStepInline(admin.TabularInline):
    model = OnboardingStep
    fields = ("step", "done_on", "done_by", "recorded_at")
    readonly_fields = ("recorded_at",)
    autocomplete_fields = ("done_by",)
    extra = 0


@admin.register(Parrainage)
class ParrainageAdmin(UnitOfWorkAdmin):
    """Parrainages with the proposal as the commission saw it and the parrain's answer.

    Score, reasons and answer are written by parrainage.services (the commission's choice, the
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
