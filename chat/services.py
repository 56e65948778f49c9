"""Everything that changes the chat: rooms, memberships, messages, read markers, presence, notices.

Consumers (through `database_sync_to_async`), views, management commands, the demo and tests all
call these functions. Each write runs in one transaction; broadcasts happen after commit only:
sync callers get them through `transaction.on_commit`, the consumer awaits `broadcast()` once the
service call has returned (hence committed). Who may do what is asked of directory.access.

Errors the user can fix are `ChatError`s: a code from chat.protocol and a French message, turned
into an `error` frame by the consumer and into a form error by the views.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q
from django.db.models.functions import Greatest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from chat import protocol
from chat.layer_watch import LAYER_ERRORS
from chat.models import (
    SHARED_KINDS_Q,
    ChatMembership,
    ChatMessage,
    ChatModerationLog,
    ChatNotice,
    ChatRoom,
    direct_room_key,
)
from core import ratelimit
from directory import access
from directory.access import ChatRoomKind
from directory.models import NotificationFrequency, Region, Theme, WorkingGroup

logger = logging.getLogger(__name__)
User = get_user_model()


class ChatError(Exception):
    """A refused action the person can understand: `code` (chat.protocol) and a French `message`."""

    def __init__(self, code: str, message: str, **refs: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.refs = refs

    def frame(self, **more_refs: Any) -> dict:
        return protocol.error_frame(self.code, self.message, **{**self.refs, **more_refs})


class ConnectionRefused(Exception):
    """A websocket connection that must not open; `code` is the close code (chat.protocol)."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


# --- groups and broadcasts ------------------------------------------------------------------------


def room_group(room_id: int) -> str:
    return f"chat-room-{room_id}"


def user_group(user_id: int) -> str:
    return f"chat-user-{user_id}"


async def broadcast(room_id: int, frame: dict, *, exclude_channel: str | None = None) -> None:
    """Send a frame to every open connection of the room. The JSON is encoded once, here."""
    await get_channel_layer().group_send(
        room_group(room_id), {"type": "chat.frame", "text": protocol.encode(frame), "exclude": exclude_channel}
    )


def _send_now(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    def send() -> None:
        try:
            async_to_sync(layer.group_send)(group, message)
        except LAYER_ERRORS as error:
            # The change is committed; only its live delivery failed. The room's open connections are
            # being closed by their process's watch (chat/layer_watch.py) and resume what they missed.
            # Raising here would turn a saved message into a 500 and skip the other on_commit callbacks
            # (search indexing among them): tests/faults/test_redis_down.py.
            logger.warning("Diffusion impossible vers %s (couche de canaux injoignable : %s).", group, error)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        send()
        return
    # An event loop runs in this very thread (Playwright's sync API in browser tests, for one):
    # async_to_sync refuses to run here, so the message leaves from a short-lived thread.
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    sender.join(timeout=10)


def broadcast_on_commit(room_id: int, frame: dict) -> None:
    """From sync code (views, commands): broadcast once the current transaction has committed."""
    message = {"type": "chat.frame", "text": protocol.encode(frame), "exclude": None}
    transaction.on_commit(lambda: _send_now(room_group(room_id), message))


def notify_access_changed_on_commit(user_ids: Iterable[int]) -> None:
    """After commit, make each person's open connections re-check the room they are in."""
    for user_id in set(user_ids):
        transaction.on_commit(
            lambda user_id=user_id: _send_now(user_group(user_id), {"type": "chat.access_changed"})
        )


# --- rooms -----------------------------------------------------------------------------------------


def _shared_room_fields(key: str) -> dict | None:
    """Kind, name and scope of the shared room `key` names, or None if its scope no longer exists."""
    kind, scope = access.parse_chat_room_key(key)
    if kind == ChatRoomKind.REGION:
        region = Region.objects.filter(pk=int(scope)).first()
        if region is None:
            return None
        return {"kind": kind, "region": region, "name": _("Région %(name)s") % {"name": region.name},
                "description": _("Les membres de la région %(name)s : vie régionale, réunions, outils partagés.")
                % {"name": region.name}}
    if kind == ChatRoomKind.WORKING_GROUP:
        group = WorkingGroup.objects.filter(slug=scope).first()
        if group is None:
            return None
        return {"kind": kind, "working_group": group,
                "name": _("Groupe de travail %(name)s") % {"name": group.name}, "description": group.description}
    theme = Theme.objects.filter(slug=scope).first()
    if theme is None:
        return None
    return {"kind": kind, "theme": theme, "name": _("Thématique : %(name)s") % {"name": theme.name},
            "description": _("Les membres qui suivent la thématique « %(name)s ».") % {"name": theme.name}}


def _shared_rooms_for_keys(keys: Iterable[str]) -> dict[str, ChatRoom]:
    """The shared rooms named by `keys`, created when missing (a new working group gets its room)."""
    keys = set(keys)
    rooms = {room.key: room for room in ChatRoom.objects.filter(key__in=keys)} if keys else {}
    for key in sorted(keys - rooms.keys()):
        fields = _shared_room_fields(key)
        if fields is None:
            continue
        room, _created = ChatRoom.objects.get_or_create(key=key, defaults=fields)
        rooms[key] = room
    return rooms


@transaction.atomic
def ensure_shared_rooms() -> int:
    """Create the room of every region, working group and theme that has none, and give every shared
    room the name of its region, working group or theme as it is called now; returns how many were
    created. (A deleted region, working group or theme takes its room with it: foreign keys.)"""
    keys = [access.chat_room_key(ChatRoomKind.REGION, pk) for pk in Region.objects.values_list("pk", flat=True)]
    keys += [access.chat_room_key(ChatRoomKind.WORKING_GROUP, slug)
             for slug in WorkingGroup.objects.values_list("slug", flat=True)]
    keys += [access.chat_room_key(ChatRoomKind.THEME, slug) for slug in Theme.objects.values_list("slug", flat=True)]
    existing = {room.key: room for room in ChatRoom.objects.filter(key__in=keys)}
    _shared_rooms_for_keys(set(keys) - existing.keys())
    for key, room in existing.items():
        fields = _shared_room_fields(key)
        if fields and (room.name, room.description) != (fields["name"], fields["description"]):
            room.name, room.description = fields["name"], fields["description"]
            room.save(update_fields=["name", "description"])
    return len(set(keys) - existing.keys())


def _last_message_ids(room_ids: Iterable[int]) -> dict[int, int]:
    rows = ChatMessage.objects.filter(room_id__in=list(room_ids)).values("room_id").annotate(last=Max("id"))
    return {row["room_id"]: row["last"] for row in rows}


def _add_memberships(room_ids_by_user: dict[int, set[int]]) -> None:
    """New members start with everything already in the room marked read: no flood of unread."""
    all_rooms = set().union(*room_ids_by_user.values()) if room_ids_by_user else set()
    if not all_rooms:
        return
    last_ids = _last_message_ids(all_rooms)
    ChatMembership.objects.bulk_create(
        [
            ChatMembership(room_id=room_id, user_id=user_id, last_read_id=last_ids.get(room_id, 0),
                           notified_up_to_id=last_ids.get(room_id, 0))
            for user_id, room_ids in room_ids_by_user.items()
            for room_id in room_ids
        ],
        ignore_conflicts=True,
        batch_size=500,
    )


@transaction.atomic
def sync_memberships(user) -> tuple[set[int], set[int]]:
    """Make the person's shared-room memberships exactly what directory.access derives.

    Direct and ad-hoc rooms are left alone (their participants are chosen; access.can_join_chat_room
    still refuses them to anyone outside the network). Returns (added room ids, removed room ids).
    """
    rooms = _shared_rooms_for_keys(access.chat_room_keys(user))
    wanted = {room.pk for room in rooms.values()}
    current = set(
        ChatMembership.objects.filter(user=user).filter(
            room__kind__in=list(access.SHARED_CHAT_ROOM_KINDS)
        ).values_list("room_id", flat=True)
    )
    removed = current - wanted
    added = wanted - current
    if removed:
        ChatMembership.objects.filter(user=user, room_id__in=removed).delete()
    if added:
        _add_memberships({user.pk: added})
    return added, removed


# From this many people at once (an import, an association excluded), memberships are synced in bulk.
BULK_SYNC_FROM = 20


def on_access_changed(change) -> None:
    """The chat's handler of the directory's "access changed" hook (registered in ChatConfig.ready).

    New, renamed or deleted regions, working groups and themes: their rooms follow. People whose
    roles, association or account changed: their shared-room memberships are re-synced now (same
    transaction) and, after commit, their open websocket connections re-check access: a connection
    to a room they left stops receiving at once and is closed (chat/PROTOCOL.md, close codes 4401/4403).
    """
    if change.everyone:
        sync_all_memberships()
    elif len(change.user_ids) > BULK_SYNC_FROM:
        sync_all_memberships(change.user_ids)
    else:
        if change.scopes:
            ensure_shared_rooms()
        people = User.objects.filter(pk__in=change.user_ids).select_related("association")
        for person in people:
            sync_memberships(person)
    if change.user_ids:
        notify_access_changed_on_commit(change.user_ids)


@transaction.atomic
def sync_all_memberships(user_ids: Iterable[int] | None = None) -> dict[str, int]:
    """Every person's shared-room memberships at once (demo data, `setup_site`), or those of `user_ids`
    (an import): memberships read and written in bulk."""
    ensure_shared_rooms()
    rooms_by_key = dict(ChatRoom.objects.filter(SHARED_KINDS_Q).values_list("key", "pk"))
    wanted: dict[int, set[int]] = {}
    people = User.objects.filter(is_active=True).select_related("association__region")
    memberships = ChatMembership.objects.filter(room__in=list(rooms_by_key.values()))
    if user_ids is not None:
        user_ids = list(user_ids)
        people = people.filter(pk__in=user_ids)
        memberships = memberships.filter(user_id__in=user_ids)
    for person in people.iterator(chunk_size=500):
        room_ids = {rooms_by_key[key] for key in access.chat_room_keys(person) if key in rooms_by_key}
        if room_ids:
            wanted[person.pk] = room_ids
    current: dict[int, set[int]] = defaultdict(set)
    for user_id, room_id in memberships.values_list("user_id", "room_id"):
        current[user_id].add(room_id)
    to_add = {user_id: rooms - current.get(user_id, set()) for user_id, rooms in wanted.items()}
    to_add = {user_id: rooms for user_id, rooms in to_add.items() if rooms}
    removed = 0
    for user_id, rooms in current.items():
        stale = rooms - wanted.get(user_id, set())
        if stale:
            removed += ChatMembership.objects.filter(user_id=user_id, room_id__in=stale).delete()[0]
    _add_memberships(to_add)
    return {"added": sum(len(rooms) for rooms in to_add.values()), "removed": removed}


@transaction.atomic
def open_direct_room(user, other) -> ChatRoom:
    """The direct-message room of two members, created on first use (both become its participants)."""
    if not access.can_message_directly(user, other):
        raise ChatError(protocol.FORBIDDEN, _("Vous ne pouvez pas écrire à cette personne."))
    key = direct_room_key(user.pk, other.pk)
    first, second = sorted((user, other), key=lambda person: person.pk)
    room, created = ChatRoom.objects.get_or_create(
        key=key,
        defaults={"kind": ChatRoomKind.DIRECT, "created_by": user,
                  "name": f"{protocol.display_name(first)} · {protocol.display_name(second)}"},
    )
    if created:
        ChatMembership.objects.bulk_create(
            [ChatMembership(room=room, user_id=first.pk), ChatMembership(room=room, user_id=second.pk)],
            ignore_conflicts=True,
        )
    return room


def _network_members(users: Iterable) -> list:
    return [person for person in users if access.is_member(person)]


@transaction.atomic
def create_adhoc_room(creator, *, name: str, description: str = "", members: Iterable = (),
                      region: Region | None = None) -> ChatRoom:
    """An ad-hoc room opened by federal staff (a regional meeting…): the creator, the chosen members
    and, if `region` is given, every member of the network who takes part in that region."""
    if not access.can_create_chat_room(creator):
        raise ChatError(protocol.FORBIDDEN, _("Seule l'équipe fédérale peut créer un salon."))
    name = (name or "").strip()
    if not name:
        raise ChatError(protocol.INVALID_FRAME, _("Donnez un nom au salon."))
    room = ChatRoom.objects.create(kind=ChatRoomKind.ADHOC, name=name[:150], description=description.strip(),
                                   created_by=creator, region=region)
    people = {creator.pk: creator}
    people.update({person.pk: person for person in members})
    if region is not None:
        people.update({person.pk: person for person in people_of_region(region)})
    ChatMembership.objects.bulk_create(
        [ChatMembership(room=room, user_id=person.pk) for person in _network_members(people.values())],
        ignore_conflicts=True,
    )
    return room


def people_of_region(region: Region) -> list:
    """Active members of the network who take part in the region (its associations, its DICA…)."""
    candidates = User.objects.filter(is_active=True).filter(
        Q(association__region=region) | Q(role_assignments__region=region)
    ).select_related("association__region").distinct()
    key = access.chat_room_key(ChatRoomKind.REGION, region.pk)
    return [person for person in candidates if key in access.chat_room_keys(person)]


@transaction.atomic
def set_adhoc_room(staff, room: ChatRoom, *, name: str, description: str, members: Iterable) -> ChatRoom:
    """Rename an ad-hoc room and replace its participants; removed people lose it at once."""
    if room.kind != ChatRoomKind.ADHOC or not access.can_create_chat_room(staff):
        raise ChatError(protocol.FORBIDDEN, _("Seule l'équipe fédérale peut modifier ce salon."))
    name = (name or "").strip()
    if not name:
        raise ChatError(protocol.INVALID_FRAME, _("Donnez un nom au salon."))
    room.name, room.description = name[:150], (description or "").strip()
    room.save(update_fields=["name", "description"])
    wanted = {person.pk for person in _network_members(members)}
    current = set(room.memberships.values_list("user_id", flat=True))
    removed = current - wanted
    if removed:
        room.memberships.filter(user_id__in=removed).delete()
        notify_access_changed_on_commit(removed)
    ChatMembership.objects.bulk_create(
        [ChatMembership(room=room, user_id=user_id) for user_id in wanted - current], ignore_conflicts=True
    )
    return room


# --- connections -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """What a connection may do in its room (decided once at connect, re-checked on access changes)."""

    room_id: int
    kind: str
    is_member: bool
    can_moderate: bool


def check_access(user, room_id: int) -> Grant:
    """May `user` open room `room_id`? Raises ConnectionRefused with the close code otherwise."""
    if user is None or not getattr(user, "is_authenticated", False) or not access.is_member(user):
        raise ConnectionRefused(protocol.CLOSE_NOT_AUTHENTICATED)
    room = ChatRoom.objects.filter(pk=room_id).values("pk", "kind", "key").first()
    if room is None:
        raise ConnectionRefused(protocol.CLOSE_NOT_FOUND)
    is_participant = ChatMembership.objects.filter(room_id=room_id, user=user).exists()
    rule = {"kind": room["kind"], "key": room["key"], "is_participant": is_participant}
    if not access.can_join_chat_room(user, **rule):
        raise ConnectionRefused(protocol.CLOSE_FORBIDDEN)
    return Grant(room_id=room_id, kind=room["kind"], is_member=access.is_chat_room_member(user, **rule),
                 can_moderate=access.can_moderate_chat_room(user, kind=room["kind"]))


def recheck_access(user, room_id: int) -> Grant:
    """The same check on fresh data: the person's roles, association or account may just have changed
    (the connection's user object was loaded at connect time)."""
    try:
        user.refresh_from_db()
    except User.DoesNotExist:
        raise ConnectionRefused(protocol.CLOSE_NOT_AUTHENTICATED) from None
    access.forget(user)
    return check_access(user, room_id)


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
    reason, kept with the original text in ChatModerationLog. Returns the `delete` frame."""
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
        ChatModerationLog.objects.create(
            room_id=room_id, message=message, moderator=user, author_id=message.author_id,
            reason=reason[:protocol.MODERATION_REASON_MAX_LENGTH], original_body=message.body,
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


# --- read markers and unread counts ----------------------------------------------------------------


def mark_read(user, room_id: int, up_to: Any, *, with_counts: bool = True) -> dict:
    """Move the person's read marker forward to `up_to` (never back, never past the last message).

    Returns {"up_to", "unread" (this room), "unread_total"} (only "up_to" without counts). Staff
    visiting a room they are not a member of have no marker: nothing is recorded.
    """
    from chat import selectors

    if not isinstance(up_to, int) or isinstance(up_to, bool) or up_to < 0:
        raise ChatError(protocol.INVALID_FRAME, _("« up_to » doit être un identifiant de message (entier ≥ 0)."))
    last = ChatMessage.objects.filter(room_id=room_id, pk__lte=up_to).aggregate(last=Max("pk"))["last"] or 0
    ChatMembership.objects.filter(room_id=room_id, user=user, last_read_id__lt=last).update(last_read_id=last)
    if not with_counts:
        return {"up_to": last}
    counts = selectors.unread_counts(user)
    return {"up_to": last, "unread": counts.get(room_id, 0), "unread_total": sum(counts.values())}


# --- presence --------------------------------------------------------------------------------------
# Per room, a cache entry maps each open connection (channel name) to its person and an expiry. A
# connection refreshes its entry every CHAT_PRESENCE_REFRESH_SECONDS; entries of crashed servers
# expire after CHAT_PRESENCE_TTL_SECONDS. Calls run in the database thread, one at a time per process.


def _presence_key(room_id: int) -> str:
    return f"chat:presence:{room_id}"


def _live_entries(room_id: int, now: float) -> dict[str, list]:
    entries = cache.get(_presence_key(room_id)) or {}
    return {channel: entry for channel, entry in entries.items() if entry[3] > now}


def _online(entries: dict[str, list]) -> list[dict]:
    people = {entry[0]: {"id": entry[0], "username": entry[1], "name": entry[2]} for entry in entries.values()}
    return sorted(people.values(), key=lambda person: person["name"].lower())


def presence_join(room_id: int, channel_name: str, user) -> tuple[list[dict], bool]:
    """Record the connection; returns (who is online, whether the person just came online)."""
    now = time.time()
    entries = _live_entries(room_id, now)
    already = any(entry[0] == user.pk for entry in entries.values())
    entries[channel_name] = [user.pk, user.get_username(), protocol.display_name(user),
                             now + settings.CHAT_PRESENCE_TTL_SECONDS]
    cache.set(_presence_key(room_id), entries, timeout=settings.CHAT_PRESENCE_TTL_SECONDS * 2)
    return _online(entries), not already


def presence_refresh(room_id: int, channel_name: str, user) -> None:
    presence_join(room_id, channel_name, user)


def presence_leave(room_id: int, channel_name: str, user_id: int) -> bool:
    """Forget the connection; returns whether the person has no other connection to the room."""
    now = time.time()
    entries = _live_entries(room_id, now)
    entries.pop(channel_name, None)
    cache.set(_presence_key(room_id), entries, timeout=settings.CHAT_PRESENCE_TTL_SECONDS * 2)
    return not any(entry[0] == user_id for entry in entries.values())


def online_people(room_id: int) -> list[dict]:
    return _online(_live_entries(room_id, time.time()))


# --- e-mail notices for unread direct messages -------------------------------------------------------


@dataclass
class _PendingBatch:
    membership_id: int
    room_id: int
    previous_marker: int
    messages: list


def _pending_direct_messages(now: datetime) -> dict[int, list[_PendingBatch]]:
    """Per recipient, the DM batches not read nor notified whose oldest message waited long enough.

    Two queries: the direct-room memberships with something new past both markers, then the
    messages of those rooms past the lowest marker (sorted out per membership here).
    """
    delay = timedelta(minutes=settings.CHAT_NOTICE_DELAY_MINUTES)
    memberships = list(
        ChatMembership.objects.filter(room__kind=ChatRoomKind.DIRECT, user__is_active=True)
        .annotate(marker=Greatest("last_read_id", "notified_up_to_id"))
        .filter(room__messages__id__gt=F("marker"))
        .distinct()
        .values("id", "room_id", "user_id", "marker", "notified_up_to_id")
    )
    if not memberships:
        return {}
    messages = defaultdict(list)
    for row in (
        ChatMessage.objects.filter(room_id__in={m["room_id"] for m in memberships}, deleted_at__isnull=True,
                                   pk__gt=min(m["marker"] for m in memberships))
        .order_by("pk")
        .values("id", "room_id", "author_id", "body", "created_at")
    ):
        messages[row["room_id"]].append(row)
    ready: dict[int, list[_PendingBatch]] = defaultdict(list)
    for membership in memberships:
        batch = _PendingBatch(membership["id"], membership["room_id"], membership["notified_up_to_id"], [
            row for row in messages[membership["room_id"]]
            if row["id"] > membership["marker"] and row["author_id"] != membership["user_id"]
        ])
        if batch.messages and batch.messages[0]["created_at"] <= now - delay:
            ready[membership["user_id"]].append(batch)
    return ready


def _claim(batch: _PendingBatch) -> bool:
    """Mark the batch as notified unless another run already did (then it is not sent twice)."""
    last = batch.messages[-1]["id"]
    return bool(
        ChatMembership.objects.filter(pk=batch.membership_id, notified_up_to_id=batch.previous_marker)
        .update(notified_up_to_id=last)
    )


def send_chat_notices(now: datetime | None = None) -> int:
    """E-mail people about direct messages left unread for CHAT_NOTICE_DELAY_MINUTES.

    Follows each person's notification choice: "immediate" gets one e-mail per batch (every unread
    DM since the last notice), "daily" at most one summary per 24 hours, "never" nothing (and the
    messages are marked as dealt with, as for a person who may no longer open the conversation,
    access.can_join_chat_room). A person without an e-mail address is skipped. Idempotent:
    a batch claimed by one run is never sent again. Returns the number of e-mails sent.
    """
    now = now or timezone.now()
    pending = _pending_direct_messages(now)
    if not pending:
        return 0
    people = User.objects.select_related("association__region").in_bulk(list(pending))
    author_ids = {row["author_id"] for batches in pending.values() for b in batches for row in b.messages}
    authors = User.objects.in_bulk([pk for pk in author_ids if pk])
    recent_daily = set(
        ChatNotice.objects.filter(kind=ChatNotice.Kind.DAILY, sent_at__gt=now - timedelta(hours=24),
                                  user_id__in=list(pending)).values_list("user_id", flat=True)
    )
    base_url = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
    emails, notices = [], []
    for user_id, batches in pending.items():
        person = people.get(user_id)
        if person is None:
            continue
        frequency = person.notification_frequency
        # Permission audit (issue 8): a participant who may no longer open the conversation (their
        # association left the network, their account lost its roles) was still e-mailed its messages.
        # Their batches are dealt with as for "never": no e-mail now, none later for these messages.
        may_open = access.can_join_chat_room(person, kind=ChatRoomKind.DIRECT, key=None, is_participant=True)
        if frequency == NotificationFrequency.NEVER or not may_open:
            for batch in batches:
                _claim(batch)
            continue
        if not person.email or (frequency == NotificationFrequency.DAILY and user_id in recent_daily):
            continue
        claimed = [batch for batch in batches if _claim(batch)]
        if not claimed:
            continue
        count = sum(len(batch.messages) for batch in claimed)
        context = {
            "person": person,
            "daily": frequency == NotificationFrequency.DAILY,
            "count": count,
            "conversations": [
                {
                    "url": f"{base_url}/discussions/{batch.room_id}/",
                    "messages": [
                        {"author": protocol.display_name(authors.get(row["author_id"])),
                         "created_at": row["created_at"],
                         "excerpt": Truncator(" ".join(row["body"].split())).chars(300)}
                        for row in batch.messages
                    ],
                }
                for batch in claimed
            ],
            "preferences_url": base_url + reverse("exchange:notification-preferences"),
        }
        subject = ngettext("Passerelles : %(count)d message privé non lu",
                           "Passerelles : %(count)d messages privés non lus", count) % {"count": count}
        emails.append(EmailMessage(subject=subject, body=render_to_string("chat/email/unread_direct_messages.txt",
                                                                          context), to=[person.email]))
        kind = ChatNotice.Kind.DAILY if frequency == NotificationFrequency.DAILY else ChatNotice.Kind.IMMEDIATE
        notices.append(ChatNotice(user_id=user_id, kind=kind, messages=count, sent_at=now))
    if emails:
        get_connection().send_messages(emails)
        ChatNotice.objects.bulk_create(notices)
    return len(emails)
