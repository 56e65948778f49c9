"""Chat rooms, their members and messages.

Who belongs to a room is decided by directory.access; `ChatMembership` materialises it (one row per
person and room, carrying the read marker and the e-mail notice marker) so that room lists and
unread counts are single queries. Rows of shared rooms are re-synced by chat.memberships whenever a
person's access changes; rows of direct and ad-hoc rooms are the chosen participants.

Messages are never reordered: `seq` numbers them 1, 2, 3… inside their room, allocated under the
room's row lock, so ids and sequence numbers grow in commit order within a room and a client can
tell whether it missed one (chat/PROTOCOL.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from directory.access import ChatRoomKind
from moderation.models import ModerationEntry


class ChatRoom(models.Model):
    class Kind(models.TextChoices):
        REGION = ChatRoomKind.REGION, _("Région")
        WORKING_GROUP = ChatRoomKind.WORKING_GROUP, _("Groupe de travail")
        THEME = ChatRoomKind.THEME, _("Thématique")
        DIRECT = ChatRoomKind.DIRECT, _("Message privé")
        ADHOC = ChatRoomKind.ADHOC, _("Salon ponctuel")

    kind = models.CharField(_("nature"), max_length=20, choices=Kind.choices, db_index=True)
    name = models.CharField(_("nom"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    # Shared rooms: directory.access.chat_room_key(); direct messages: "direct:<small id>-<large id>";
    # ad-hoc rooms: none.
    key = models.CharField(_("clé"), max_length=200, unique=True, null=True, blank=True, editable=False)
    region = models.ForeignKey(
        "directory.Region", on_delete=models.CASCADE, null=True, blank=True, related_name="chat_rooms",
        verbose_name=_("région"),
    )
    working_group = models.ForeignKey(
        "directory.WorkingGroup", on_delete=models.CASCADE, null=True, blank=True, related_name="chat_rooms",
        verbose_name=_("groupe de travail"),
    )
    theme = models.ForeignKey(
        "directory.Theme", on_delete=models.CASCADE, null=True, blank=True, related_name="chat_rooms",
        verbose_name=_("thématique"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("créé par"),
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    # Last sequence number given to a message of this room (see the module docstring).
    last_seq = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("salon de discussion")
        verbose_name_plural = _("salons de discussion")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("chat:room-detail", kwargs={"pk": self.pk})

    @property
    def ws_path(self) -> str:
        return f"/ws/discussions/{self.pk}/"

    @property
    def is_shared(self) -> bool:
        return self.kind in (self.Kind.REGION, self.Kind.WORKING_GROUP, self.Kind.THEME)


class ChatMembership(models.Model):
    room = models.ForeignKey(ChatRoom, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_memberships")
    # Messages up to this id are read (0: none). Only grows.
    last_read_id = models.BigIntegerField(default=0)
    # Direct messages up to this id were e-mailed (or deliberately not: notification choice "never").
    notified_up_to_id = models.BigIntegerField(default=0)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("participation à un salon")
        verbose_name_plural = _("participations aux salons")
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="chat_one_membership_per_room")]
        indexes = [models.Index(fields=["user", "room"], name="chat_membership_user_room")]

    def __str__(self) -> str:
        return f"{self.user} · {self.room}"


class ChatMessage(models.Model):
    room = models.ForeignKey(ChatRoom, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="chat_messages",
        verbose_name=_("auteur·rice"),
    )
    # Chosen by the sending client: a retried send with the same id returns the first message.
    client_id = models.CharField(_("identifiant client"), max_length=64)
    seq = models.BigIntegerField(_("numéro dans le salon"))
    # The raw text as typed; rendered with core.markup.render (kind PLAIN) for display.
    body = models.TextField(_("texte"))
    created_at = models.DateTimeField(_("envoyé le"), auto_now_add=True)
    edited_at = models.DateTimeField(_("modifié le"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("supprimé le"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("supprimé par"),
    )
    moderated = models.BooleanField(_("supprimé par la modération"), default=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("message de discussion")
        verbose_name_plural = _("messages de discussion")
        constraints = [
            models.UniqueConstraint(fields=["room", "author", "client_id"], name="chat_message_client_id_once"),
            models.UniqueConstraint(fields=["room", "seq"], name="chat_message_seq_once"),
        ]
        indexes = [models.Index(fields=["room", "id"], name="chat_message_room_id")]

    def __str__(self) -> str:
        return f"{self.room} #{self.seq}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class ChatModerationLogManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(action=ModerationEntry.Action.DELETE_CHAT_MESSAGE)


class ChatModerationLog(ModerationEntry):
    """The chat's part of the moderation log (moderation.models): every deletion of someone else's
    message by federal staff, with its reason and the original text. Shown in the chat's admin."""

    objects = ChatModerationLogManager()

    class Meta:
        proxy = True
        verbose_name = _("journal de modération des discussions")
        verbose_name_plural = _("journal de modération des discussions")


class ChatNotice(models.Model):
    """An e-mail sent about unread direct messages (one per batch, or one daily summary)."""

    class Kind(models.TextChoices):
        IMMEDIATE = "immediate", _("Message privé non lu")
        DAILY = "daily", _("Résumé quotidien")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_notices")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    messages = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("avis de message privé")
        verbose_name_plural = _("avis de messages privés")
        indexes = [models.Index(fields=["user", "kind", "sent_at"], name="chat_notice_user_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.user} · {self.sent_at:%Y-%m-%d %H:%M}"


def direct_room_key(first_user_id: int, second_user_id: int) -> str:
    low, high = sorted((first_user_id, second_user_id))
    return f"direct:{low}-{high}"


# Rooms whose membership follows the directory (the rest have chosen participants).
SHARED_KINDS_Q = Q(kind__in=[ChatRoom.Kind.REGION, ChatRoom.Kind.WORKING_GROUP, ChatRoom.Kind.THEME])
