from django.contrib import admin

from chat.models import ChatMembership, ChatMessage, ChatModerationLog, ChatRoom
from directory import access


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

    def get_fields(self, request, obj=None):
        # Permission audit (issue 8): this page showed every message's text to whoever may view
        # messages here, superusers included, although direct messages stay between their two
        # participants and an ad-hoc room's among its chosen people (access.can_join_chat_room). The
        # text shows only to those who may open the room; support still sees the rest of the row.
        fields = super().get_fields(request, obj)
        if obj is not None and not _may_open_room(request.user, obj.room):
            fields = [name for name in fields if name != "body"]
        return fields


def _may_open_room(user, room: ChatRoom) -> bool:
    is_participant = ChatMembership.objects.filter(room=room, user=user).exists()
    return access.can_join_chat_room(user, kind=room.kind, key=room.key, is_participant=is_participant)
