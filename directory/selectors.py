"""Reads of the directory, with the access rules of `directory.access` applied.

Every function here builds its querysets with select_related/prefetch_related so that the number
of queries of a page does not grow with the number of associations or people shown. Views call
these functions and never filter by status or visibility themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from django.db.models import Prefetch, Q, QuerySet

from directory import access
from directory.models import (
    Association,
    CourDAppel,
    Juridiction,
    Region,
    RoleAssignment,
    Theme,
    User,
)

# --- Filters of the association list --------------------------------------------------------------


@dataclass(frozen=True)
class AssociationFilters:
    """Validated filters of the association list (see directory.forms.AssociationFilterForm).

    Values are slugs (region, cour, juridiction, theme), a size band and free text; empty means
    "no filter". A well-formed slug that names nothing simply matches no association.
    """

    region: str = ""
    cour: str = ""
    juridiction: str = ""
    theme: str = ""
    taille: str = ""
    q: str = ""


def _visible_associations(user) -> QuerySet[Association]:
    return Association.objects.filter(status__in=access.visible_association_statuses(user))


def _serving_cour(cour_ids) -> QuerySet[Association]:
    """Associations acting on a cour d'appel: on the cour as a whole or on one of its juridictions."""
    return Association.objects.filter(Q(cours__in=cour_ids) | Q(juridictions__cour__in=cour_ids)).values("pk")


def _serving_juridiction(juridiction_ids) -> Q:
    """Associations acting on a juridiction.

    Either the juridiction is listed in their coverage, or they cover its whole cour d'appel: the
    cour is listed but none of its juridictions is (see services.set_coverage, `extra_cours`).
    """
    cour_ids = Juridiction.objects.filter(pk__in=juridiction_ids).values("cour_id")
    whole_cour = (
        Association.objects.filter(cours__in=cour_ids).exclude(juridictions__cour__in=cour_ids).values("pk")
    )
    direct = Association.objects.filter(juridictions__in=juridiction_ids).values("pk")
    return Q(pk__in=direct) | Q(pk__in=whole_cour)


def _text_condition(text: str) -> Q:
    """Every word must appear in the name, city, département, postal code or description."""
    condition = Q()
    for word in text.split():
        condition &= (
            Q(name__icontains=word)
            | Q(city__icontains=word)
            | Q(departement__iexact=word)
            | Q(postal_code__startswith=word)
            | Q(description__icontains=word)
        )
    return condition


def associations_for(user, filters: AssociationFilters | None = None) -> QuerySet[Association]:
    """The associations `user` may see, filtered, ordered by name, ready for the list page.

    Many-to-many filters go through `pk__in` subqueries so that no row is duplicated and no
    DISTINCT is needed, whatever the combination of filters.
    """
    filters = filters or AssociationFilters()
    qs = _visible_associations(user)
    if filters.region:
        qs = qs.filter(region__slug=filters.region)
    if filters.cour:
        qs = qs.filter(pk__in=_serving_cour(CourDAppel.objects.filter(slug=filters.cour).values("pk")))
    if filters.juridiction:
        qs = qs.filter(_serving_juridiction(Juridiction.objects.filter(slug=filters.juridiction).values("pk")))
    if filters.theme:
        qs = qs.filter(pk__in=Association.objects.filter(themes__slug=filters.theme).values("pk"))
    if filters.taille:
        qs = qs.filter(size_band=filters.taille)
    if filters.q:
        qs = qs.filter(_text_condition(filters.q))
    return (
        qs.select_related("region")
        .prefetch_related(
            Prefetch("cours", queryset=CourDAppel.objects.order_by("name")),
            Prefetch("themes", queryset=Theme.objects.order_by("kind", "name")),
        )
        .order_by("name", "pk")
    )


# --- Choices for the filter forms ----------------------------------------------------------------


@dataclass(frozen=True)
class FilterChoices:
    """Reference rows the filter forms offer, each list loaded with one query."""

    regions: list[Region]
    cours: list[CourDAppel]
    juridictions: list[Juridiction]
    themes: list[Theme]


def filter_choices() -> FilterChoices:
    return FilterChoices(
        regions=list(Region.objects.order_by("name")),
        cours=list(CourDAppel.objects.select_related("region").order_by("region__name", "name")),
        juridictions=list(Juridiction.objects.select_related("cour").order_by("cour__name", "name")),
        themes=list(Theme.objects.order_by("kind", "name")),
    )


# --- Association page -----------------------------------------------------------------------------


@dataclass
class PersonRow:
    """A person as shown on an association page: roles loaded, contact shown only if allowed."""

    person: User
    roles: list[RoleAssignment]
    show_contact: bool


@dataclass
class AssociationDetail:
    association: Association
    juridictions: list[Juridiction]
    cours: list[CourDAppel]
    themes: list[Theme]
    measures: list[Theme]
    people: list[PersonRow]
    # Filled by the parrainage app's section (see AssociationSection below); empty without it.
    parrains: list[Association] = field(default_factory=list)
    filleuls: list[Association] = field(default_factory=list)
    parrain_links: list = field(default_factory=list)
    filleul_links: list = field(default_factory=list)


class AssociationSection(Protocol):
    """What an app above the directory adds to an association's page: the prefetches it needs on
    the association's query (so the page keeps a fixed number of queries) and how it fills the
    page's detail from them. Parrainage registers one (parrainage.selectors.SponsorshipSection)
    from its AppConfig.ready(); the directory imports none of those apps."""

    def prefetches(self) -> list[Prefetch]: ...

    def fill(self, user, association: Association, detail: AssociationDetail) -> None: ...


_sections: list[AssociationSection] = []


def add_association_section(section: AssociationSection) -> None:
    """Registering an equal section twice keeps one."""
    if section not in _sections:
        _sections.append(section)


def _people_prefetch(user) -> Prefetch:
    """An association's people whom `user` may see (access.visible_people), with their roles."""
    return Prefetch(
        "people",
        queryset=access.visible_people(user).order_by("last_name", "first_name", "username").prefetch_related(
            Prefetch(
                "role_assignments",
                queryset=RoleAssignment.objects.select_related("region", "theme", "working_group").order_by("role"),
            )
        ),
    )


def association_detail(user, slug: str) -> AssociationDetail | None:
    """An association with everything its page shows, or None if unknown or not visible to `user`."""
    association = (
        Association.objects.select_related("region")
        .prefetch_related(
            Prefetch("juridictions", queryset=Juridiction.objects.select_related("cour").order_by("name")),
            Prefetch("cours", queryset=CourDAppel.objects.order_by("name")),
            Prefetch("themes", queryset=Theme.objects.order_by("name")),
            _people_prefetch(user),
            *(prefetch for section in _sections for prefetch in section.prefetches()),
        )
        .filter(slug=slug)
        .first()
    )
    if association is None or not access.can_view_association(user, association):
        return None
    themes = list(association.themes.all())
    people = [
        PersonRow(
            person=person,
            roles=list(person.role_assignments.all()),
            show_contact=access.can_view_contact(user, person),
        )
        for person in association.people.all()
    ]
    detail = AssociationDetail(
        association=association,
        juridictions=list(association.juridictions.all()),
        cours=list(association.cours.all()),
        themes=[t for t in themes if t.kind == Theme.Kind.THEME],
        measures=[t for t in themes if t.kind == Theme.Kind.MEASURE],
        people=people,
    )
    for section in _sections:
        section.fill(user, association, detail)
    return detail


# --- Person page ----------------------------------------------------------------------------------


@dataclass
class PersonDetail:
    person: User
    roles: list[RoleAssignment]
    expertise: list[Theme]
    show_contact: bool
    association_visible: bool


def person_detail(user, username: str) -> PersonDetail | None:
    """A person with roles and expertise, or None if unknown or not visible to `user`."""
    person = (
        User.objects.select_related("association__region")
        .prefetch_related(
            Prefetch(
                "role_assignments",
                queryset=RoleAssignment.objects.select_related("region", "theme", "working_group").order_by("role"),
            ),
            Prefetch("expertise", queryset=Theme.objects.order_by("name")),
        )
        .filter(username=username)
        .first()
    )
    if person is None or not access.can_view_person(user, person):
        return None
    return PersonDetail(
        person=person,
        roles=list(person.role_assignments.all()),
        expertise=list(person.expertise.all()),
        show_contact=access.can_view_contact(user, person),
        association_visible=bool(person.association and access.can_view_association(user, person.association)),
    )


# --- Offre par juridiction (fiche I.5) ------------------------------------------------------------


@dataclass
class OfferRow:
    association: Association
    offers: list[bool]  # one per measure of OfferTable.measures, in the same order


@dataclass
class OfferTable:
    """Which member associations offer which measures on a juridiction or a cour d'appel."""

    juridiction: Juridiction | None
    cour: CourDAppel | None
    measures: list[Theme]
    rows: list[OfferRow]
    totals: list[int] = field(default_factory=list)  # associations per measure

    @property
    def place(self) -> Juridiction | CourDAppel | None:
        return self.juridiction or self.cour

    @property
    def found(self) -> bool:
        return self.place is not None


def offer_by_juridiction(user, juridiction: str = "", cour: str = "") -> OfferTable:
    """The measures × associations table for a juridiction (by slug) or, failing that, a cour d'appel.

    Associations acting on the whole cour of a juridiction count for that juridiction. Candidates
    are left out for everyone: the offer is the network's, i.e. its member associations'.
    An unknown slug gives an empty table with `found` false.
    """
    measures = list(Theme.objects.filter(kind=Theme.Kind.MEASURE).order_by("name"))
    place_juridiction = place_cour = None
    if juridiction:
        place_juridiction = Juridiction.objects.select_related("cour__region").filter(slug=juridiction).first()
    elif cour:
        place_cour = CourDAppel.objects.select_related("region").filter(slug=cour).first()
    if place_juridiction is None and place_cour is None:
        return OfferTable(juridiction=None, cour=None, measures=measures, rows=[], totals=[0] * len(measures))

    statuses = [s for s in access.visible_association_statuses(user) if s == Association.Status.MEMBER]
    qs = Association.objects.filter(status__in=statuses)
    if place_juridiction is not None:
        qs = qs.filter(_serving_juridiction([place_juridiction.pk]))
    else:
        qs = qs.filter(pk__in=_serving_cour([place_cour.pk]))
    associations = list(
        qs.select_related("region")
        .prefetch_related(Prefetch("themes", queryset=Theme.objects.filter(kind=Theme.Kind.MEASURE)))
        .order_by("name", "pk")
    )
    rows = []
    for association in associations:
        offered = {t.pk for t in association.themes.all()}
        rows.append(OfferRow(association=association, offers=[m.pk in offered for m in measures]))
    totals = [sum(1 for row in rows if row.offers[i]) for i in range(len(measures))]
    return OfferTable(juridiction=place_juridiction, cour=place_cour, measures=measures, rows=rows, totals=totals)


# --- Home page and landing ------------------------------------------------------------------------


def network_stats() -> dict:
    """Public figures of the network for the landing page."""
    members = Association.objects.filter(status=Association.Status.MEMBER)
    return {
        "associations": members.count(),
        "cours": CourDAppel.objects.filter(
            Q(associations__in=members) | Q(juridictions__associations__in=members)
        ).distinct().count(),
        "regions": Region.objects.filter(associations__in=members).distinct().count(),
        "people": User.objects.filter(is_active=True, association__in=members).count(),
    }


def recently_admitted(limit: int = 5) -> list[Association]:
    return list(
        Association.objects.filter(status=Association.Status.MEMBER, admitted_on__isnull=False)
        .select_related("region")
        .order_by("-admitted_on", "name")[:limit]
    )
