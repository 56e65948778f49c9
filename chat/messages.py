"""Messages: posting (idempotent by client id, rate-limited), editing, deleting (moderation is logged
in the moderation app), reading history. Broadcasting is the caller's next step, or the
`*_and_broadcast` variants' after commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from chat import protocol
from chat.broadcasts import broadcast_on_commit
from chat.errors import ChatError
from chat.models import ChatMessage, ChatRoom
from core import ratelimit
from directory import access
from moderation.models import ModerationEntry

logger = logging.getLogger(__name__)


# --- messages --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    frame: dict
    created: bool  # False: a retry of a message already saved (the frame is the original)


def _clean_text(value: Any, *, empty_code: str = protocol.EMPTY_MESSAGE) -> str:
    if not isinstance(value, str):
        raise ChatError(protocol.INVALID_FRAME, _("Le message doit être du texte."))
    # NUL cannot be stored (PostgreSQL) and has no meaning in a chat message.
    text = value.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ChatError(protocol.INVALID_TEXT, _("Le message contient des caractères invalides.")) from error
    if not text.strip():
        raise ChatError(empty_code, _("Le message est vide."))
    limit = settings.CHAT_MAX_MESSAGE_LENGTH
    if len(text) > limit:
        raise ChatError(
            protocol.MESSAGE_TOO_LONG,
            ngettext("Le message dépasse la limite de %(limit)d caractère.",
                     "Le message dépasse la limite de %(limit)d caractères.", limit) % {"limit": limit},
            max_length=limit,
        )
    return text


def _clean_client_id(value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > protocol.CLIENT_ID_MAX_LENGTH \
            or not value.isprintable():
        raise ChatError(
            protocol.INVALID_CLIENT_ID,
            _("Identifiant de message invalide (texte de 1 à %(max)d caractères).")
            % {"max": protocol.CLIENT_ID_MAX_LENGTH},
        )
    return value


def check_rate_limit(user_id: int) -> None:
    """At most CHAT_RATE_LIMIT messages per CHAT_RATE_LIMIT_SECONDS per person (core.ratelimit).

    Counters live in the cache (Redis in production), so the limit holds across connections and
    server processes. Refused attempts are not counted.
    """
    verdict = ratelimit.attempt(ratelimit.Rate.configured("chat", "CHAT"), str(user_id))
    if not verdict.allowed:
        raise ChatError(
            protocol.RATE_LIMITED,
            ngettext(
                "Vous envoyez trop de messages : attendez %(seconds)d seconde avant de réessayer.",
                "Vous envoyez trop de messages : attendez %(seconds)d secondes avant de réessayer.",
                verdict.retry_after,
            ) % {"seconds": verdict.retry_after},
            retry_after=verdict.retry_after,
        )


def _next_seq(room_id: int) -> int:
    # UPDATE … RETURNING takes the room's row lock until commit: messages of one room are numbered,
    # and get their ids, in commit order (PostgreSQL; SQLite serialises writers anyway).
    table = connection.ops.quote_name(ChatRoom._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET last_seq = last_seq + 1 WHERE id = %s RETURNING last_seq", [room_id])
        row = cursor.fetchone()
    if row is None:
        raise ChatError(protocol.NOT_FOUND, _("Ce salon n'existe plus."))
    return row[0]


def post_message(user, room_id: int, client_id: Any, body: Any, *, enforce_rate_limit: bool = True) -> Posted:
    """Save a message, once per (author, room, client_id), and return its `message` frame.

    Precondition: the caller checked access (check_access at connect, or the view). A retry with a
    known client_id returns the saved message, unchanged and without counting against the rate
    limit. The message is committed when this returns; broadcasting is the caller's next step.
    `enforce_rate_limit=False` is for the demo data only.
    """
    client_id = _clean_client_id(client_id)
    existing = ChatMessage.objects.filter(room_id=room_id, author=user, client_id=client_id).first()
    if existing is not None:
        return Posted(protocol.message_frame(existing, author=user), created=False)
    body = _clean_text(body)
    if enforce_rate_limit:
        check_rate_limit(user.pk)
    try:
        with transaction.atomic():
            message = ChatMessage.objects.create(
                room_id=room_id, author=user, client_id=client_id, body=body, seq=_next_seq(room_id)
            )
    except IntegrityError:
        # The same client_id raced in from another connection: the first one won.
        existing = ChatMessage.objects.filter(room_id=room_id, author=user, client_id=client_id).first()
        if existing is None:
            raise
        return Posted(protocol.message_frame(existing, author=user), created=False)
    return Posted(protocol.message_frame(message, author=user), created=True)


def post_message_and_broadcast(user, room_id: int, client_id: Any, body: Any) -> Posted:
    """The HTTP path: save, then broadcast after commit (a retried form post broadcasts nothing)."""
    posted = post_message(user, room_id, client_id, body)
    if posted.created:
        broadcast_on_commit(room_id, posted.frame)
    return posted


def _own_message(user, room_id: int, message_id: Any) -> ChatMessage:
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise ChatError(protocol.INVALID_FRAME, _("Identifiant de message invalide."))
    message = ChatMessage.objects.select_related("author", "room").filter(room_id=room_id, pk=message_id).first()
    if message is None:
        raise ChatError(protocol.NOT_FOUND, _("Ce message n'existe pas dans ce salon."), id=message_id)
    if message.deleted_at is not None:
        raise ChatError(protocol.ALREADY_DELETED, _("Ce message a été supprimé."), id=message_id)
    return message


@transaction.atomic
def edit_message(user, room_id: int, message_id: Any, body: Any) -> dict:
    """Replace the text of one's own message; returns the `edit` frame to broadcast."""
    message = _own_message(user, room_id, message_id)
    if message.author_id != user.pk:
        raise ChatError(protocol.FORBIDDEN, _("Vous ne pouvez modifier que vos propres messages."), id=message_id)
    message.body = _clean_text(body)
    message.edited_at = timezone.now()
    message.save(update_fields=["body", "edited_at"])
    return protocol.edit_frame(message)


@transaction.atomic
def delete_message(user, room_id: int, message_id: Any, reason: Any = "") -> dict:
    """Delete one's own message, or (federal staff, outside direct messages) someone else's with a
    reason, kept with the original text in the moderation log (moderation.models). Returns the
    `delete` frame."""
    message = _own_message(user, room_id, message_id)
    moderated = message.author_id != user.pk
    if moderated:
        if not access.can_moderate_chat_room(user, kind=message.room.kind):
            raise ChatError(protocol.FORBIDDEN, _("Vous ne pouvez supprimer que vos propres messages."),
                            id=message_id)
        reason = reason.strip() if isinstance(reason, str) else ""
        if not reason:
            raise ChatError(protocol.REASON_REQUIRED,
                            _("Indiquez le motif de la suppression : il est consigné dans le journal de modération."),
                            id=message_id)
        ModerationEntry.objects.create(
            actor=user, action=ModerationEntry.Action.DELETE_CHAT_MESSAGE,
            place_type=ContentType.objects.get_for_model(ChatRoom), place_id=room_id,
            target_type=ContentType.objects.get_for_model(ChatMessage), target_id=message.pk,
            target_author_id=message.author_id, snapshot=message.body,
            reason=reason[:protocol.MODERATION_REASON_MAX_LENGTH],
        )
        logger.info("Message %s du salon %s supprimé par %s : %s", message.pk, room_id, user.pk, reason)
    message.body = ""
    message.deleted_at = timezone.now()
    message.deleted_by = user
    message.moderated = moderated
    message.save(update_fields=["body", "deleted_at", "deleted_by", "moderated"])
    return protocol.delete_frame(message)


def edit_message_and_broadcast(user, room_id: int, message_id: Any, body: Any) -> dict:
    frame = edit_message(user, room_id, message_id, body)
    broadcast_on_commit(room_id, frame)
    return frame


def delete_message_and_broadcast(user, room_id: int, message_id: Any, reason: Any = "") -> dict:
    frame = delete_message(user, room_id, message_id, reason)
    broadcast_on_commit(room_id, frame)
    return frame


def messages_after(room_id: int, after: Any, *, limit: int | None = None) -> tuple[list[dict], bool]:
    """`message` frames of the room with id > after, oldest first, at most `limit`; and whether
    that was all of them."""
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise ChatError(protocol.INVALID_FRAME, _("« after » doit être un identifiant de message (entier ≥ 0)."))
    limit = limit or settings.CHAT_RESUME_LIMIT
    rows = list(
        ChatMessage.objects.filter(room_id=room_id, pk__gt=after).select_related("author").order_by("pk")[: limit + 1]
    )
    return [protocol.message_frame(message) for message in rows[:limit]], len(rows) <= limit
