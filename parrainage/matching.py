"""Parrain matching (issue 7, fiche II.6): which member associations could sponsor a new one, and why.

`propose_sponsors` reads the database and writes nothing. It is deterministic: the same rows and the
same `today` give the same proposals, in the same order, with the same reasons, whatever the
database's own ordering. Its number of queries does not depend on the number of candidates.

Who may be proposed (every rule must hold):
- a member association (neither a candidate nor a former member), volunteering to sponsor
  (`willing_to_sponsor`), other than the filleul and not in `exclude_ids` (those who declined);
- not sponsored itself at the moment: an association still being welcomed does not welcome others
  (this also leaves out the filleul's own filleuls);
- under the cap: its active filleuls plus the proposals awaiting its answer are fewer than
  `settings.PARRAINAGE_MAX_FILLEULS` (a pending proposal holds a place until it is answered).

How a candidate scores (the weights below; reasons in words, in this order):
- same cour d'appel as the filleul (strong), same region (medium);
- measures and themes in common, a few points each, capped;
- size band: the same, or the next one up or down;
- experience: one point per full year of membership, capped;
- availability: more points the fewer filleuls it has now.
Ties go to the name (case and accents ignored), then to the primary key.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from directory.models import Association, CourDAppel, SizeBand, Theme
from parrainage.models import Parrainage

COUR_POINTS = 40
REGION_POINTS = 20
SHARED_THEME_POINTS = 5
SHARED_THEMES_MAX_POINTS = 25
SAME_SIZE_POINTS = 10
ADJACENT_SIZE_POINTS = 5
POINTS_PER_YEAR = 1
EXPERIENCE_MAX_POINTS = 10
AVAILABILITY_MAX_POINTS = 10

SIZE_ORDER: list[str] = [SizeBand.SMALL, SizeBand.MEDIUM, SizeBand.LARGE, SizeBand.XLARGE]


@dataclass(frozen=True)
class Proposal:
    """A possible parrain for a filleul: its score and the reasons, as French sentences."""

    association: Association
    score: int
    reasons: list[str] = field(default_factory=list)


def max_filleuls() -> int:
    return int(getattr(settings, "PARRAINAGE_MAX_FILLEULS", 2))


def fold(text: str) -> str:
    """Lower case without diacritics, for a stable alphabetical order ("Éthique" sorts with "ethique")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def full_years(since: date, today: date) -> int:
    """Whole years from `since` to `today` (0 if `since` is later)."""
    years = today.year - since.year - ((today.month, today.day) < (since.month, since.day))
    return max(years, 0)


def _band_label(band: str) -> str:
    label = str(SizeBand(band).label)
    return label[:1].lower() + label[1:]


def _names(items: Iterable[str]) -> str:
    return ", ".join(sorted(items, key=fold))


def _cour_ids(association_ids: Iterable[int]) -> dict[int, set[int]]:
    """Cours d'appel served by each association: listed as such, or through one of its juridictions."""
    ids = list(association_ids)
    result: dict[int, set[int]] = defaultdict(set)
    through = Association.cours.through.objects.filter(association_id__in=ids)
    for association_id, cour_id in through.values_list("association_id", "courdappel_id"):
        result[association_id].add(cour_id)
    by_juridiction = Association.juridictions.through.objects.filter(association_id__in=ids)
    for association_id, cour_id in by_juridiction.values_list("association_id", "juridiction__cour_id"):
        result[association_id].add(cour_id)
    return result


def _theme_ids(association_ids: Iterable[int]) -> dict[int, set[int]]:
    result: dict[int, set[int]] = defaultdict(set)
    through = Association.themes.through.objects.filter(association_id__in=list(association_ids))
    for association_id, theme_id in through.values_list("association_id", "theme_id"):
        result[association_id].add(theme_id)
    return result


def eligible_sponsors(filleul: Association, exclude_ids: Iterable[int] = ()):
    """Member associations that may be proposed to `filleul`, with `active_filleuls` and
    `pending_proposals` counted, before the cap is applied."""
    sponsored_now = Parrainage.objects.filter(status=Parrainage.Status.ACTIVE)
    return (
        Association.objects.filter(status=Association.Status.MEMBER, willing_to_sponsor=True)
        .exclude(pk=filleul.pk)
        .exclude(pk__in=[pk for pk in exclude_ids if pk is not None])
        .exclude(pk__in=sponsored_now.values("filleul_id"))
        .select_related("region")
        .annotate(
            active_filleuls=Count("parrainages_given", filter=Q(parrainages_given__status=Parrainage.Status.ACTIVE)),
            pending_proposals=Count(
                "parrainages_given", filter=Q(parrainages_given__status=Parrainage.Status.PROPOSED)
            ),
        )
    )


def _availability(active: int, pending: int, cap: int) -> tuple[int, str]:
    points = AVAILABILITY_MAX_POINTS * max(cap - active - pending, 0) // cap
    if active == 0:
        text = _("Aucun filleul en cours")
    else:
        text = ngettext("%(count)d filleul en cours", "%(count)d filleuls en cours", active) % {"count": active}
    if pending:
        text += ", " + ngettext(
            "%(count)d proposition en attente", "%(count)d propositions en attente", pending
        ) % {"count": pending}
    return points, text


def propose_sponsors(
    filleul: Association,
    *,
    exclude_ids: Iterable[int] = (),
    limit: int | None = 3,
    today: date | None = None,
) -> list[Proposal]:
    """The best sponsors for `filleul`, best first: at most `limit` of them (all if `limit` is None).

    `exclude_ids`: associations never to propose (the parrains that already declined this filleul).
    `today` fixes the date the years of membership are counted to (default: today).
    """
    today = today or timezone.localdate()
    cap = max_filleuls()
    if cap < 1 or (limit is not None and limit < 1):
        return []
    candidates = [
        a for a in eligible_sponsors(filleul, exclude_ids) if a.active_filleuls + a.pending_proposals < cap
    ]
    if not candidates:
        return []
    ids = [filleul.pk] + [a.pk for a in candidates]
    cours_of = _cour_ids(ids)
    themes_of = _theme_ids(ids)
    filleul_cours = cours_of.get(filleul.pk, set())
    filleul_themes = themes_of.get(filleul.pk, set())
    cour_names = dict(CourDAppel.objects.filter(pk__in=filleul_cours).values_list("pk", "name"))
    themes = {t.pk: t for t in Theme.objects.filter(pk__in=filleul_themes)}
    region_name = filleul.region.name if filleul.region_id else ""
    filleul_band = SIZE_ORDER.index(SizeBand.for_staff_count(filleul.staff_count))

    proposals = []
    for candidate in candidates:
        score, reasons = 0, []
        common_cours = filleul_cours & cours_of.get(candidate.pk, set())
        if common_cours:
            score += COUR_POINTS
            names = _names(cour_names[pk] for pk in common_cours)
            if len(common_cours) == 1:
                reasons.append(_("Même cour d'appel (%(names)s)") % {"names": names})
            else:
                reasons.append(_("Mêmes cours d'appel (%(names)s)") % {"names": names})
        if filleul.region_id and candidate.region_id == filleul.region_id:
            score += REGION_POINTS
            reasons.append(_("Même région (%(name)s)") % {"name": region_name})

        common_themes = [themes[pk] for pk in filleul_themes & themes_of.get(candidate.pk, set())]
        if common_themes:
            score += min(SHARED_THEME_POINTS * len(common_themes), SHARED_THEMES_MAX_POINTS)
            measures = [t.name for t in common_themes if t.kind == Theme.Kind.MEASURE]
            topics = [t.name for t in common_themes if t.kind != Theme.Kind.MEASURE]
            if measures:
                reasons.append(ngettext(
                    "%(count)d mesure en commun : %(names)s", "%(count)d mesures en commun : %(names)s", len(measures)
                ) % {"count": len(measures), "names": _names(measures)})
            if topics:
                reasons.append(ngettext(
                    "%(count)d thématique en commun : %(names)s", "%(count)d thématiques en commun : %(names)s",
                    len(topics),
                ) % {"count": len(topics), "names": _names(topics)})

        candidate_band = SIZE_ORDER.index(SizeBand.for_staff_count(candidate.staff_count))
        if candidate_band == filleul_band:
            score += SAME_SIZE_POINTS
            reasons.append(_("Taille comparable (%(band)s)") % {"band": _band_label(SIZE_ORDER[candidate_band])})
        elif abs(candidate_band - filleul_band) == 1:
            score += ADJACENT_SIZE_POINTS
            reasons.append(_("Taille proche (%(band)s)") % {"band": _band_label(SIZE_ORDER[candidate_band])})

        if candidate.admitted_on is not None:
            years = full_years(candidate.admitted_on, today)
            score += min(POINTS_PER_YEAR * years, EXPERIENCE_MAX_POINTS)
            if years >= 1:
                reasons.append(ngettext("Adhérente depuis %(years)d an", "Adhérente depuis %(years)d ans", years)
                               % {"years": years})
            else:
                reasons.append(_("Adhérente depuis moins d'un an"))

        points, text = _availability(candidate.active_filleuls, candidate.pending_proposals, cap)
        score += points
        reasons.append(text)
        proposals.append(Proposal(association=candidate, score=score, reasons=reasons))

    proposals.sort(key=lambda p: (-p.score, fold(p.association.name), p.association.pk))
    return proposals if limit is None else proposals[:limit]
