"""Demo chat (called by demo.directory.seed): shared rooms, memberships, a few French conversations.

Deterministic and idempotent: messages carry fixed client ids (a second run finds them), their dates
derive from demo.dates.REFERENCE_DATE, and the read markers are set so that `nouvel.adherent`
finds one unread direct message from their parrain.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from chat import memberships, messages, rooms
from chat.models import ChatMembership, ChatMessage, ChatRoom
from demo.dates import REFERENCE_DATE
from directory import access
from directory.access import ChatRoomKind
from directory.models import Region, Theme, WorkingGroup

User = get_user_model()

# (author username, minutes after the conversation starts, text)
DIRECT_CONVERSATION = [
    ("parrain", 0, "Bonjour Sophie, bienvenue dans le réseau ! Je serai votre parrain pendant cette première "
                   "année. N'hésitez pas à m'écrire ici pour toute question."),
    ("nouvel.adherent", 12, "Bonjour Philippe, merci beaucoup ! Nous préparons notre première convention avec le "
                            "tribunal de Mont-de-Marsan pour les enquêtes sociales rapides : auriez-vous un modèle ?"),
    ("parrain", 40, "Bien sûr. La trame que nous utilisons avec la cour d'appel de Bordeaux est dans la "
                    "bibliothèque d'outils, rubrique « Conventions » : https://passerelles.exemple.fr/ressources/"),
    ("parrain", 43, "Et si vous le souhaitez, je peux venir présenter notre organisation des permanences à votre "
                    "équipe en octobre."),
]
REGION_CONVERSATION = [
    ("parrain", 0, "Bonjour à toutes et à tous, la prochaine réunion régionale Sud-Ouest aura lieu le 14 octobre "
                   "à Bordeaux. L'ordre du jour est ouvert : proposez vos sujets ici."),
    ("nouvel.adherent", 25, "Bonjour ! L'ALME 40 serait heureuse de présenter ses débuts et d'échanger sur la "
                            "médiation pénale dans les Landes."),
]
THEME_CONVERSATION = [
    ("nouvel.adherent", 0, "Bonjour, comment organisez-vous la convocation des parties en médiation pénale quand "
                           "la victime ne répond pas au premier courrier ?"),
]
WORKING_GROUP_CONVERSATION = [
    ("directrice", 0, "Pour la séance du groupe Éthique : je propose de reprendre la question du secret partagé "
                      "avec les SPIP, à partir des situations que vous avez rencontrées."),
]
MEETING_ROOM_NAME = "Réunion régionale Sud-Ouest – 14 octobre 2025"


def _at(day_offset: int, hour: int, minutes: int) -> datetime:
    moment = datetime.combine(REFERENCE_DATE + timedelta(days=day_offset), time(hour, 0))
    return timezone.make_aware(moment + timedelta(minutes=minutes))


def _write(room: ChatRoom, conversation, start: datetime, tag: str, people: dict) -> int:
    """Post the conversation (a second run finds every message by its client id)."""
    written = 0
    for index, (username, minutes, text) in enumerate(conversation):
        author = people.get(username)
        if author is None:
            continue
        posted = messages.post_message(author, room.pk, f"demo-{tag}-{index}", text, enforce_rate_limit=False)
        ChatMessage.objects.filter(pk=posted.frame["id"]).update(created_at=start + timedelta(minutes=minutes))
        written += posted.created
    return written


def _mark_all_read(room: ChatRoom, *, except_user=None) -> None:
    """Everything read and e-mailed (the demo must not send notices), but for `except_user`'s last message."""
    last = ChatMessage.objects.filter(room=room).order_by("-pk").values_list("pk", flat=True).first() or 0
    ChatMembership.objects.filter(room=room).update(last_read_id=last, notified_up_to_id=last)
    if except_user is not None:
        ChatMembership.objects.filter(room=room, user=except_user).update(last_read_id=max(last - 1, 0))


@transaction.atomic
def seed_chat(scale: int = 1, stdout=None) -> dict[str, int]:
    rooms.ensure_shared_rooms()
    memberships.sync_all_memberships()
    people = {person.username: person for person in User.objects.filter(
        username__in=["parrain", "nouvel.adherent", "directrice", "equipe"]
    )}
    rooms_written = 0
    if {"parrain", "nouvel.adherent"} <= people.keys():
        direct = rooms.open_direct_room(people["nouvel.adherent"], people["parrain"])
        rooms_written += _write(direct, DIRECT_CONVERSATION, _at(-3, 9, 30), "parrainage", people)
        _mark_all_read(direct, except_user=people["nouvel.adherent"])
    region = Region.objects.filter(slug="sud-ouest").first()
    if region is not None:
        room = ChatRoom.objects.get(key=access.chat_room_key(ChatRoomKind.REGION, region.pk))
        rooms_written += _write(room, REGION_CONVERSATION, _at(-5, 14, 0), "sud-ouest", people)
        _mark_all_read(room)
        if "equipe" in people:
            meeting = ChatRoom.objects.filter(kind=ChatRoomKind.ADHOC, name=MEETING_ROOM_NAME).first()
            if meeting is None:
                meeting = rooms.create_adhoc_room(
                    people["equipe"], name=MEETING_ROOM_NAME, region=region,
                    description="Préparation de la réunion régionale : ordre du jour, covoiturage, documents.",
                )
    theme = Theme.objects.filter(slug="mediation-penale").first()
    if theme is not None:
        room = ChatRoom.objects.filter(key=access.chat_room_key(ChatRoomKind.THEME, theme.slug)).first()
        if room is not None:
            rooms_written += _write(room, THEME_CONVERSATION, _at(-2, 11, 0), "mediation", people)
            _mark_all_read(room)
    group = WorkingGroup.objects.filter(slug="ethique").first()
    if group is not None:
        room = ChatRoom.objects.filter(key=access.chat_room_key(ChatRoomKind.WORKING_GROUP, group.slug)).first()
        if room is not None:
            rooms_written += _write(room, WORKING_GROUP_CONVERSATION, _at(-1, 16, 0), "ethique", people)
            _mark_all_read(room)
    counts = {
        "rooms": ChatRoom.objects.count(),
        "direct": ChatRoom.objects.filter(kind=ChatRoomKind.DIRECT).count(),
        "adhoc": ChatRoom.objects.filter(kind=ChatRoomKind.ADHOC).count(),
        "messages": ChatMessage.objects.count(),
        "memberships": ChatMembership.objects.count(),
    }
    if stdout is not None:
        stdout.write(f"Discussions : {counts['rooms']} salons, {counts['messages']} messages.")
    return counts
