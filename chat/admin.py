from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from chat.models import ChatMembership, ChatMessage, ChatModerationLog, ChatRoom
from directory import access


@admin.register(ChatRoom)
class ChatRoomAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name"]
    readonly_fields = ["kind", "key", "region", "working_group", "theme", "created_by", "created_at", "last_seq"]


class RoomKindFilter(admin.SimpleListFilter):
    title = _("nature")
    parameter_name = "room_kind"

    def lookups(self, request, model_admin):
        return ChatRoom._meta.get_field("kind").choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(place_id__in=ChatRoom.objects.filter(kind=self.value()).values("pk"))
        return queryset


@admin.register(ChatModerationLog)
class ChatModerationLogAdmin(admin.ModelAdmin):
    """Read-only: the chat's entries of the moderation log, written by chat.messages.delete_message only."""

    list_display = ["created_at", "room", "actor_name", "author_name", "reason"]
    list_filter = [RoomKindFilter]
    list_select_related = ["actor", "target_author"]
    fields = readonly_fields = ["room", "message", "actor_name", "author_name", "action", "reason",
                                "original_body", "created_at"]

    def get_queryset(self, request):
        rooms = ChatRoom.objects.filter(pk=OuterRef("place_id"))
        return super().get_queryset(request).annotate(room_name=Subquery(rooms.values("name")[:1]))

    @admin.display(description=_("salon"))
    def room(self, entry):
        return entry.room_name

    @admin.display(description=_("message"))
    def message(self, entry):
        return entry.target_id

    @admin.display(description=_("texte d'origine"))
    def original_body(self, entry):
        return entry.snapshot

    @admin.display(description=_("modérateur·rice"))
    def actor_name(self, entry):
        return entry.actor

    @admin.display(description=_("auteur·rice du message"))
    def author_name(self, entry):
        return entry.target_author

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
