"""Parrainage services (issue 7, fiche II.6): from an admitted association to its onboarding.

The path: admission opens the parrainage step (`open_parrainage_step`: the association now awaits a
parrain, see `parrainage.selectors.awaiting_parrain`); the membership commission picks one of the
platform's proposals (`choose_parrain`, a PROPOSED parrainage keeping its score and reasons); the
parrain's director accepts or declines (`respond`): accepting opens a direct-message room between the
two directors, declining brings the next proposals (the ones who declined are never proposed again
to that filleul). Either side, or the commission, ticks the onboarding steps (`tick`, `untick`).

Every service checks `directory.access` itself (views check too, to answer 403), locks the rows it
decides on with select_for_update, runs in one transaction and raises `ParrainageError` with a French
message when the rules refuse. E-mails go out after commit through a task (parrainage.tasks).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from chat import rooms as chat_rooms
from chat.errors import ChatError
from directory import access, hooks
from directory.models import Association
from directory.services import DirectoryError
from parrainage import tasks
from parrainage.contacts import first_director
from parrainage.matching import Proposal, max_filleuls, propose_sponsors
from parrainage.models import OnboardingStep, Parrainage
from parrainage.tasks import Event

logger = logging.getLogger(__name__)

DECLINE_REASON_MAX_LENGTH = 2000


class ParrainageError(DirectoryError):
    """A parrainage action the rules refuse; the message is French and shown to the person."""


@hooks.unit_of_work()
def start_parrainage(parrain: Association, filleul: Association, started_on=None) -> Parrainage:
    """Record an active sponsorship at once, without the proposal and answer steps (demo data,
    sponsorships that predate the platform)."""
    if parrain.pk == filleul.pk:
        raise ParrainageError("Une association ne peut pas être sa propre marraine.")
    if Parrainage.objects.filter(filleul=filleul, status=Parrainage.Status.ACTIVE).exclude(parrain=parrain).exists():
        raise ParrainageError("Cette association a déjà un parrain.")
    parrainage, _created = Parrainage.objects.update_or_create(
        parrain=parrain,
        filleul=filleul,
        defaults={"status": Parrainage.Status.ACTIVE, "started_on": started_on},
    )
    return parrainage


# --- Notices ----------------------------------------------------------------------------------------

_muted: contextvars.ContextVar[bool] = contextvars.ContextVar("parrainage_notices_muted", default=False)


@contextlib.contextmanager
def notices_muted() -> Iterator[None]:
    """Inside this block, parrainage services send no e-mail (demo data, imports)."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def _notify_on_commit(parrainage_id: int, event: str) -> None:
    if _muted.get():
        return
    transaction.on_commit(lambda: tasks.send_parrainage_notice.enqueue(parrainage_id, event))


def declined_parrain_ids(filleul: Association) -> list[int]:
    """Every association that already declined to sponsor `filleul`: never proposed to it again."""
    return sorted(
        set(
            Parrainage.objects.filter(filleul=filleul, status=Parrainage.Status.DECLINED)
            .values_list("parrain_id", flat=True)
        )
    )


def next_proposals(filleul: Association, *, limit: int | None = 3, today: date | None = None) -> list[Proposal]:
    """The platform's proposals for `filleul`, leaving out those who declined it."""
    return propose_sponsors(filleul, exclude_ids=declined_parrain_ids(filleul), limit=limit, today=today)


# --- Services ---------------------------------------------------------------------------------------


def _check_manager(actor) -> None:
    if not access.can_manage_parrainages(actor):
        raise ParrainageError(_("Seules la commission d'adhésion et l'équipe fédérale choisissent les parrains."))


def open_parrainage_step(association: Association, actor) -> list[Proposal]:
    """Admission's last step: `association` now awaits a parrain; returns the first proposals.

    Preconditions: `actor` may manage parrainages; `association` is a member. Nothing is written:
    a member association admitted through an application (or recently), without a proposal or a
    parrain, is listed as awaiting one (parrainage.selectors.awaiting_parrain) until the commission
    picks a parrain on the match page. If the association already has a parrain or a proposal
    awaiting an answer, returns no proposal.
    """
    _check_manager(actor)
    association = Association.objects.get(pk=association.pk)
    if association.status != Association.Status.MEMBER:
        raise ParrainageError(_("Seule une association adhérente peut être parrainée."))
    busy = Parrainage.objects.filter(
        filleul=association, status__in=[Parrainage.Status.PROPOSED, Parrainage.Status.ACTIVE]
    ).exists()
    if busy:
        return []
    return next_proposals(association)


@transaction.atomic
def choose_parrain(actor, filleul: Association, parrain: Association, *, today: date | None = None) -> Parrainage:
    """The commission proposes `parrain` to sponsor `filleul`: a PROPOSED parrainage is recorded.

    Preconditions: `actor` may manage parrainages; `filleul` is a member without a parrain or a
    pending proposal; `parrain` is one of the platform's possible sponsors for it (see
    parrainage.matching: volunteer, member, under the cap, not among those who declined). The score
    and reasons are those of the proposal as computed now. Effects: after commit, the parrain's
    directors are e-mailed; the proposal shows on their "Mon parrainage" page and dashboard.
    """
    _check_manager(actor)
    if parrain.pk == filleul.pk:
        raise ParrainageError(_("Une association ne peut pas être sa propre marraine."))
    # Lock both associations (in a fixed order): two examiners choosing at once, or two filleuls
    # being given the same parrain, are decided one after the other.
    locked = {a.pk: a for a in Association.objects.select_for_update().filter(pk__in=[filleul.pk, parrain.pk])
              .order_by("pk")}
    filleul, parrain = locked.get(filleul.pk), locked.get(parrain.pk)
    if filleul is None or parrain is None:
        raise ParrainageError(_("Cette association n'existe plus."))
    if filleul.status != Association.Status.MEMBER:
        raise ParrainageError(_("Seule une association adhérente peut être parrainée."))
    current = (
        Parrainage.objects.filter(filleul=filleul, status__in=[Parrainage.Status.PROPOSED, Parrainage.Status.ACTIVE])
        .select_related("parrain").first()
    )
    if current is not None and current.status == Parrainage.Status.ACTIVE:
        raise ParrainageError(_("%(filleul)s a déjà un parrain : %(parrain)s.")
                              % {"filleul": filleul.name, "parrain": current.parrain.name})
    if current is not None:
        raise ParrainageError(_("Une proposition attend déjà la réponse de %(parrain)s.")
                              % {"parrain": current.parrain.name})
    declined = declined_parrain_ids(filleul)
    if parrain.pk in declined:
        raise ParrainageError(_("%(parrain)s a déjà décliné le parrainage de %(filleul)s.")
                              % {"parrain": parrain.name, "filleul": filleul.name})
    proposal = next(
        (p for p in propose_sponsors(filleul, exclude_ids=declined, limit=None, today=today)
         if p.association.pk == parrain.pk),
        None,
    )
    if proposal is None:
        raise ParrainageError(
            _("%(parrain)s ne peut pas être proposée : un parrain doit être adhérent, volontaire pour parrainer, "
              "ne pas être lui-même parrainé et accompagner moins de %(cap)d filleuls.")
            % {"parrain": parrain.name, "cap": max_filleuls()}
        )
    try:
        with transaction.atomic():
            parrainage = Parrainage.objects.create(
                parrain=parrain, filleul=filleul, status=Parrainage.Status.PROPOSED,
                score=proposal.score, reasons=list(proposal.reasons), proposed_by=actor,
            )
    except IntegrityError as error:
        raise ParrainageError(
            _("Une autre proposition vient d'être enregistrée pour cette association : rechargez la page.")
        ) from error
    _notify_on_commit(parrainage.pk, Event.PROPOSED)
    return parrainage


@dataclass(frozen=True)
class Answer:
    """What `respond` did: the parrainage now, the direct room opened (accepted), the next proposals
    offered to the commission (declined)."""

    parrainage: Parrainage
    room: object | None = None
    next_proposals: list[Proposal] = field(default_factory=list)


def _lock(parrainage: Parrainage | int) -> Parrainage:
    pk = parrainage if isinstance(parrainage, int) else parrainage.pk
    locked = Parrainage.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise ParrainageError(_("Ce parrainage n'existe plus."))
    return locked


def open_parrainage_room(parrainage: Parrainage):
    """The direct-message room between the two associations' first directors, created if needed.

    Returns None when either side has no active director who is a member of the network.
    """
    parrain_director, filleul_director = first_director(parrainage.parrain_id), first_director(parrainage.filleul_id)
    if parrain_director is None or filleul_director is None:
        return None
    try:
        with transaction.atomic():
            return chat_rooms.open_direct_room(parrain_director, filleul_director)
    except ChatError:
        logger.warning("No direct room for parrainage %s: a director may not write to the other.", parrainage.pk)
        return None


@transaction.atomic
def respond(actor, parrainage: Parrainage | int, accept: bool, reason: str = "", *,
            today: date | None = None) -> Answer:
    """The proposed parrain's director accepts or declines a proposal.

    Preconditions: `actor` is a director of the parrain association; the proposal awaits an answer.
    Accepting: the parrainage becomes ACTIVE from today, a direct-message room is opened between the
    two associations' first directors (see `first_director`), and both associations' directors are
    e-mailed after commit (with the person who proposed it). The parrain must still have room under
    the cap. Declining needs a reason (kept for the commission): the parrainage becomes DECLINED,
    the person who proposed it is e-mailed, and the next proposals (without every association
    that declined this filleul) are returned for the commission's match page.
    """
    parrainage = _lock(parrainage)
    if not access.can_respond_to_parrainage(actor, parrainage):
        raise ParrainageError(_("Seul·e la directrice ou le directeur de l'association proposée peut répondre."))
    if parrainage.status != Parrainage.Status.PROPOSED:
        raise ParrainageError(_("Cette proposition a déjà reçu une réponse (%(status)s).")
                              % {"status": parrainage.get_status_display().lower()})
    now = timezone.now()
    parrainage.responded_by = actor
    parrainage.responded_at = now
    if not accept:
        reason = (reason or "").replace("\x00", "").strip()
        if not reason:
            raise ParrainageError(_("Indiquez le motif du refus : il aide la commission à proposer un autre parrain."))
        if len(reason) > DECLINE_REASON_MAX_LENGTH:
            raise ParrainageError(
                ngettext("Le motif ne doit pas dépasser %(max)d caractère.",
                         "Le motif ne doit pas dépasser %(max)d caractères.", DECLINE_REASON_MAX_LENGTH)
                % {"max": DECLINE_REASON_MAX_LENGTH}
            )
        parrainage.status = Parrainage.Status.DECLINED
        parrainage.decline_reason = reason
        parrainage.save(update_fields=["status", "decline_reason", "responded_by", "responded_at"])
        _notify_on_commit(parrainage.pk, Event.DECLINED)
        filleul = Association.objects.get(pk=parrainage.filleul_id)
        return Answer(parrainage=parrainage, next_proposals=next_proposals(filleul, today=today))

    associations = {a.pk: a for a in Association.objects.select_for_update()
                    .filter(pk__in=[parrainage.parrain_id, parrainage.filleul_id]).order_by("pk")}
    filleul = associations.get(parrainage.filleul_id)
    if filleul is None or filleul.status != Association.Status.MEMBER:
        raise ParrainageError(_("Cette association n'est plus adhérente : le parrainage ne peut pas commencer."))
    active = Parrainage.objects.filter(parrain_id=parrainage.parrain_id, status=Parrainage.Status.ACTIVE).count()
    if active >= max_filleuls():
        raise ParrainageError(
            ngettext("Votre association accompagne déjà %(count)d filleul, le maximum prévu par la fédération.",
                     "Votre association accompagne déjà %(count)d filleuls, le maximum prévu par la fédération.",
                     active) % {"count": active}
        )
    parrainage.status = Parrainage.Status.ACTIVE
    parrainage.started_on = today or timezone.localdate()
    try:
        with transaction.atomic():
            parrainage.save(update_fields=["status", "started_on", "responded_by", "responded_at"])
    except IntegrityError as error:
        raise ParrainageError(_("Cette association a déjà un parrain.")) from error
    room = open_parrainage_room(parrainage)
    _notify_on_commit(parrainage.pk, Event.ACCEPTED)
    return Answer(parrainage=parrainage, room=room)


def _check_tick(actor, parrainage: Parrainage, step: str) -> None:
    if not access.can_tick_onboarding(actor, parrainage):
        raise ParrainageError(_("Seules les directions et présidences des deux associations, la commission "
                                "d'adhésion et l'équipe fédérale cochent les étapes d'accueil."))
    if parrainage.status != Parrainage.Status.ACTIVE:
        raise ParrainageError(_("Les étapes d'accueil se cochent pendant un parrainage en cours."))
    if step not in OnboardingStep.Step.values:
        raise ParrainageError(_("Cette étape d'accueil n'existe pas."))


@transaction.atomic
def tick(actor, parrainage: Parrainage | int, step: str, done_on: date, *, today: date | None = None) -> OnboardingStep:
    """Record that an onboarding step was done on `done_on` (ticking it again changes the date).

    Preconditions: `actor` may tick (either association's director or president, the commission,
    staff); the parrainage is active; `done_on` is neither in the future nor before the parrainage
    started.
    """
    parrainage = _lock(parrainage)
    _check_tick(actor, parrainage, step)
    today = today or timezone.localdate()
    if not isinstance(done_on, date):
        raise ParrainageError(_("Indiquez la date à laquelle l'étape a été faite."))
    if done_on > today:
        raise ParrainageError(_("La date ne peut pas être dans le futur."))
    if parrainage.started_on and done_on < parrainage.started_on:
        raise ParrainageError(_("La date ne peut pas précéder le début du parrainage (%(date)s).")
                              % {"date": parrainage.started_on.strftime("%d/%m/%Y")})
    done, _created = OnboardingStep.objects.update_or_create(
        parrainage=parrainage, step=step, defaults={"done_on": done_on, "done_by": actor}
    )
    return done


@transaction.atomic
def untick(actor, parrainage: Parrainage | int, step: str) -> bool:
    """Un-tick an onboarding step ticked by mistake; returns whether it was ticked."""
    parrainage = _lock(parrainage)
    _check_tick(actor, parrainage, step)
    deleted, _details = OnboardingStep.objects.filter(parrainage=parrainage, step=step).delete()
    return bool(deleted)
