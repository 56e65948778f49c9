"""Reads of one event (cms.content.EventPage): its registration figures, what the reader may do, its
iCalendar file. Listings of events are in cms.selectors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone

from cms.registrations import EventRegistration
from cms.services import registration_refusal
from cms.visibility import Visibility
from core.ics import CalendarEvent, to_ics
from directory import access

if TYPE_CHECKING:
    from cms.content import EventPage


def is_in_audience(event: EventPage, user) -> bool:
    return access.in_any_group(user, event.audience_groups())


@dataclass
class EventStatus:
    """Registration figures of an event and what the reader may do."""

    capacity: int | None
    confirmed_count: int
    waiting_count: int
    my_status: str | None
    my_waiting_position: int | None
    is_past: bool
    in_audience: bool
    can_register: bool
    refusal: str
    registrations: list[EventRegistration]

    @property
    def remaining(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.confirmed_count, 0)

    @property
    def is_full(self) -> bool:
        return self.capacity is not None and self.confirmed_count >= self.capacity


def event_status(event: EventPage, user, visibility: Visibility | None = None) -> EventStatus:
    """Counts, the reader's own registration and waiting position; for staff, the registrations."""
    registrations = list(
        event.registrations.exclude(status=EventRegistration.Status.CANCELLED)
        .select_related("user__association").order_by("registered_at", "pk")
    )
    confirmed = [r for r in registrations if r.status == EventRegistration.Status.CONFIRMED]
    waiting = [r for r in registrations if r.status == EventRegistration.Status.WAITING]
    mine = next((r for r in registrations if r.user_id == user.pk), None)
    position = next((i for i, r in enumerate(waiting, start=1) if r.user_id == user.pk), None)
    refusal = registration_refusal(event, user, visibility) if mine is None else ""
    return EventStatus(
        capacity=event.capacity,
        confirmed_count=len(confirmed),
        waiting_count=len(waiting),
        my_status=mine.status if mine else None,
        my_waiting_position=position,
        is_past=event.ends_at < timezone.now(),
        in_audience=is_in_audience(event, user),
        can_register=mine is None and not refusal,
        refusal=refusal,
        registrations=registrations if access.can_edit_cms(user) else [],
    )


def event_ics(event: EventPage, *, base_url: str = "") -> str:
    """The event as an iCalendar file (one VEVENT), through the forum's ICS writer."""
    description = event.summary
    if event.video_link:
        description = f"{description}\n\nVisioconférence : {event.video_link}".strip()
    stamp = event.last_published_at or event.first_published_at
    return to_ics(CalendarEvent(
        uid=f"evenement-{event.pk}@passerelles",
        title=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        description=description,
        location=event.place or event.video_link,
        url=f"{base_url}{event.url}" if base_url else "",
        sequence=int(stamp.timestamp()) if stamp else 0,
        stamp=stamp,
    ), product="-//Passerelles//Agenda//FR")
