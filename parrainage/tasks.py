"""Parrainage e-mails (run by django-tasks after commit; scheduled by parrainage.services only).

A proposal is e-mailed to the parrain's directors; an acceptance to both associations' directors
and to the person who proposed it; a decline to the person who proposed it, with the reason. Each
person's `notification_frequency` is respected as in the forum and the chat: "never" means no
e-mail (the page "Mon parrainage", the dashboard and the commission's pages still show it); the
daily digest is not used here, an answer is awaited so the e-mail leaves at once. The e-mails are
notices of the outbox (core/outbox, docs/mail.md), which applies that preference and retries a failure.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django_tasks import task

from chat.models import ChatRoom, direct_room_key
from core import links
from core.outbox import services as outbox
from directory import access
from parrainage.contacts import directors, first_director
from parrainage.models import Parrainage


class Event:
    """What a parrainage notice is about (scheduled by parrainage.services after commit)."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"


def _base_url() -> str:
    return links.site_url()


def queue_notices(parrainage_id: int, event: str) -> list[outbox.Email]:
    """Queue (not yet send) the e-mails for one event of a parrainage: none if it no longer exists or
    changed since; none to an inactive account; the outbox leaves out whoever chose "never"."""
    parrainage = (
        Parrainage.objects.select_related("parrain", "filleul", "proposed_by", "responded_by")
        .filter(pk=parrainage_id).first()
    )
    expected = {Event.PROPOSED: Parrainage.Status.PROPOSED, Event.ACCEPTED: Parrainage.Status.ACTIVE,
                Event.DECLINED: Parrainage.Status.DECLINED}
    if parrainage is None or expected.get(event) != parrainage.status:
        return []
    base = _base_url()
    proposer = parrainage.proposed_by
    if proposer is not None and not access.can_manage_parrainages(proposer):
        proposer = None
    if event == Event.PROPOSED:
        recipients = list(directors(parrainage.parrain_id))
        subject = _("Proposition de parrainage : %(filleul)s") % {"filleul": parrainage.filleul.name}
    elif event == Event.ACCEPTED:
        recipients = [*directors(parrainage.filleul_id), *directors(parrainage.parrain_id), proposer]
        subject = _("Parrainage confirmé : %(parrain)s parraine %(filleul)s") % {
            "parrain": parrainage.parrain.name, "filleul": parrainage.filleul.name}
    else:
        recipients = [proposer]
        subject = _("Parrainage décliné par %(parrain)s : %(filleul)s") % {
            "parrain": parrainage.parrain.name, "filleul": parrainage.filleul.name}
    room_url = ""
    if event == Event.ACCEPTED:
        pair = (first_director(parrainage.parrain_id), first_director(parrainage.filleul_id))
        if all(pair):
            room = ChatRoom.objects.filter(key=direct_room_key(pair[0].pk, pair[1].pk)).first()
            if room is not None:
                room_url = base + room.get_absolute_url()
    links = {
        "respond_url": base + reverse("parrainage:respond", kwargs={"pk": parrainage.pk}),
        "mine_url": base + reverse("parrainage:mine"),
        "steps_url": base + reverse("parrainage:tick", kwargs={"pk": parrainage.pk}),
        "match_url": base + reverse("parrainage:match", kwargs={"slug": parrainage.filleul.slug}),
        "overview_url": base + reverse("parrainage:overview"),
        "preferences_url": base + reverse("exchange:notification-preferences"),
        "room_url": room_url,
    }
    emails, seen = [], set()
    for person in recipients:
        if person is None or person.pk in seen or not person.is_active:
            continue
        seen.add(person.pk)
        context = {
            **links, "event": event, "parrainage": parrainage, "person": person,
            "recipient_name": person.get_full_name() or person.get_username(),
            "is_party": person.association_id in (parrainage.parrain_id, parrainage.filleul_id),
        }
        email = outbox.queue(
            person, category=outbox.Category.NOTICE, kind=f"parrainage.{event}",
            subject=" ".join(f"[Passerelles] {subject}".split())[:250],
            text_template="directory/email/parrainage_notice.txt", context=context, on_commit=False,
        )
        if email is not None:
            emails.append(email)
    return emails


@task()
def send_parrainage_notice(parrainage_id: int, event: str) -> int:
    """E-mail the people concerned by a proposal, an acceptance or a decline; returns how many left."""
    return outbox.send_now(queue_notices(parrainage_id, event))
