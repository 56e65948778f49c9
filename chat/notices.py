"""E-mail notices for direct messages left unread (run by chat.tasks.send_chat_notices in the worker).

The e-mails leave through the shared outbox (core/outbox, docs/mail.md), which records, retries and
dedupes them; this module decides who is told about which messages, and when."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import F
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import ngettext

from chat import protocol
from chat.models import ChatMembership, ChatMessage, ChatNotice
from core import links
from core.outbox import services as outbox
from directory import access
from directory.access import ChatRoomKind
from directory.models import NotificationFrequency

User = get_user_model()


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
    base_url = links.site_url()
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
        emails.append(outbox.queue(
            person, category=outbox.Category.NOTICE, kind="chat.unread", subject=subject,
            text_template="chat/email/unread_direct_messages.txt", context=context,
            dedupe_key=f"chat.unread:{user_id}:{claimed[-1].messages[-1]['id']}", on_commit=False))
        kind = ChatNotice.Kind.DAILY if frequency == NotificationFrequency.DAILY else ChatNotice.Kind.IMMEDIATE
        notices.append(ChatNotice(user_id=user_id, kind=kind, messages=count, sent_at=now))
    if notices:
        ChatNotice.objects.bulk_create(notices)
    return outbox.send_now(emails)
