"""Reads of the parrainage pages (issue 7), with directory.access applied.

Each function loads what its page shows with a fixed number of queries, whatever the number of
parrainages, steps, people or chat rooms involved.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.utils import timezone

from chat.models import ChatMembership, ChatMessage, ChatRoom
from directory import access
from directory.models import Association, CourDAppel, RoleAssignment, Theme, User
from directory.roles import Role
from membership import services as membership
from membership.models import MembershipApplication
from parrainage.matching import Proposal
from parrainage.models import OnboardingStep, Parrainage
from parrainage.services import next_proposals

STEP_COUNT = len(OnboardingStep.Step.choices)
CONTACT_ROLES = (Role.DIRECTOR, Role.PRESIDENT)


def no_contact_days() -> int:
    return int(getattr(settings, "PARRAINAGE_NO_CONTACT_DAYS", 30))


# --- Onboarding checklist ---------------------------------------------------------------------------


@dataclass
class StepRow:
    step: str
    label: str
    done: OnboardingStep | None

    @property
    def is_done(self) -> bool:
        return self.done is not None


def checklist(parrainage: Parrainage) -> list[StepRow]:
    """The four steps in their order, each with its record if ticked (steps prefetched by the caller)."""
    done = {s.step: s for s in parrainage.steps.all()}
    return [StepRow(step=value, label=str(label), done=done.get(value)) for value, label in OnboardingStep.Step.choices]


def _steps_prefetch() -> Prefetch:
    return Prefetch("steps", queryset=OnboardingStep.objects.select_related("done_by"))


# --- "Mon parrainage" --------------------------------------------------------------------------------


@dataclass
class ContactRow:
    """A director or president of the other association, their contact if the viewer may see it, and
    the viewer's direct-message room with them if one exists."""

    person: User
    roles: list[str]
    show_contact: bool
    room: object | None = None
    can_write: bool = False


@dataclass
class SponsorshipCard:
    """One active parrainage as one of its two associations sees it."""

    parrainage: Parrainage
    other: Association  # the parrain for the filleul's people, the filleul for the parrain's
    contacts: list[ContactRow]
    steps: list[StepRow]
    can_tick: bool

    @property
    def steps_done(self) -> int:
        return sum(1 for s in self.steps if s.is_done)


@dataclass
class MyParrainage:
    association: Association | None
    received: SponsorshipCard | None = None
    given: list[SponsorshipCard] = field(default_factory=list)
    # The association's own pending request (as a filleul): a parrain was proposed and must answer.
    awaiting_answer: bool = False
    # Proposals the association (as a parrain) must answer; `can_respond` says whether the viewer may.
    to_answer: list[Parrainage] = field(default_factory=list)
    can_respond: bool = False
    can_manage: bool = False

    @property
    def is_empty(self) -> bool:
        return self.received is None and not self.given and not self.to_answer and not self.awaiting_answer


def my_parrainage(user) -> MyParrainage:
    """Everything the member's "Mon parrainage" page shows, in a fixed number of queries."""
    can_manage = access.can_manage_parrainages(user)
    association = (
        Association.objects.select_related("region").filter(pk=user.association_id).first()
        if getattr(user, "association_id", None) else None
    )
    if association is None:
        return MyParrainage(association=None, can_manage=can_manage)
    rows = list(
        Parrainage.objects.filter(Q(parrain=association) | Q(filleul=association),
                                  status__in=[Parrainage.Status.ACTIVE, Parrainage.Status.PROPOSED])
        .select_related("parrain__region", "filleul__region", "proposed_by")
        .prefetch_related(_steps_prefetch())
        .order_by("filleul__name", "pk")
    )
    active = [p for p in rows if p.status == Parrainage.Status.ACTIVE]
    others = {p.parrain_id if p.filleul_id == association.pk else p.filleul_id for p in active}
    contacts = _contacts(user, others)

    def card(p: Parrainage) -> SponsorshipCard:
        other = p.parrain if p.filleul_id == association.pk else p.filleul
        return SponsorshipCard(parrainage=p, other=other, contacts=contacts.get(other.pk, []), steps=checklist(p),
                               can_tick=access.can_tick_onboarding(user, p))

    received = next((card(p) for p in active if p.filleul_id == association.pk), None)
    return MyParrainage(
        association=association,
        received=received,
        given=[card(p) for p in active if p.parrain_id == association.pk],
        awaiting_answer=any(p.status == Parrainage.Status.PROPOSED and p.filleul_id == association.pk for p in rows),
        to_answer=[p for p in rows if p.status == Parrainage.Status.PROPOSED and p.parrain_id == association.pk],
        can_respond=access.answers_parrainage_proposals(user),
        can_manage=can_manage,
    )


def _contacts(user, association_ids: set[int]) -> dict[int, list[ContactRow]]:
    """Directors and presidents of each association, with the viewer's direct rooms with them."""
    if not association_ids:
        return {}
    people = list(
        User.objects.filter(association_id__in=association_ids, is_active=True,
                            role_assignments__role__in=CONTACT_ROLES)
        .distinct()
        .select_related("association")  # access.can_view_contact reads the association's status
        .prefetch_related(Prefetch("role_assignments", queryset=RoleAssignment.objects.order_by("role")))
        .order_by("last_name", "first_name", "username", "pk")
    )
    rooms = {
        m.user_id: m.room
        for m in ChatMembership.objects.filter(
            room__kind=ChatRoom.Kind.DIRECT, room__memberships__user=user, user__in=[p.pk for p in people]
        ).exclude(user=user).select_related("room")
    }
    result: dict[int, list[ContactRow]] = defaultdict(list)
    for person in people:
        labels = [str(a.get_role_display()) for a in person.role_assignments.all() if a.role in CONTACT_ROLES]
        result[person.association_id].append(ContactRow(
            person=person, roles=labels, show_contact=access.can_view_contact(user, person),
            room=rooms.get(person.pk), can_write=person.pk != user.pk and access.is_member(user),
        ))
    return result


def pending_proposals_for(user) -> list[Parrainage]:
    """Proposals the person, as director of the proposed parrain, has to answer (dashboard notice)."""
    if not access.answers_parrainage_proposals(user):
        return []
    return list(
        Parrainage.objects.filter(parrain_id=user.association_id, status=Parrainage.Status.PROPOSED)
        .select_related("filleul").order_by("created_at", "pk")
    )


# --- One parrainage: steps page and answer page ------------------------------------------------------


def parrainage_for(user, pk: int) -> Parrainage | None:
    """A parrainage with its associations and steps, or None if unknown or not visible to `user`."""
    parrainage = (
        Parrainage.objects.select_related("parrain__region", "filleul__region", "proposed_by", "responded_by")
        .prefetch_related(_steps_prefetch())
        .filter(pk=pk).first()
    )
    if parrainage is None or not access.can_view_parrainage(user, parrainage):
        return None
    return parrainage


# --- Awaiting a parrain ------------------------------------------------------------------------------


def awaiting_parrain(today: date | None = None) -> QuerySet[Association]:
    """Member associations that await a parrain: admitted through an application, or recently
    (settings.PARRAINAGE_NEW_MEMBER_DAYS), or declined by a proposed parrain, and without a
    parrain, a pending proposal or a finished parrainage. Annotated with `declined_count`."""
    today = today or timezone.localdate()
    days = int(getattr(settings, "PARRAINAGE_NEW_MEMBER_DAYS", 365))
    busy = Parrainage.objects.filter(
        status__in=[Parrainage.Status.PROPOSED, Parrainage.Status.ACTIVE, Parrainage.Status.ENDED]
    ).values("filleul_id")
    admitted = MembershipApplication.objects.filter(
        status=MembershipApplication.Status.ADMITTED, association__isnull=False
    ).values("association_id")
    declined = Parrainage.objects.filter(status=Parrainage.Status.DECLINED)
    return (
        Association.objects.filter(status=Association.Status.MEMBER)
        .exclude(pk__in=busy)
        .filter(Q(pk__in=admitted) | Q(pk__in=declined.values("filleul_id"))
                | Q(admitted_on__gte=today - timedelta(days=days)))
        .select_related("region")
        .annotate(declined_count=Count("parrainages_received",
                                       filter=Q(parrainages_received__status=Parrainage.Status.DECLINED)))
        .order_by("admitted_on", "name", "pk")
    )


# --- Summaries: the dashboard and "Mon parrainage" --------------------------------------------------


@dataclass
class ParrainageSummary:
    """The active sponsorships of one association: who sponsors it, whom it sponsors."""

    association: Association | None
    parrain: Association | None = None
    parrain_since: object = None
    filleuls: list[Parrainage] = field(default_factory=list)
    # Proposals the person, as director of the proposed parrain, has to answer (in-site notice).
    pending_proposals: list[Parrainage] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.parrain is None and not self.filleuls and not self.pending_proposals


def parrainage_summary(user) -> ParrainageSummary:
    """The person's association, its active parrainages and the proposals the person has to answer."""
    association = user.association if getattr(user, "association_id", None) else None
    if association is None:
        return ParrainageSummary(association=None)
    active = list(
        Parrainage.objects.filter(Q(parrain=association) | Q(filleul=association), status=Parrainage.Status.ACTIVE)
        .select_related("parrain", "filleul")
        .order_by("filleul__name")
    )
    received = next((p for p in active if p.filleul_id == association.pk), None)
    return ParrainageSummary(
        association=association,
        parrain=received.parrain if received else None,
        parrain_since=received.started_on if received else None,
        filleuls=[p for p in active if p.parrain_id == association.pk],
        pending_proposals=pending_proposals_for(user),
    )


@dataclass
class CommissionSummary:
    """What the dashboard tells the people who examine applications and follow the parrainages."""

    to_examine: int
    awaiting_parrain: int


def commission_summary(user) -> CommissionSummary | None:
    """Applications still to handle and associations awaiting a parrain (two queries), or None for
    people who may not examine applications."""
    if not access.can_examine_applications(user):
        return None
    return CommissionSummary(
        to_examine=membership.commission_counts()[membership.CommissionTab.PENDING],
        awaiting_parrain=awaiting_parrain().count(),
    )


def dashboard_section(request, person) -> dict:
    """Parrainage's section of the member's home page (directory.dashboard, registered in
    ParrainageConfig.ready()): `person` (loaded with their association) has their sponsorships, the
    reader the commission's figures if they examine applications."""
    return {"parrainage": parrainage_summary(person), "commission": commission_summary(request.user)}


# --- The commission's match page ---------------------------------------------------------------------


@dataclass
class MatchPage:
    filleul: Association
    cours: list[CourDAppel]
    measures: list[Theme]
    themes: list[Theme]
    current: Parrainage | None  # the active parrainage or the proposal awaiting an answer
    history: list[Parrainage]  # every parrainage of the filleul, newest first
    proposals: list[Proposal]
    more_available: bool  # more proposals than shown

    @property
    def can_choose(self) -> bool:
        return self.filleul.status == Association.Status.MEMBER and self.current is None


def match_page(user, slug: str, *, show_all: bool = False, today: date | None = None) -> MatchPage | None:
    """The filleul, its parrainages and the platform's next proposals; None if not visible."""
    filleul = (
        Association.objects.select_related("region")
        .prefetch_related(Prefetch("cours", queryset=CourDAppel.objects.order_by("name")),
                          Prefetch("themes", queryset=Theme.objects.order_by("name")))
        .filter(slug=slug).first()
    )
    if filleul is None or not access.can_view_association(user, filleul):
        return None
    history = list(
        Parrainage.objects.filter(filleul=filleul).select_related("parrain", "proposed_by", "responded_by")
        .order_by("-created_at", "-pk")
    )
    current = next((p for p in history if p.status in (Parrainage.Status.ACTIVE, Parrainage.Status.PROPOSED)), None)
    proposals: list[Proposal] = []
    more = False
    if filleul.status == Association.Status.MEMBER and current is None:
        everyone = next_proposals(filleul, limit=None, today=today)
        proposals = everyone if show_all else everyone[:3]
        more = len(everyone) > len(proposals)
    themes = list(filleul.themes.all())
    return MatchPage(
        filleul=filleul, cours=list(filleul.cours.all()),
        measures=[t for t in themes if t.kind == Theme.Kind.MEASURE],
        themes=[t for t in themes if t.kind != Theme.Kind.MEASURE],
        current=current, history=history, proposals=proposals, more_available=more,
    )


# --- The commission's overview -----------------------------------------------------------------------


@dataclass
class OverviewRow:
    parrainage: Parrainage
    steps_done: int
    last_contact: datetime | None = None
    without_contact: bool = False

    @property
    def step_count(self) -> int:
        return STEP_COUNT


@dataclass(frozen=True)
class OverviewFilters:
    status: str = ""
    q: str = ""
    without_contact: bool = False


def _last_contacts(parrainages: list[Parrainage]) -> dict[int, datetime]:
    """For each parrainage, its last chat message in a direct room between a person of the parrain and a
    person of the filleul (any such room: the directors' one or another). Three queries at most."""
    association_ids = {pk for p in parrainages for pk in (p.parrain_id, p.filleul_id)}
    if not association_ids:
        return {}
    sides: dict[int, set[int]] = defaultdict(set)
    for room_id, association_id in ChatMembership.objects.filter(
        room__kind=ChatRoom.Kind.DIRECT, user__association_id__in=association_ids
    ).values_list("room_id", "user__association_id"):
        sides[room_id].add(association_id)
    pairs: dict[frozenset, list[int]] = defaultdict(list)
    for room_id, found in sides.items():
        if len(found) == 2:
            pairs[frozenset(found)].append(room_id)
    wanted = {room_id for p in parrainages for room_id in pairs.get(frozenset((p.parrain_id, p.filleul_id)), [])}
    if not wanted:
        return {}
    last = dict(ChatMessage.objects.filter(room_id__in=wanted).values("room_id")
                .annotate(last=Max("created_at")).values_list("room_id", "last"))
    result = {}
    for p in parrainages:
        times = [last[r] for r in pairs.get(frozenset((p.parrain_id, p.filleul_id)), []) if r in last]
        if times:
            result[p.pk] = max(times)
    return result


def overview(filters: OverviewFilters | None = None, *, now: datetime | None = None) -> list[OverviewRow]:
    """Every parrainage with its progress (steps done out of four) and, for the active ones, whether
    the two associations have gone PARRAINAGE_NO_CONTACT_DAYS days without a chat message.

    A parrainage younger than that is not flagged. The filters apply before pagination (the caller
    paginates the list). Callers check access.can_manage_parrainages.
    """
    filters = filters or OverviewFilters()
    now = now or timezone.now()
    qs = Parrainage.objects.select_related("parrain", "filleul").annotate(steps_done=Count("steps"))
    if filters.status:
        qs = qs.filter(status=filters.status)
    for word in filters.q.split():
        qs = qs.filter(Q(parrain__name__icontains=word) | Q(filleul__name__icontains=word)
                       | Q(parrain__city__icontains=word) | Q(filleul__city__icontains=word))
    parrainages = list(qs.order_by("-created_at", "-pk"))
    active = [p for p in parrainages if p.status == Parrainage.Status.ACTIVE]
    last = _last_contacts(active)
    threshold = now - timedelta(days=no_contact_days())
    rows = []
    for p in parrainages:
        row = OverviewRow(parrainage=p, steps_done=p.steps_done, last_contact=last.get(p.pk))
        if p.status == Parrainage.Status.ACTIVE:
            since = [row.last_contact] if row.last_contact else []
            if p.started_on:
                since.append(timezone.make_aware(datetime.combine(p.started_on, time.min)))
            row.without_contact = not since or max(since) < threshold
        rows.append(row)
    if filters.without_contact:
        rows = [r for r in rows if r.without_contact]
    return rows


# --- What parrainage adds to the directory's association page and to chat's first contacts ----------


@dataclass
class SponsorshipLink:
    """An active parrainage as an association page shows it: the other association, since when, and
    whether the viewer may open its follow-up page (either association's people, the commission)."""

    parrainage: Parrainage
    association: Association
    since: object
    can_follow: bool


def _active_parrainages(related_name: str, other: str) -> Prefetch:
    return Prefetch(
        related_name,
        queryset=Parrainage.objects.filter(status=Parrainage.Status.ACTIVE)
        .select_related(other)
        .order_by(f"{other}__name"),
        to_attr=f"active_{related_name}",
    )


def _links(user, parrainages, other: str) -> list[SponsorshipLink]:
    return [
        SponsorshipLink(parrainage=p, association=getattr(p, other), since=p.started_on,
                        can_follow=access.can_view_parrainage(user, p))
        for p in parrainages
        if access.can_view_association(user, getattr(p, other))
    ]


class SponsorshipSection:
    """The association page's parrains and filleuls (directory.selectors.association_detail): two
    prefetches on the association's query, then only what the viewer may see."""

    def prefetches(self) -> list[Prefetch]:
        return [_active_parrainages("parrainages_received", "parrain"),
                _active_parrainages("parrainages_given", "filleul")]

    def fill(self, user, association: Association, detail) -> None:
        received, given = association.active_parrainages_received, association.active_parrainages_given
        detail.parrains = [p.parrain for p in received if access.can_view_association(user, p.parrain)]
        detail.filleuls = [p.filleul for p in given if access.can_view_association(user, p.filleul)]
        detail.parrain_links = _links(user, received, "parrain")
        detail.filleul_links = _links(user, given, "filleul")

    def __eq__(self, other) -> bool:
        return isinstance(other, SponsorshipSection)

    def __hash__(self) -> int:
        return hash(SponsorshipSection)


def sponsorship_partner_ids(association_id: int) -> set[int]:
    """The associations in an active parrainage with this one, either side (chat's first contacts:
    chat.selectors.sponsorship_contacts)."""
    pairs = Parrainage.objects.filter(status=Parrainage.Status.ACTIVE).filter(
        Q(parrain_id=association_id) | Q(filleul_id=association_id)
    ).values_list("parrain_id", "filleul_id")
    return {pk for pair in pairs for pk in pair}
