"""Parrain matching on constructed cases: who may be proposed, in which order, with which reasons."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from directory.models import Association
from parrainage import matching
from parrainage import services as journey
from parrainage.models import Parrainage
from tests.factories import AssociationFactory, Role, RoleSpec, juridiction, make_person, region, theme

TODAY = date(2025, 9, 15)
CJSE = "controle-judiciaire-socio-educatif-cjse"
MEDIATION = "mediation-penale"
ETHIQUE = "ethique"

pytestmark = pytest.mark.django_db


def years_ago(years: int) -> date:
    return TODAY.replace(year=TODAY.year - years)


def sponsor(name: str, *, jur: str = "tj-bordeaux", region_slug: str = "sud-ouest", staff: int = 8,
            themes: tuple[str, ...] = (), years: int | None = 10, willing: bool = True,
            status: str = Association.Status.MEMBER) -> Association:
    return AssociationFactory(
        name=name, region=region(region_slug), juridictions=[juridiction(jur)], staff_count=staff,
        themes=[theme(slug) for slug in themes], admitted_on=years_ago(years) if years is not None else None,
        willing_to_sponsor=willing, status=status,
    )


@pytest.fixture
def filleul(db):
    """A small association newly admitted in the Gironde (cour d'appel de Bordeaux, Sud-Ouest)."""
    return AssociationFactory(
        name="Nouvelle Association du Libournais", region=region("sud-ouest"),
        juridictions=[juridiction("tj-libourne")],
        staff_count=6, themes=[theme(CJSE), theme(MEDIATION), theme(ETHIQUE)], admitted_on=date(2025, 8, 1),
    )


def names(proposals) -> list[str]:
    return [p.association.name for p in proposals]


def propose(filleul, **kwargs):
    kwargs.setdefault("today", TODAY)
    return matching.propose_sponsors(filleul, **kwargs)


def test_same_cour_d_appel_beats_same_region(filleul):
    # Names sort the other way round: only the score puts the same cour first.
    sponsor("Alpha Palois", jur="tj-pau")  # same region (Sud-Ouest), cour de Pau
    sponsor("Zeste Bordelais", jur="tj-bordeaux")  # same cour as Libourne
    proposals = propose(filleul)
    assert names(proposals) == ["Zeste Bordelais", "Alpha Palois"]
    assert proposals[0].score - proposals[1].score == matching.COUR_POINTS
    assert "Même cour d'appel (Bordeaux)" in proposals[0].reasons
    assert not any(reason.startswith("Même cour") for reason in proposals[1].reasons)


def test_same_region_beats_another_region(filleul):
    sponsor("Alpha Lillois", jur="tj-lille", region_slug="nord-est")
    sponsor("Zeste Palois", jur="tj-pau")
    proposals = propose(filleul)
    assert names(proposals) == ["Zeste Palois", "Alpha Lillois"]
    assert proposals[0].score - proposals[1].score == matching.REGION_POINTS
    assert "Même région (Sud-Ouest)" in proposals[0].reasons


def test_reasons_are_french_sentences_and_the_score_adds_them_up(filleul):
    sponsor("Relais Bordelais", themes=(CJSE, MEDIATION, ETHIQUE, "hebergement"), staff=8, years=12)
    [proposal] = propose(filleul)
    assert proposal.reasons == [
        "Même cour d'appel (Bordeaux)",
        "Même région (Sud-Ouest)",
        "2 mesures en commun : Contrôle judiciaire socio-éducatif (CJSE), Médiation pénale",
        "1 thématique en commun : Éthique",
        "Taille comparable (moins de 10 salarié·es)",
        "Adhérente depuis 12 ans",
        "Aucun filleul en cours",
    ]
    assert proposal.score == 40 + 20 + 3 * 5 + 10 + 10 + 10


def test_themes_in_common_are_capped(filleul):
    many = ("hebergement", "financement", "pre-sentenciel", "post-sentenciel", "sante-et-addictions",
            "enquetes-sociales-rapides")
    filleul.themes.add(*[theme(slug) for slug in many])
    rich = sponsor("Relais Riche", themes=(CJSE, MEDIATION, ETHIQUE, *many))
    plain = sponsor("Relais Simple", themes=(CJSE, MEDIATION, ETHIQUE, "hebergement", "financement"))
    scores = {p.association: p.score for p in propose(filleul)}
    assert scores[rich] == scores[plain]  # 9 and 5 themes in common: both at the cap
    assert "3 mesures en commun" in " ".join(p.reasons[2] for p in propose(filleul) if p.association == rich)


def test_a_similar_size_counts_and_the_next_band_counts_less(filleul):
    same = sponsor("Taille Même", staff=9)
    next_band = sponsor("Taille Voisine", staff=30)
    far = sponsor("Taille Lointaine", staff=200)
    by = {p.association: p for p in propose(filleul, limit=None)}
    assert by[same].score - by[next_band].score == matching.SAME_SIZE_POINTS - matching.ADJACENT_SIZE_POINTS
    assert by[next_band].score - by[far].score == matching.ADJACENT_SIZE_POINTS
    assert "Taille proche (10 à 49 salarié·es)" in by[next_band].reasons
    assert not any(r.startswith("Taille") for r in by[far].reasons)


@pytest.mark.parametrize(("years", "points", "reason"), [
    (1, 1, "Adhérente depuis 1 an"),
    (12, 10, "Adhérente depuis 12 ans"),  # capped at ten points
    (30, 10, "Adhérente depuis 30 ans"),
])
def test_experience_counts_full_years_of_membership_up_to_a_cap(filleul, years, points, reason):
    sponsor("Relais Ancien", years=years)
    sponsor("Relais Sans Date", years=None)
    by = {p.association.name: p for p in propose(filleul)}
    assert by["Relais Ancien"].score - by["Relais Sans Date"].score == points
    assert reason in by["Relais Ancien"].reasons
    assert not any(r.startswith("Adhérente") for r in by["Relais Sans Date"].reasons)


def test_fewer_filleuls_means_more_available(filleul):
    busy = sponsor("Relais Occupé")
    free = sponsor("Relais Libre")
    journey.start_parrainage(busy, AssociationFactory(name="Première filleule"))
    by = {p.association: p for p in propose(filleul)}
    assert by[free].score - by[busy].score == matching.AVAILABILITY_MAX_POINTS // 2
    assert "Aucun filleul en cours" in by[free].reasons
    assert "1 filleul en cours" in by[busy].reasons


def test_a_parrain_at_the_cap_is_not_proposed(filleul, settings):
    settings.PARRAINAGE_MAX_FILLEULS = 2
    full = sponsor("Relais Complet")
    one = sponsor("Relais À Un Filleul")
    journey.start_parrainage(full, AssociationFactory(name="Filleule A"))
    journey.start_parrainage(full, AssociationFactory(name="Filleule B"))
    journey.start_parrainage(one, AssociationFactory(name="Filleule C"))
    assert names(propose(filleul)) == ["Relais À Un Filleul"]
    settings.PARRAINAGE_MAX_FILLEULS = 1
    assert propose(filleul) == []


def test_a_proposal_awaiting_an_answer_holds_a_place_under_the_cap(filleul, settings, staff):
    settings.PARRAINAGE_MAX_FILLEULS = 1
    asked = sponsor("Relais Sollicité")
    other_newcomer = AssociationFactory(name="Autre nouvelle adhérente")
    journey.choose_parrain(staff, other_newcomer, asked, today=TODAY)
    assert propose(filleul) == []
    settings.PARRAINAGE_MAX_FILLEULS = 2
    [proposal] = propose(filleul)
    assert proposal.reasons[-1] == "Aucun filleul en cours, 1 proposition en attente"


def test_unwilling_associations_are_not_proposed(filleul):
    sponsor("Relais Réticent", willing=False)
    assert propose(filleul) == []


@pytest.mark.parametrize("status", [Association.Status.CANDIDATE, Association.Status.FORMER])
def test_candidates_and_former_members_are_not_proposed(filleul, status):
    sponsor("Relais Pas Adhérent", status=status)
    assert propose(filleul) == []


def test_the_filleul_itself_and_associations_being_sponsored_are_not_proposed(filleul):
    filleul.willing_to_sponsor = True
    filleul.save()
    still_welcomed = sponsor("Relais Encore Parrainé")
    journey.start_parrainage(sponsor("Relais Marraine", willing=False), still_welcomed)
    assert propose(filleul) == []


def test_excluded_associations_are_left_out(filleul):
    declined = sponsor("Relais Qui A Décliné")
    sponsor("Relais Suivant", jur="tj-pau")
    assert names(propose(filleul)) == ["Relais Qui A Décliné", "Relais Suivant"]
    assert names(propose(filleul, exclude_ids=[declined.pk])) == ["Relais Suivant"]


def test_parrains_who_declined_are_never_proposed_again(filleul, staff):
    first = sponsor("Relais Premier")
    sponsor("Relais Deuxième", jur="tj-pau")
    director = make_person("dir.premier", association=first, roles=[RoleSpec(Role.DIRECTOR)])
    proposal = journey.choose_parrain(staff, filleul, first, today=TODAY)
    journey.respond(director, proposal, accept=False, reason="Pas disponible cette année.")
    assert names(journey.next_proposals(filleul, today=TODAY)) == ["Relais Deuxième"]


def test_ties_are_broken_by_name_then_primary_key(filleul):
    beta = sponsor("Beta Justice")
    alpha = sponsor("Alpha Justice")
    alpha_again = AssociationFactory(  # same name, another slug, created after: larger primary key
        name="Alpha Justice", slug="alpha-justice-bis", region=region("sud-ouest"),
        juridictions=[juridiction("tj-bordeaux")], staff_count=8, admitted_on=years_ago(10), willing_to_sponsor=True,
    )
    eole = sponsor("Éole Médiation")
    proposals = propose(filleul, limit=None)
    assert len({p.score for p in proposals}) == 1
    assert [p.association for p in proposals] == [alpha, alpha_again, beta, eole]
    assert propose(filleul, limit=None) == proposals


def test_at_most_three_proposals_by_default(filleul):
    for index in range(5):
        sponsor(f"Relais {index}")
    assert len(propose(filleul)) == 3
    assert len(propose(filleul, limit=None)) == 5
    assert propose(filleul, limit=0) == []


def test_the_number_of_queries_does_not_grow_with_the_candidates(filleul):
    for index in range(2):
        sponsor(f"Relais {index}", themes=(CJSE,))
    with CaptureQueriesContext(connection) as few:
        propose(filleul)
    for index in range(2, 12):
        sponsor(f"Relais {index}", themes=(CJSE, MEDIATION), jur="tj-pau")
    with CaptureQueriesContext(connection) as many:
        propose(filleul)
    assert len(many) == len(few)


def test_finished_parrainages_do_not_count_against_availability(filleul):
    veteran = sponsor("Relais Expérimenté")
    old = journey.start_parrainage(veteran, AssociationFactory(name="Ancienne filleule"))
    Parrainage.objects.filter(pk=old.pk).update(status=Parrainage.Status.ENDED)
    [proposal] = propose(filleul)
    assert proposal.reasons[-1] == "Aucun filleul en cours"
