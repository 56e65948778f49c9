from django.contrib import admin

from chat.models import ChatMessage, ChatModerationLog, ChatRoom


@admin.register(ChatRoom)
class ChatRoomAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name"]
    readonly_fields = ["kind", "key", "region", "working_group", "theme", "created_by", "created_at", "last_seq"]


@admin.register(ChatModerationLog)
class ChatModerationLogAdmin(admin.ModelAdmin):
    """Read-only: the log is written by chat.services.delete_message only."""

    list_display = ["created_at", "room", "moderator", "author", "reason"]
    list_filter = ["room__kind"]
    readonly_fields = ["room", "message", "moderator", "author", "action", "reason", "original_body", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    """Read-only listing for support; edits and deletions go through the site (they are broadcast)."""

    list_display = ["created_at", "room", "author", "seq", "deleted_at"]
    list_filter = ["room__kind"]
    list_select_related = ["room", "author"]
    readonly_fields = [f.name for f in ChatMessage._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
