"""Services that change the CMS: event registrations, the review workflow, restrictions.

Each runs in one transaction; checks (`registration_refusal`) are separate from changes; e-mails are
queued in the outbox (core/outbox) and go out after commit. Refusals raise CmsError with a French
message shown to the person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import Collection, CollectionViewRestriction, Page, PageViewRestriction

from cms.registrations import EventRegistration
from cms.visibility import Visibility
from core.outbox import services as outbox
from directory import access, groups

if TYPE_CHECKING:
    from cms.content import EventPage


class CmsError(ValueError):
    """A CMS change the rules refuse; the message is French and shown to the person."""


# --- Event registrations -----------------------------------------------------------------------


def registration_refusal(event: EventPage, user, visibility=None) -> str:
    """Why `user` may not register to `event` now ("" if they may). Reads only."""
    if not access.is_member(user):
        return _("Les inscriptions sont réservées aux membres du réseau.")
    if not (visibility or Visibility(user)).can_view_page(event):
        return _("Cet événement est introuvable.")
    if event.ends_at < timezone.now():
        return _("Cet événement est passé.")
    if not event.registration_open:
        return _("Les inscriptions à cet événement sont closes.")
    if not access.in_any_group(user, event.audience_groups()):
        return _("Cet événement est réservé au public suivant : %(audience)s.") % {
            "audience": event.get_audience_display()}
    return ""


def _lock(event: EventPage) -> EventPage:
    """Lock the event's row until the end of the transaction: registrations to one event queue up.

    PostgreSQL: SELECT … FOR UPDATE on the event row. SQLite: transactions begin IMMEDIATE
    (config/settings.py), which already serialises writers.
    """
    # The event's own class: the page (cms.content) calls these services, so they do not import it.
    return type(event).objects.select_for_update(of=("self",)).get(pk=event.pk)


def _fill_free_seats(event: EventPage) -> list[EventRegistration]:
    """Promote the waiting list, oldest first, into the free seats. Call with the event locked."""
    waiting = EventRegistration.objects.filter(event=event, status=EventRegistration.Status.WAITING)
    if event.capacity is None:
        free = waiting.count()
    else:
        confirmed = EventRegistration.objects.filter(event=event, status=EventRegistration.Status.CONFIRMED).count()
        free = max(event.capacity - confirmed, 0)
    if not free:
        return []
    promoted = list(waiting.select_related("user").order_by("registered_at", "pk")[:free])
    for registration in promoted:
        registration.status = EventRegistration.Status.CONFIRMED
        registration.save(update_fields=["status", "updated_at"])
        _notify_promotion_on_commit(event, registration)
    return promoted


def _notify_promotion_on_commit(event: EventPage, registration: EventRegistration) -> None:
    """Queue the "a seat is yours" e-mail in the outbox: it leaves after commit, through a task."""
    outbox.queue(
        registration.user, category=outbox.Category.TRANSACTIONAL, kind="cms.waiting-list-promotion",
        subject=_("Passerelles : une place s'est libérée pour « %(title)s »") % {"title": event.title},
        text_template="cms/email/waiting_list_promotion.txt",
        context={"title": event.title, "date": timezone.localtime(event.starts_at).strftime("%d/%m/%Y à %H:%M")},
    )


@transaction.atomic
def register_for_event(event: EventPage, user) -> EventRegistration:
    """Register `user`: a confirmed seat if one is free and nobody waits, else the waiting list.

    Refuses (CmsError) a person outside the event's audience, a closed or past event, and a second
    registration. The event row is locked first, so two people can never take the same last seat.
    """
    refusal = registration_refusal(event, user)
    if refusal:
        raise CmsError(refusal)
    event = _lock(event)
    existing = EventRegistration.objects.filter(event=event, user=user).first()
    if existing is not None and existing.status != EventRegistration.Status.CANCELLED:
        if existing.status == EventRegistration.Status.WAITING:
            raise CmsError(_("Vous êtes déjà sur la liste d'attente de cet événement."))
        raise CmsError(_("Vous êtes déjà inscrit·e à cet événement."))
    _fill_free_seats(event)
    confirmed = EventRegistration.objects.filter(event=event, status=EventRegistration.Status.CONFIRMED).count()
    has_seat = event.capacity is None or confirmed < event.capacity
    status = EventRegistration.Status.CONFIRMED if has_seat else EventRegistration.Status.WAITING
    if existing is not None:
        existing.status = status
        existing.registered_at = timezone.now()
        existing.save(update_fields=["status", "registered_at", "updated_at"])
        return existing
    return EventRegistration.objects.create(event=event, user=user, status=status)


@transaction.atomic
def cancel_registration(event: EventPage, user) -> list[EventRegistration]:
    """Cancel `user`'s registration; a freed seat goes to the first on the waiting list (who is told
    by e-mail after commit). Returns the registrations promoted."""
    event = _lock(event)
    registration = (EventRegistration.objects.filter(event=event, user=user)
                    .exclude(status=EventRegistration.Status.CANCELLED).first())
    if registration is None:
        raise CmsError(_("Vous n'êtes pas inscrit·e à cet événement."))
    if event.ends_at < timezone.now():
        raise CmsError(_("Cet événement est passé."))
    registration.status = EventRegistration.Status.CANCELLED
    registration.save(update_fields=["status", "updated_at"])
    return _fill_free_seats(event)


# --- Review workflow ---------------------------------------------------------------------------


def submit_for_review(page: Page, user):
    """Save `page`'s current state as a revision by `user` and start its workflow (brouillon → relu).

    Preconditions: `user` may edit the page and a workflow applies to it. Returns the workflow state.
    """
    page = page.specific
    if not page.permissions_for_user(user).can_edit():
        raise CmsError(_("Vous ne pouvez pas modifier cette page."))
    workflow = page.get_workflow()
    if workflow is None:
        raise CmsError(_("Aucun processus de relecture ne s'applique à cette page."))
    with transaction.atomic():
        page.save_revision(user=user, log_action=True)
        return workflow.start(page, user)


def review_page(page: Page, user, *, approve: bool, comment: str = "") -> None:
    """Approve (publishing at the last step) or send back the revision under review.

    Refuses (CmsError) when nothing is under review or when `user` may not act on it — in
    particular the person who submitted or wrote the revision (PeerReviewTask).
    """
    page = page.specific
    task_state = page.current_workflow_task_state
    if task_state is None:
        raise CmsError(_("Aucune relecture n'est en cours pour cette page."))
    task = task_state.task.specific
    action = "approve" if approve else "reject"
    if action not in {name for name, *_rest in task.get_actions(page, user)}:
        raise CmsError(_("Une autre personne de l'équipe fédérale doit relire cette modification."))
    task.on_action(task_state, user, action, comment=comment)


# --- Restrictions (used by the demo and by staff tooling) --------------------------------------


def _groups_for(audience: str, region_id: int | None = None):
    return list(groups.groups_for_keys(access.cms_audience_groups(audience, region_id=region_id)).values())


@transaction.atomic
def restrict_page(page: Page, audience: str) -> PageViewRestriction:
    """Restrict `page` (and its subtree) to a CMS audience's groups (directory.access)."""
    restriction = PageViewRestriction.objects.filter(page=page).first() or PageViewRestriction(page=page)
    restriction.restriction_type = PageViewRestriction.GROUPS
    restriction.save()
    restriction.groups.set(_groups_for(audience))
    return restriction


@transaction.atomic
def ensure_collection(name: str, parent: Collection, audience: str | None = None) -> Collection:
    """A child collection of `parent` named `name`, restricted to `audience`'s groups if given."""
    collection = parent.get_children().filter(name=name).first()
    if collection is None:
        collection = parent.add_child(instance=Collection(name=name))
    if audience:
        restriction = (CollectionViewRestriction.objects.filter(collection=collection).first()
                       or CollectionViewRestriction(collection=collection))
        restriction.restriction_type = CollectionViewRestriction.GROUPS
        restriction.save()
        restriction.groups.set(_groups_for(audience))
    return collection
