"""Read markers: how far each person has read a room, and the unread counts that follow."""

from __future__ import annotations

from typing import Any

from django.db.models import Max
from django.utils.translation import gettext as _

from chat import protocol, selectors
from chat.errors import ChatError
from chat.models import ChatMembership, ChatMessage

# --- read markers and unread counts ----------------------------------------------------------------


def mark_read(user, room_id: int, up_to: Any, *, with_counts: bool = True) -> dict:
    """Move the person's read marker forward to `up_to` (never back, never past the last message).

    Returns {"up_to", "unread" (this room), "unread_total"} (only "up_to" without counts). Staff
    visiting a room they are not a member of have no marker: nothing is recorded.
    """
    if not isinstance(up_to, int) or isinstance(up_to, bool) or up_to < 0:
        raise ChatError(protocol.INVALID_FRAME, _("« up_to » doit être un identifiant de message (entier ≥ 0)."))
    last = ChatMessage.objects.filter(room_id=room_id, pk__lte=up_to).aggregate(last=Max("pk"))["last"] or 0
    ChatMembership.objects.filter(room_id=room_id, user=user, last_read_id__lt=last).update(last_read_id=last)
    if not with_counts:
        return {"up_to": last}
    counts = selectors.unread_counts(user)
    return {"up_to": last, "unread": counts.get(room_id, 0), "unread_total": sum(counts.values())}
