"""The outbox in /admin/, read only: what left, what waits, and what was given up and why."""

from django.contrib import admin

from core.outbox.models import Attachment, Email


class AttachmentInline(admin.TabularInline):
    model = Attachment
    fields = ("filename", "mimetype")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
    list_display = ("subject", "to_address", "kind", "category", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "category", "kind")
    search_fields = ("to_address", "subject", "kind")
    date_hierarchy = "created_at"
    list_select_related = ("recipient",)
    inlines = [AttachmentInline]
    fields = ("recipient", "to_address", "subject", "category", "kind", "dedupe_key", "status", "attempts",
              "last_error", "created_at", "next_attempt_at", "sent_at", "text_body", "html_body")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
