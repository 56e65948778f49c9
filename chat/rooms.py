"""Rooms: shared rooms (one per region, working group and theme), direct-message rooms, ad-hoc rooms
opened by federal staff. Each write runs in one transaction; who may do what is asked of directory.access."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from chat import protocol
from chat.broadcasts import notify_access_changed_on_commit
from chat.errors import ChatError
from chat.models import ChatMembership, ChatRoom, direct_room_key
from directory import access
from directory.access import ChatRoomKind
from directory.models import Region, Theme, WorkingGroup

User = get_user_model()


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


def shared_rooms_for_keys(keys: Iterable[str]) -> dict[str, ChatRoom]:
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
    shared_rooms_for_keys(set(keys) - existing.keys())
    for key, room in existing.items():
        fields = _shared_room_fields(key)
        if fields and (room.name, room.description) != (fields["name"], fields["description"]):
            room.name, room.description = fields["name"], fields["description"]
            room.save(update_fields=["name", "description"])
    return len(set(keys) - existing.keys())


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
