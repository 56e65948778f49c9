"""Directory pages: filters, bad input, visibility, contacts, query counts."""

import datetime
import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from directory import services
from directory.models import Association, CourDAppel
from parrainage import services as parrainage_services
from tests.factories import AssociationFactory, Role, RoleSpec, cour, juridiction, make_person, region, theme

LIST_URL = reverse("directory:association-list")
OFFER_URL = reverse("directory:offer")

CJSE = "controle-judiciaire-socio-educatif-cjse"
MEDIATION = "mediation-penale"


def text(response) -> str:
    """The page's HTML with entities decoded, to compare with French text holding apostrophes."""
    return html.unescape(response.content.decode())


def names(response) -> list[str]:
    return [a.name for a in response.context["associations"]]


@pytest.fixture
def network(db):
    """Three member associations in two regions, with coverage and measures, and one candidate."""
    bordeaux = AssociationFactory(
        name="Association Bordelaise", city="Bordeaux", departement="33", staff_count=30,
        juridictions=[juridiction("tj-bordeaux"), juridiction("tj-libourne")], themes=[theme(CJSE), theme(MEDIATION)],
        description="Contrôle judiciaire et enquêtes rapides.",
    )
    pau = AssociationFactory(
        name="Relais Béarnais", city="Pau", departement="64", staff_count=5,
        juridictions=[juridiction("tj-pau")], themes=[theme(MEDIATION)],
    )
    lille = AssociationFactory(
        name="Association Lilloise", city="Lille", departement="59", region=region("nord-est"), staff_count=200,
        juridictions=[juridiction("tj-lille")], themes=[theme(CJSE)],
    )
    candidate = AssociationFactory(
        name="Candidate Girondine", city="Arcachon", departement="33", status=Association.Status.CANDIDATE,
        juridictions=[juridiction("tj-bordeaux")], themes=[theme(CJSE)],
    )
    return {"bordeaux": bordeaux, "pau": pau, "lille": lille, "candidate": candidate}


@pytest.fixture
def viewer(network, client):
    person = make_person("lecteur.test", association=network["bordeaux"], roles=[RoleSpec(Role.MEMBER)])
    client.force_login(person)
    return person


# --- Association list: filters ---------------------------------------------------------------------


def test_list_shows_member_associations_sorted_by_name(client, viewer, network):
    response = client.get(LIST_URL)
    assert response.status_code == 200
    assert names(response) == ["Association Bordelaise", "Association Lilloise", "Relais Béarnais"]
    assert response.context["result_count"] == 3


def test_list_hides_candidate_associations_from_plain_members(client, viewer, network):
    response = client.get(LIST_URL)
    assert "Candidate Girondine" not in names(response)
    assert client.get(LIST_URL, {"q": "Girondine"}).context["result_count"] == 0


def test_list_shows_candidate_associations_to_federal_staff(client, staff, network):
    client.force_login(staff)
    assert "Candidate Girondine" in names(client.get(LIST_URL))


def test_list_shows_candidate_associations_to_the_membership_commission(client, network):
    commission = make_person("commission.test", association=network["pau"],
                             roles=[RoleSpec(Role.MEMBERSHIP_COMMISSION)])
    client.force_login(commission)
    assert "Candidate Girondine" in names(client.get(LIST_URL))


def test_list_shows_former_members(client, viewer):
    AssociationFactory(name="Ancienne Association", status=Association.Status.FORMER)
    assert "Ancienne Association" in names(client.get(LIST_URL))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"region": "sud-ouest"}, ["Association Bordelaise", "Relais Béarnais"]),
        ({"region": "nord-est"}, ["Association Lilloise"]),
        ({"cour": "bordeaux"}, ["Association Bordelaise"]),
        ({"cour": "pau"}, ["Relais Béarnais"]),
        ({"juridiction": "tj-libourne"}, ["Association Bordelaise"]),
        ({"juridiction": "tj-lille"}, ["Association Lilloise"]),
        ({"theme": MEDIATION}, ["Association Bordelaise", "Relais Béarnais"]),
        ({"theme": CJSE}, ["Association Bordelaise", "Association Lilloise"]),
        ({"taille": "small"}, ["Relais Béarnais"]),
        ({"taille": "medium"}, ["Association Bordelaise"]),
        ({"taille": "xlarge"}, ["Association Lilloise"]),
        ({"q": "lilloise"}, ["Association Lilloise"]),
        ({"q": "Pau"}, ["Relais Béarnais"]),
        ({"q": "64"}, ["Relais Béarnais"]),
        ({"q": "enquêtes rapides"}, ["Association Bordelaise"]),
        ({"q": "  "}, ["Association Bordelaise", "Association Lilloise", "Relais Béarnais"]),
    ],
)
def test_each_filter_narrows_the_list(client, viewer, params, expected):
    response = client.get(LIST_URL, params)
    assert response.status_code == 200
    assert names(response) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"region": "sud-ouest", "theme": MEDIATION, "taille": "small"}, ["Relais Béarnais"]),
        ({"region": "sud-ouest", "theme": CJSE}, ["Association Bordelaise"]),
        ({"cour": "bordeaux", "juridiction": "tj-bordeaux", "q": "bordelaise"}, ["Association Bordelaise"]),
        ({"region": "nord-est", "theme": MEDIATION}, []),
        ({"cour": "douai", "taille": "xlarge", "theme": CJSE}, ["Association Lilloise"]),
    ],
)
def test_filters_combine(client, viewer, params, expected):
    assert names(client.get(LIST_URL, params)) == expected


def test_an_association_covering_a_whole_cour_counts_for_each_of_its_juridictions(client, viewer):
    whole = AssociationFactory(name="Couverture Régionale")
    services.set_coverage(whole, [], extra_cours=[cour("agen")])
    assert names(client.get(LIST_URL, {"juridiction": "tj-auch"})) == ["Couverture Régionale"]
    assert names(client.get(LIST_URL, {"cour": "agen"})) == ["Couverture Régionale"]


def test_several_matching_joins_do_not_duplicate_an_association(client, viewer, network):
    # Two juridictions of the same cour: the cour filter must still list the association once.
    response = client.get(LIST_URL, {"cour": "bordeaux", "theme": CJSE})
    assert names(response) == ["Association Bordelaise"]
    assert response.context["result_count"] == 1


@pytest.mark.parametrize(
    "params",
    [
        {"region": "atlantide"},
        {"cour": "cour-inconnue"},
        {"juridiction": "tj-nulle-part"},
        {"theme": "astrologie"},
    ],
)
def test_a_well_formed_unknown_slug_gives_an_empty_result(client, viewer, params):
    response = client.get(LIST_URL, params)
    assert response.status_code == 200
    assert response.context["result_count"] == 0
    content = text(response)
    assert "Aucune association ne correspond à ces critères." in content
    assert "Aucune valeur connue ne correspond au filtre" in content


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"region": "Sud Ouest!"}, "identifiant valide"),
        ({"cour": "bordeaux/../x"}, "identifiant valide"),
        ({"juridiction": "tj-bordeaux'--"}, "identifiant valide"),
        ({"theme": "é" * 3}, "identifiant valide"),
        ({"region": "a" * 101}, "trop longue"),
        ({"q": "x" * 101}, "trop longue"),
        ({"q": "nul\x00"}, "Certains filtres ne sont pas valides"),
        ({"taille": "gigantesque"}, "Cette taille n'existe pas"),
    ],
)
def test_a_malformed_filter_answers_400_with_a_french_message(client, viewer, params, message):
    response = client.get(LIST_URL, params)
    assert response.status_code == 400
    content = text(response)
    assert "Certains filtres ne sont pas valides" in content
    assert message in content
    assert 'aria-invalid="true"' in content
    assert "<h1>Annuaire des associations</h1>" in content


@pytest.mark.parametrize("page", ["abc", "0", "-1", "2", "99", "1.5", "9" * 5000])
def test_a_bad_page_number_answers_400(client, viewer, page):
    response = client.get(LIST_URL, {"page": page})
    assert response.status_code == 400
    assert "Cette page de résultats n'existe pas" in text(response)


def test_the_list_is_paginated_and_pagination_links_keep_the_filters(client, viewer, settings):
    settings.DIRECTORY_PAGE_SIZE = 20
    for i in range(25):
        AssociationFactory(name=f"Structure {i:02d}", themes=[theme(MEDIATION)])
    # With the two matching associations of the network: 27 results, 20 then 7.
    first = client.get(LIST_URL, {"region": "sud-ouest", "theme": MEDIATION})
    assert first.context["result_count"] == 27
    assert len(first.context["associations"]) == 20
    content = text(first)
    assert "27 associations trouvées" in content
    assert f'href="?region=sud-ouest&theme={MEDIATION}&page=2"' in content

    second = client.get(LIST_URL, {"region": "sud-ouest", "theme": MEDIATION, "page": "2"})
    assert second.status_code == 200
    assert names(second) == [f"Structure {i:02d}" for i in range(18, 25)]
    assert f'href="?region=sud-ouest&theme={MEDIATION}&page=1"' in text(second)


def test_an_empty_page_parameter_means_the_first_page(client, viewer):
    assert client.get(LIST_URL, {"page": ""}).status_code == 200


def test_the_empty_list_on_page_one_is_not_an_error(client, viewer):
    response = client.get(LIST_URL, {"region": "outre-mer", "page": "1"})
    assert response.status_code == 200
    assert response.context["result_count"] == 0


# --- Association page --------------------------------------------------------------------------------


def detail_url(association) -> str:
    return reverse("directory:association-detail", kwargs={"slug": association.slug})


def test_association_page_shows_identity_coverage_measures_and_people(client, viewer, network):
    bordeaux = network["bordeaux"]
    bordeaux.website = "https://bordelaise.example.org"
    bordeaux.public_email = "accueil@bordelaise.example.org"
    bordeaux.save()
    director = make_person("dir.bordeaux", association=bordeaux, roles=[RoleSpec(Role.DIRECTOR)],
                           job_title="Directrice générale", first_name="Anne", last_name="Roux")
    response = client.get(detail_url(bordeaux))
    assert response.status_code == 200
    content = text(response)
    for expected in ["Association Bordelaise", "Tribunal judiciaire de Libourne", "Bordeaux", "Sud-Ouest",
                 "Contrôle judiciaire socio-éducatif (CJSE)", "Médiation pénale", "https://bordelaise.example.org",
                 "accueil@bordelaise.example.org", "10 à 49 salarié·es", "Anne Roux", "Directrice générale",
                 "Directeur ou directrice", director.get_absolute_url()]:
        assert expected in content
    detail = response.context["detail"]
    assert [m.slug for m in detail.measures] == [CJSE, MEDIATION]
    assert detail.themes == []


def test_association_page_separates_themes_from_measures(client, viewer, network):
    network["pau"].themes.add(theme("hebergement"))
    detail = client.get(detail_url(network["pau"])).context["detail"]
    assert [t.slug for t in detail.themes] == ["hebergement"]
    assert [m.slug for m in detail.measures] == [MEDIATION]


def test_association_page_lists_active_parrain_and_filleuls(client, viewer, network):
    parrainage_services.start_parrainage(network["bordeaux"], network["pau"], started_on=datetime.date(2024, 9, 1))
    parrain_page = client.get(detail_url(network["bordeaux"])).context["detail"]
    filleul_page = client.get(detail_url(network["pau"])).context["detail"]
    assert parrain_page.filleuls == [network["pau"]]
    assert filleul_page.parrains == [network["bordeaux"]]


def test_association_page_has_a_parrainage_empty_state(client, viewer, network):
    response = client.get(detail_url(network["lille"]))
    assert "Aucun parrainage en cours." in text(response)


def test_unknown_association_gives_404(client, viewer):
    response = client.get(reverse("directory:association-detail", kwargs={"slug": "nexiste-pas"}))
    assert response.status_code == 404
    assert "Page introuvable" in text(response)


def test_candidate_association_page_is_404_for_plain_members(client, viewer, network):
    assert client.get(detail_url(network["candidate"])).status_code == 404


def test_candidate_association_page_is_visible_to_staff(client, staff, network):
    client.force_login(staff)
    response = client.get(detail_url(network["candidate"]))
    assert response.status_code == 200
    assert "Candidate" in text(response)


# --- Contacts ---------------------------------------------------------------------------------------


@pytest.fixture
def discreet(network):
    return make_person("discrete.test", association=network["bordeaux"], roles=[RoleSpec(Role.MEMBER)],
                       phone="06 12 34 56 78", email="discrete@exemple.org", contact_visible_to_members=False)


@pytest.fixture
def open_person(network):
    return make_person("ouverte.test", association=network["bordeaux"], roles=[RoleSpec(Role.MEMBER)],
                       phone="05 99 88 77 66", email="ouverte@exemple.org")


def test_members_see_contacts_people_chose_to_show(client, viewer, open_person, discreet):
    content = text(client.get(detail_url(open_person.association)))
    assert "ouverte@exemple.org" in content
    assert "05 99 88 77 66" in content
    assert "discrete@exemple.org" not in content
    assert "06 12 34 56 78" not in content


def test_person_page_hides_contacts_from_members_when_asked(client, viewer, discreet):
    response = client.get(discreet.get_absolute_url())
    assert response.status_code == 200
    content = text(response)
    assert "discrete@exemple.org" not in content
    assert "06 12 34 56 78" not in content
    assert "choisi de ne pas afficher ses coordonnées" in content


def test_staff_see_hidden_contacts(client, staff, discreet):
    client.force_login(staff)
    assert "06 12 34 56 78" in text(client.get(discreet.get_absolute_url()))
    assert "discrete@exemple.org" in text(client.get(detail_url(discreet.association)))


def test_a_person_sees_their_own_hidden_contacts(client, discreet):
    client.force_login(discreet)
    assert "06 12 34 56 78" in text(client.get(discreet.get_absolute_url()))


# --- Person page --------------------------------------------------------------------------------------


def test_person_page_shows_roles_with_scopes_expertise_and_bio(client, viewer, network, working_group):
    person = make_person(
        "referente.test", association=network["lille"], job_title="Cheffe de service",
        roles=[RoleSpec(Role.DICA, region=region("nord-est")), RoleSpec(Role.REFERENT, theme=theme(CJSE)),
               RoleSpec(Role.WORKING_GROUP_MEMBER, working_group=working_group)],
        bio="Vingt ans de contrôle judiciaire.", expertise=[theme("hebergement")],
    )
    response = client.get(person.get_absolute_url())
    assert response.status_code == 200
    content = text(response)
    for expected in ["Cheffe de service", "Association Lilloise", network["lille"].get_absolute_url(),
                 "DICA (délégué·e inter-cours d'appel)", "région Nord-Est", "Référent·e thématique",
                 "Contrôle judiciaire socio-éducatif (CJSE)", "groupe de travail Éthique", "Hébergement",
                 "Vingt ans de contrôle judiciaire."]:
        assert expected in content


def test_unknown_person_gives_404(client, viewer):
    assert client.get(reverse("directory:person-detail", kwargs={"username": "personne.inconnue"})).status_code == 404


def test_inactive_person_gives_404_to_members(client, viewer, open_person):
    open_person.is_active = False
    open_person.save()
    assert client.get(open_person.get_absolute_url()).status_code == 404


def test_a_person_of_a_candidate_association_is_hidden_from_members_as_the_association(
        client, viewer, candidate_person):
    # issue 16, item 1 (tests/directory/test_person_visibility.py says who does see them)
    assert client.get(candidate_person.get_absolute_url()).status_code == 404
    assert client.get(candidate_person.association.get_absolute_url()).status_code == 404


# --- Offre par juridiction -----------------------------------------------------------------------------


def test_offer_page_without_choice_explains_what_to_do(client, viewer):
    response = client.get(OFFER_URL)
    assert response.status_code == 200
    assert response.context["table"] is None
    assert "Choisissez une juridiction ou une cour d'appel" in text(response)


def test_offer_by_juridiction_lists_member_associations_and_their_measures(client, viewer, network):
    response = client.get(OFFER_URL, {"juridiction": "tj-bordeaux"})
    assert response.status_code == 200
    table = response.context["table"]
    assert table.juridiction.slug == "tj-bordeaux"
    assert [row.association.name for row in table.rows] == ["Association Bordelaise"]  # the candidate is left out
    offered = {m.slug for m, yes in zip(table.measures, table.rows[0].offers, strict=True) if yes}
    assert offered == {CJSE, MEDIATION}
    assert sum(table.totals) == 2


def test_offer_by_cour_covers_every_juridiction_of_the_cour_and_the_cour_itself(client, viewer, network):
    whole = AssociationFactory(name="Couverture Cour de Bordeaux", themes=[theme("stage-de-citoyennete")])
    services.set_coverage(whole, [], extra_cours=[cour("bordeaux")])
    table = client.get(OFFER_URL, {"cour": "bordeaux"}).context["table"]
    assert [row.association.name for row in table.rows] == ["Association Bordelaise", "Couverture Cour de Bordeaux"]
    table = client.get(OFFER_URL, {"juridiction": "tj-perigueux"}).context["table"]
    assert [row.association.name for row in table.rows] == ["Couverture Cour de Bordeaux"]


def test_offer_table_renders_measures_by_association(client, viewer, network):
    content = text(client.get(OFFER_URL, {"cour": "douai"}))
    assert "Cour d'appel de Douai" in content
    assert '<th scope="col">Contrôle judiciaire socio-éducatif (CJSE)</th>' in content
    assert "Association Lilloise" in content


def test_offer_for_a_place_without_associations_shows_an_empty_state(client, viewer, network):
    response = client.get(OFFER_URL, {"cour": "cayenne"})
    assert response.status_code == 200
    assert response.context["table"].rows == []
    assert "Aucune association adhérente n'intervient ici" in text(response)


def test_offer_for_an_unknown_slug_is_empty_not_an_error(client, viewer):
    response = client.get(OFFER_URL, {"juridiction": "tj-atlantide"})
    assert response.status_code == 200
    assert response.context["table"].found is False


@pytest.mark.parametrize("params", [{"juridiction": "TJ de Bordeaux"}, {"cour": "x" * 101}, {"cour": "<script>"}])
def test_offer_with_a_malformed_value_answers_400(client, viewer, params):
    response = client.get(OFFER_URL, params)
    assert response.status_code == 400
    assert "n'est pas valide" in text(response)


# --- Mon parrainage, home page --------------------------------------------------------------------------


def test_parrainage_page_shows_the_parrain_of_a_new_member(client, network):
    newcomer = make_person("nouveau.test", association=network["pau"], roles=[RoleSpec(Role.DIRECTOR)])
    parrainage_services.start_parrainage(network["bordeaux"], network["pau"], started_on=datetime.date(2024, 9, 1))
    client.force_login(newcomer)
    response = client.get(reverse("parrainage:mine"))
    assert response.status_code == 200
    assert response.context["parrainage"].parrain == network["bordeaux"]
    assert "Association Bordelaise" in text(response)


def test_parrainage_page_shows_the_filleuls_of_a_parrain(client, viewer, network):
    parrainage_services.start_parrainage(network["bordeaux"], network["pau"])
    response = client.get(reverse("parrainage:mine"))
    assert [p.filleul for p in response.context["parrainage"].filleuls] == [network["pau"]]


def test_parrainage_page_has_an_empty_state(client, viewer):
    content = text(client.get(reverse("parrainage:mine")))
    assert "n'a pas de parrain en ce moment" in content
    assert "ne parraine aucune association en ce moment" in content


def test_parrainage_page_for_federal_staff_without_association(client, staff):
    client.force_login(staff)
    response = client.get(reverse("parrainage:mine"))
    assert response.status_code == 200
    assert "rattaché à aucune association" in text(response)


def test_dashboard_greets_the_member_with_association_roles_and_news(client, network):
    network["lille"].admitted_on = datetime.date(2025, 1, 10)
    network["lille"].save()
    person = make_person("claire.test", association=network["bordeaux"], first_name="Claire",
                         roles=[RoleSpec(Role.DIRECTOR), RoleSpec(Role.CORRESPONDENT, region=region("sud-ouest"))])
    client.force_login(person)
    response = client.get("/")
    assert response.status_code == 200
    content = text(response)
    assert "Bonjour Claire" in content
    assert network["bordeaux"].get_absolute_url() in content
    assert "Directeur ou directrice" in content
    assert "Correspondant·e interrégional·e (Sud-Ouest)" in content
    assert response.context["recent_associations"] == [network["lille"]]


def test_landing_page_shows_public_numbers(client, network):
    response = client.get("/")
    assert response.status_code == 200
    assert response.context["stats"]["associations"] == 3
    content = text(response)
    assert "3</strong> associations adhérentes" in content
    assert reverse("membership-application") in content


# --- Layout -------------------------------------------------------------------------------------------------


def test_layout_is_french_accessible_and_marks_the_current_section(client, viewer):
    content = text(client.get(LIST_URL))
    assert '<html lang="fr">' in content
    assert 'href="#contenu">Aller au contenu</a>' in content
    assert '<main id="contenu"' in content
    assert '<a href="/annuaire/" aria-current="page">Annuaire</a>' in content
    assert 'action="/recherche/"' in content
    assert 'action="/compte/deconnexion/"' in content
    assert "cdn" not in content.lower()


def test_forum_index_renders_inside_the_site_layout(client, viewer):
    response = client.get("/forum/")
    assert response.status_code == 200
    content = text(response)
    assert 'href="#contenu">Aller au contenu</a>' in content
    assert '<a href="/forum/" aria-current="page">Forum</a>' in content
    assert "machina.board_theme" not in content


# --- Query counts -------------------------------------------------------------------------------------------


def _grow_network(count: int, prefix: str) -> list[Association]:
    associations = []
    cours = list(CourDAppel.objects.order_by("name")[:6])
    for i in range(count):
        association = AssociationFactory(
            name=f"{prefix} {i:03d}", themes=[theme(CJSE), theme(MEDIATION), theme("hebergement")],
            juridictions=list(cours[i % 6].juridictions.all()[:2]),
        )
        for j in range(3):
            make_person(f"{prefix.lower()}.{i}.{j}", association=association,
                        roles=[RoleSpec(Role.DIRECTOR), RoleSpec(Role.DICA, region=region("sud-ouest"))])
        associations.append(association)
    for parrain, filleul in zip(associations[::2], associations[1::2], strict=False):
        parrainage_services.start_parrainage(parrain, filleul)
    return associations


def _count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


# Pinned: session, user, the viewer's access profile (association, roles), the two unread badges of
# the header (forum notifications, chat), then the page's own reads.
LIST_MAX_QUERIES = 14  # + 4 filter choices, count, page, cours and themes prefetches
DETAIL_MAX_QUERIES = 14  # + association, coverage, themes, people and their roles, parrainages
PERSON_MAX_QUERIES = 9
OFFER_MAX_QUERIES = 14


def test_list_query_count_does_not_grow_with_the_number_of_associations(client, viewer, django_assert_max_num_queries):
    _grow_network(2, "Petit")
    small = _count_queries(client, LIST_URL)
    _grow_network(30, "Grand")
    large = _count_queries(client, LIST_URL)
    filtered = _count_queries(client, LIST_URL, {"region": "sud-ouest", "theme": CJSE, "q": "grand", "page": "2"})
    assert small == large
    assert filtered == large
    with django_assert_max_num_queries(LIST_MAX_QUERIES):
        client.get(LIST_URL, {"cour": "agen", "taille": "medium"})


def test_association_page_query_count_does_not_grow_with_people(client, viewer, django_assert_max_num_queries):
    small_association, _other = _grow_network(2, "Petit")
    small = _count_queries(client, detail_url(small_association))
    big = AssociationFactory(name="Grande Association", themes=[theme(CJSE)],
                             juridictions=[juridiction("tj-bordeaux"), juridiction("tj-libourne")])
    for j in range(25):
        make_person(f"grande.{j}", association=big, roles=[RoleSpec(Role.MEMBER), RoleSpec(Role.PRESIDENT)],
                    contact_visible_to_members=bool(j % 2))
    for filleul in _grow_network(4, "Filleul"):
        if not filleul.parrainages_received.exists():
            parrainage_services.start_parrainage(big, filleul)
    large = _count_queries(client, detail_url(big))
    assert small == large
    with django_assert_max_num_queries(DETAIL_MAX_QUERIES):
        client.get(detail_url(big))


def test_person_and_offer_pages_have_a_fixed_query_count(client, viewer, django_assert_max_num_queries):
    associations = _grow_network(2, "Offre")
    person = associations[0].people.first()
    with django_assert_max_num_queries(PERSON_MAX_QUERIES):
        assert client.get(person.get_absolute_url()).status_code == 200
    place = {"cour": associations[0].cours.first().slug}
    small = _count_queries(client, OFFER_URL, place)
    _grow_network(30, "Autre")  # five of them on the same cour
    large = _count_queries(client, OFFER_URL, place)
    assert len(client.get(OFFER_URL, place).context["table"].rows) > 5
    assert small == large
    with django_assert_max_num_queries(OFFER_MAX_QUERIES):
        client.get(OFFER_URL, {"juridiction": "tj-bordeaux"})
