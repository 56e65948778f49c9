"""Search permission matrix: every role × every kind of protected place, over results, totals, facets,
the HTML page and the autocomplete. A hidden thing leaves no trace: not its title, not its text, not a
count. Role changes show in the very next search, without re-indexing."""

from __future__ import annotations

from collections import Counter

import pytest

from chat import messages as chat_messages
from chat import rooms as chat_rooms
from directory import services as directory_services
from directory.access import CmsAudience
from directory.roles import Role
from search import indexing
from search.models import SearchEntry
from tests.factories import AssociationFactory, RoleSpec, make_person, region
from tests.factories.cms import add_document, add_guide, presidents_collection

from .helpers import add_reply, add_topic, client_for, search_json, search_page, suggestions, titles

pytestmark = pytest.mark.django_db

# Every item carries the common word "orchidée" and a code word of its own, found nowhere else: if
# the code word of a hidden item shows anywhere in an answer, something leaked.
ITEMS = {
    "public_topic": "capucine",
    "directors_topic": "glycine",
    "directors_post": "pivoine",
    "wg_topic": "jonquille",
    "members_guide": "lavande",
    "presidents_guide": "azalée",
    "presidents_doc": "camélia",
    "direct_message": "bégonia",
    "member_association": "dahlia",
    "candidate_association": "zinnia",
    "member_person": "lilas",
    "candidate_person": "ancolie",
}

# Who sees what. The directors' forum is for directors only (the federal staff do not read it); the
# working-group forum for its members and staff; the presidents' guide and collection for presidents
# and staff; a direct conversation for its two people; a candidate association and its people for
# staff and the membership commission.
EVERYONE = {"public_topic", "members_guide", "member_association", "member_person"}
EXPECTED = {
    "director": EVERYONE | {"directors_topic", "directors_post", "direct_message"},
    "president": EVERYONE | {"presidents_guide", "presidents_doc"},
    "member": EVERYONE | {"direct_message"},
    "wg_member": EVERYONE | {"wg_topic"},
    "staff": EVERYONE | {"wg_topic", "presidents_guide", "presidents_doc", "candidate_association",
                         "candidate_person"},
    "commission": EVERYONE | {"candidate_association", "candidate_person"},
}


@pytest.fixture
def people(director, president, member, staff, association, working_group):
    return {
        "director": director, "president": president, "member": member, "staff": staff,
        "wg_member": make_person("membre.gt", association=association,
                                 roles=[RoleSpec(Role.WORKING_GROUP_MEMBER, working_group=working_group)]),
        "commission": make_person("commission.test", association=association,
                                  roles=[RoleSpec(Role.MEMBERSHIP_COMMISSION)]),
    }


@pytest.fixture
def content(forum_tree, people) -> dict[str, str]:
    """One item per place, indexed; returns item name → search document key."""
    director, member = people["director"], people["member"]
    public = add_topic(forum_tree["theme:financement"], member, "Orchidée capucine du financement",
                       "Un sujet ouvert à tous, orchidée capucine.")
    directors = add_topic(forum_tree["direction"], director, "Orchidée glycine des directions",
                          "Sujet réservé aux directions, orchidée glycine.")
    reply = add_reply(directors, director, "Une réponse confidentielle : orchidée pivoine.")
    wg = add_topic(forum_tree["wg:ethique"], people["wg_member"], "Orchidée jonquille du groupe",
                   "Travaux du groupe, orchidée jonquille.")
    members_guide = add_guide("Guide orchidée lavande")
    presidents_guide = add_guide("Guide orchidée azalée des présidences", audience=CmsAudience.PRESIDENTS)
    presidents_doc = add_document("Fiche orchidée camélia des présidences", collection=presidents_collection())
    room = chat_rooms.open_direct_room(director, member)
    posted = chat_messages.post_message(director, room.pk, "orchidee-1", "Entre nous : orchidée bégonia.",
                                        enforce_rate_limit=False)
    adherent = AssociationFactory(name="Association Orchidée Dahlia")
    candidate = AssociationFactory(name="Association Orchidée Zinnia", status="candidate")
    colleague = make_person("lilas.orchidee", association=people["member"].association,
                            roles=[RoleSpec(Role.MEMBER)], first_name="Lilas", last_name="Orchidée")
    applicant = make_person("ancolie.orchidee", association=candidate, roles=[RoleSpec(Role.DIRECTOR)],
                            first_name="Ancolie", last_name="Orchidée")
    indexing.rebuild()
    keys = {
        "public_topic": f"topic:{public.pk}", "directors_topic": f"topic:{directors.pk}",
        "directors_post": f"post:{reply.pk}", "wg_topic": f"topic:{wg.pk}",
        "members_guide": f"page:{members_guide.pk}", "presidents_guide": f"page:{presidents_guide.pk}",
        "presidents_doc": f"document:{presidents_doc.pk}", "direct_message": f"message:{posted.frame['id']}",
        "member_association": f"association:{adherent.pk}", "candidate_association": f"association:{candidate.pk}",
        "member_person": f"person:{colleague.pk}", "candidate_person": f"person:{applicant.pk}",
    }
    assert set(SearchEntry.objects.filter(key__in=keys.values()).values_list("key", flat=True)) == set(
        keys.values()), "every item must be indexed before checking who sees it"
    return keys


def _entries(content, names) -> list[SearchEntry]:
    return list(SearchEntry.objects.filter(key__in=[content[name] for name in names]))


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_results_and_totals_hold_exactly_what_the_caller_may_open(who, content, people):
    data = search_json(client_for(people[who]), "orchidée")
    visible = _entries(content, EXPECTED[who])
    assert titles(data) == {entry.title for entry in visible}
    assert data["total"] == len(visible) == len(data["results"])


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_facet_counts_count_only_what_the_caller_may_open(who, content, people):
    facets = search_json(client_for(people[who]), "orchidée")["facets"]
    visible = _entries(content, EXPECTED[who])
    as_counter = {name: Counter({v["value"]: v["count"] for v in values}) for name, values in facets.items()}
    assert as_counter["kind"] == Counter(entry.kind for entry in visible)
    assert as_counter["region"] == Counter(entry.region for entry in visible if entry.region)
    assert as_counter["theme"] == Counter(theme for entry in visible for theme in entry.themes)


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_hidden_items_leave_no_trace_in_the_page_the_json_or_the_suggestions(who, content, people):
    client = client_for(people[who])
    page = search_page(client, "orchidée").lower()
    data = str(search_json(client, "orchidée")).lower()
    suggested = str(suggestions(client, "orchid")).lower()
    for name, code in ITEMS.items():
        if name in EXPECTED[who]:
            assert code in data, (who, name)
        else:
            for where, answer in (("page", page), ("json", data), ("suggestions", suggested)):
                assert code not in answer, (who, name, where)
    # The page does show the visible ones.
    assert all(ITEMS[name] in page for name in EXPECTED[who])


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_autocomplete_proposes_only_associations_people_and_guides_the_caller_may_open(who, content, people):
    proposed = {entry["title"] for entry in suggestions(client_for(people[who]), "orchid")}
    autocompleted = [name for name in EXPECTED[who] if name.endswith(("_association", "_person", "_guide"))]
    assert proposed == {entry.title for entry in _entries(content, autocompleted)}


@pytest.mark.parametrize("kind", ["topic", "post", "page", "document", "message", "association", "person"])
@pytest.mark.parametrize("who", ["member", "president"])
def test_a_kind_filter_never_widens_what_the_caller_sees(who, kind, content, people):
    data = search_json(client_for(people[who]), "orchidée", type=kind)
    visible = [entry for entry in _entries(content, EXPECTED[who]) if entry.kind == kind]
    assert titles(data) == {entry.title for entry in visible}
    assert data["total"] == len(visible)


def test_a_direct_message_shows_to_its_two_people_only(content, people):
    # Staff moderate shared rooms, not private conversations.
    for who, expected in (("director", True), ("member", True), ("president", False), ("staff", False)):
        bodies = " ".join(r["snippet"] for r in search_json(client_for(people[who]), "bégonia")["results"])
        assert ("bégonia" in bodies) is expected, who


def test_anonymous_visitors_are_sent_to_login(client, content):
    for url in ("/recherche/?q=orchidée", "/recherche/?q=orchidée&format=json", "/recherche/suggestions/?q=orch"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/compte/connexion/?next="), url


def test_an_account_outside_the_network_gets_403_without_titles(content, candidate_person):
    client = client_for(candidate_person)
    for url in ("/recherche/?q=orchidée", "/recherche/?q=orchidée&format=json", "/recherche/suggestions/?q=orch"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "orchid" not in response.content.decode().lower(), url


# --- Role changes show at once ----------------------------------------------------------------------


def test_granting_then_revoking_the_director_role_shows_then_hides_the_directors_post(content, people):
    member = people["member"]
    client = client_for(member)
    assert "pivoine" not in str(search_json(client, "pivoine")).lower()

    directory_services.grant_role(member, RoleSpec(Role.DIRECTOR))
    found = search_json(client, "pivoine")
    assert found["total"] == 1 and "pivoine" in found["results"][0]["snippet"]

    directory_services.revoke_role(member, RoleSpec(Role.DIRECTOR))
    gone = search_json(client, "pivoine")
    assert (gone["total"], gone["results"], gone["facets"]["kind"]) == (0, [], [])


def test_set_roles_replaces_what_search_shows(content, people):
    president = people["president"]
    client = client_for(president)
    assert search_json(client, "azalée")["total"] == 1
    directory_services.set_roles(president, [RoleSpec(Role.DIRECTOR)])
    assert search_json(client, "azalée")["total"] == 0
    assert search_json(client, "pivoine")["total"] == 1


def test_moving_a_person_to_another_region_swaps_the_regional_forum_results(forum_tree, member,
                                                                             other_region_association):
    add_topic(forum_tree["region:sud-ouest"], member, "Réunion régionale perce-neige du Sud-Ouest")
    add_topic(forum_tree["region:nord-est"], member, "Réunion régionale perce-neige du Nord-Est")
    indexing.rebuild()
    client = client_for(member)
    assert titles(search_json(client, "perce-neige")) == {"Réunion régionale perce-neige du Sud-Ouest"}

    directory_services.move_person(member, other_region_association)
    assert titles(search_json(client, "perce-neige")) == {"Réunion régionale perce-neige du Nord-Est"}
    assert other_region_association.region == region("nord-est")
