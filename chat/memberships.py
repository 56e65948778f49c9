"""Who is in which room: shared-room memberships derived from directory.access (and re-synced when
the directory's "access changed" hook fires), and the check made when a connection or a page opens a room."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import astuple, dataclass

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models import Max

from chat import protocol
from chat.broadcasts import notify_access_changed_on_commit
from chat.errors import ConnectionRefused
from chat.models import SHARED_KINDS_Q, ChatMembership, ChatMessage, ChatRoom
from chat.rooms import ensure_shared_rooms, shared_rooms_for_keys
from directory import access

User = get_user_model()


# --- memberships ---------------------------------------------------------------------------------


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
    rooms = shared_rooms_for_keys(access.chat_room_keys(user))
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


def _grant_key(user_id: int, room_id: int, version: str) -> str:
    return f"chat:grant:{user_id}:{room_id}:{version}"


def cached_grant(user, room_id: int) -> Grant | None:
    """The grant `check_access` gave this person for this room under the current access version
    (directory.access.version), or None: no database query, two cache reads. Every change an access
    answer derives from (roles, association, account saved, memberships, rooms) replaces the version,
    so a revoked person's grant is never found again; the session is still checked by the caller."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    found = cache.get(_grant_key(user.pk, room_id, access.version()))
    return Grant(*found) if found is not None else None


def check_access_cached(user, room_id: int) -> Grant:
    """`check_access`, its grant kept in the cache under the access version (refusals are not kept:
    they are rare and cheap to repeat)."""
    grant = cached_grant(user, room_id)
    if grant is not None:
        return grant
    version = access.version()  # read before the rules: a change meanwhile leaves the entry unused
    grant = check_access(user, room_id)
    cache.set(_grant_key(user.pk, room_id, version), astuple(grant), access.ACCESS_CACHE_SECONDS)
    return grant


def recheck_access(user, room_id: int) -> Grant:
    """The same check on fresh data: the person's roles, association or account may just have changed
    (the connection's user object was loaded at connect time)."""
    try:
        user.refresh_from_db()
    except User.DoesNotExist:
        raise ConnectionRefused(protocol.CLOSE_NOT_AUTHENTICATED) from None
    access.forget(user)
    return check_access(user, room_id)
