"""Reads of the chat: a person's rooms with unread counts, history pages, people to write to.

Every list is built with a fixed number of queries, whatever the number of rooms or messages.
Access rules come from directory.access (through chat.memberships.check_access for one room).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from chat.models import SHARED_KINDS_Q, ChatMembership, ChatMessage, ChatRoom
from chat.protocol import display_name
from directory import access
from directory.access import ChatRoomKind
from directory.models import Association
from directory.roles import Role

User = get_user_model()

MEMBER_SEARCH_LIMIT = 20


def _unread_messages(user) -> QuerySet:
    # One join on the person's memberships: both conditions below apply to the same membership row.
    return ChatMessage.objects.filter(
        room__memberships__user=user,
        id__gt=F("room__memberships__last_read_id"),
        deleted_at__isnull=True,
    ).exclude(author=user)


def unread_counts(user) -> dict[int, int]:
    """Unread messages per room of the person (rooms with none are absent). One query."""
    rows = _unread_messages(user).values("room_id").annotate(unread=Count("id")).order_by()
    return {row["room_id"]: row["unread"] for row in rows}


def unread_total(user) -> int:
    """Unread messages in all the person's rooms (the navigation badge). One query."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return _unread_messages(user).count()


@dataclass
class RoomEntry:
    room: ChatRoom
    title: str
    unread: int = 0
    other: object | None = None  # direct messages: the other person


@dataclass
class RoomList:
    direct: list[RoomEntry] = field(default_factory=list)
    shared: dict[str, list[RoomEntry]] = field(default_factory=dict)
    adhoc: list[RoomEntry] = field(default_factory=list)
    moderation: list[ChatRoom] = field(default_factory=list)

    @property
    def all(self) -> list[RoomEntry]:
        entries = [*self.direct, *self.adhoc]
        for group in self.shared.values():
            entries.extend(group)
        return entries

    @property
    def unread_total(self) -> int:
        return sum(entry.unread for entry in self.all)


SHARED_SECTIONS = [
    (ChatRoomKind.REGION, _("Votre région")),
    (ChatRoomKind.WORKING_GROUP, _("Vos groupes de travail")),
    (ChatRoomKind.THEME, _("Vos thématiques")),
]


def room_title(room: ChatRoom, user, other=None) -> str:
    """How the room is named for `user`: a direct-message room is named after the other person."""
    if room.kind == ChatRoomKind.DIRECT:
        return display_name(other) if other is not None else room.name
    return room.name


def rooms_for(user) -> RoomList:
    """The person's rooms, grouped for the room list, with unread counts. A fixed number of queries:
    memberships with rooms, unread counts, the other participant of direct rooms (and, for federal
    staff, the shared rooms they moderate without being members)."""
    memberships = list(
        ChatMembership.objects.filter(user=user)
        .select_related("room")
        .order_by("room__kind", "room__name")
    )
    counts = unread_counts(user) if memberships else {}
    direct_ids = [m.room_id for m in memberships if m.room.kind == ChatRoomKind.DIRECT]
    others = {}
    if direct_ids:
        for other_membership in ChatMembership.objects.filter(room_id__in=direct_ids).exclude(user=user).select_related(
            "user"
        ):
            others[other_membership.room_id] = other_membership.user
    result = RoomList(shared={kind: [] for kind, _label in SHARED_SECTIONS})
    for membership in memberships:
        room = membership.room
        entry = RoomEntry(room=room, title=room_title(room, user, others.get(room.pk)),
                          unread=counts.get(room.pk, 0), other=others.get(room.pk))
        if room.kind == ChatRoomKind.DIRECT:
            result.direct.append(entry)
        elif room.kind == ChatRoomKind.ADHOC:
            result.adhoc.append(entry)
        else:
            result.shared[room.kind].append(entry)
    result.direct.sort(key=lambda entry: entry.title.lower())
    if access.opens_every_shared_chat_room(user):
        member_of = {m.room_id for m in memberships}
        result.moderation = [room for room in ChatRoom.objects.filter(SHARED_KINDS_Q) if room.pk not in member_of]
    return result


def membership_of(user, room: ChatRoom) -> ChatMembership | None:
    return ChatMembership.objects.filter(room=room, user=user).first()


def room_title_for(user, room: ChatRoom) -> str:
    other = None
    if room.kind == ChatRoomKind.DIRECT:
        other_membership = room.memberships.exclude(user=user).select_related("user").first()
        other = other_membership.user if other_membership else None
    return room_title(room, user, other)


@dataclass
class HistoryPage:
    messages: list[ChatMessage]
    has_older: bool
    has_newer: bool

    @property
    def is_latest(self) -> bool:
        return not self.has_newer

    @property
    def first_id(self) -> int | None:
        return self.messages[0].pk if self.messages else None

    @property
    def last_id(self) -> int:
        return self.messages[-1].pk if self.messages else 0


def history_page(room: ChatRoom, *, before: int | None = None, after: int | None = None,
                 size: int | None = None) -> HistoryPage:
    """One page of the room's messages, oldest first: the latest ones, those before id `before`, or
    those after id `after`. Two queries (the page, one row more to know if there is more)."""
    size = size or settings.CHAT_HISTORY_PAGE_SIZE
    messages = ChatMessage.objects.filter(room=room).select_related("author")
    if after is not None:
        rows = list(messages.filter(pk__gt=after).order_by("pk")[: size + 1])
        has_newer = len(rows) > size
        rows = rows[:size]
        has_older = messages.filter(pk__lte=after).exists()
        return HistoryPage(rows, has_older=has_older, has_newer=has_newer)
    if before is not None:
        messages = messages.filter(pk__lt=before)
    rows = list(messages.order_by("-pk")[: size + 1])
    has_older = len(rows) > size
    rows = list(reversed(rows[:size]))
    has_newer = before is not None and ChatMessage.objects.filter(room=room, pk__gte=before).exists()
    return HistoryPage(rows, has_older=has_older, has_newer=has_newer)


def search_members(user, query: str) -> list:
    """Members of the network (other than the person) matching a name or username, for a new DM."""
    query = " ".join((query or "").split())
    if len(query) < 2:
        return []
    people = access.members().exclude(pk=user.pk)
    for word in query.split()[:4]:
        people = people.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(username__icontains=word)
        )
    return list(people.select_related("association").order_by("last_name", "first_name")[:MEMBER_SEARCH_LIMIT])


# The associations whose directors a member is shown first as people to write to. Parrainage (above
# chat) registers its source from its AppConfig.ready(): the parrain and filleuls of the member's
# association (parrainage.selectors.sponsorship_partner_ids); chat imports none of it.
ContactSource = Callable[[int], set[int]]
_contact_sources: list[ContactSource] = []


def add_contact_source(source: ContactSource) -> None:
    """`source(association_id)` gives the ids of associations whose directors the association's
    people are offered as first contacts. Registering the same function twice keeps one."""
    if source not in _contact_sources:
        _contact_sources.append(source)


def sponsorship_contacts(user) -> list:
    """The directors of the association sponsoring the person's association, or sponsored by it:
    the first people a new adherent writes to (parrainage, fiche II.6)."""
    if not user.association_id:
        return []
    association_ids = set().union(*(source(user.association_id) for source in _contact_sources))
    association_ids.discard(user.association_id)
    if not association_ids:
        return []
    return list(
        User.objects.filter(
            is_active=True, association_id__in=association_ids, role_assignments__role=Role.DIRECTOR,
            association__status=Association.Status.MEMBER,
        ).exclude(pk=user.pk).select_related("association").distinct().order_by("last_name", "first_name")
    )


def adhoc_candidates() -> QuerySet:
    """People who may be invited to an ad-hoc room: the network's active members."""
    return (
        access.members()
        .select_related("association")
        .order_by("last_name", "first_name")
        .distinct()
    )


def room_participants(room: ChatRoom) -> list:
    return [m.user for m in room.memberships.select_related("user").order_by("user__last_name", "user__first_name")]

