from django.contrib import admin

from moderation.models import ModerationEntry


@admin.register(ModerationEntry)
class ModerationEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is written by the forum's moderation (forum/moderation.py) and the chat's
    message deletion (chat/messages.py) only."""

    list_display = ["created_at", "action", "actor", "target_author", "reason"]
    list_filter = ["action", "place_type"]
    list_select_related = ["actor", "target_author"]
    readonly_fields = ["actor", "action", "place_type", "place_id", "target_type", "target_id", "topic_id_ref",
                       "target_author", "snapshot", "detail", "reason", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
