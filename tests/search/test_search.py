"""The search page on the embedded store: French words, whatever is typed, snippets, the JSON contract,
filters and pages, a query count that does not grow with the results, and machina's search URL."""

from __future__ import annotations

import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from search import indexing
from search.documents import MAX_QUERY_CHARS, PER_PAGE
from tests.factories import AssociationFactory, region, theme
from tests.factories.cms import add_guide, paragraph

from .helpers import add_reply, add_topic, client_for, search_json, search_page, suggestions, titles

pytestmark = pytest.mark.django_db

FUNDING_GUIDE = "Guide du financement des mesures"
ETHICS_TOPIC = "Charte Éthique du réseau"
ETHICS_GUIDE = "Accompagner sans juger"


@pytest.fixture
def french(forum_tree, member):
    add_guide(FUNDING_GUIDE, blocks=[paragraph("Comment obtenir un financement pluriannuel.")])
    add_topic(forum_tree["theme:financement"], member, ETHICS_TOPIC, "Principes partagés par les associations.")
    add_guide(ETHICS_GUIDE, blocks=[paragraph("Une réflexion éthique sur la posture professionnelle.")])
    indexing.rebuild()
    return client_for(member)


# --- French words ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "expected"), [
    ("financements", FUNDING_GUIDE),  # plural finds singular (stemming)
    ("FINANCEMENT", FUNDING_GUIDE),
    ("pluriannuels", FUNDING_GUIDE),
    ("ethique", ETHICS_TOPIC),  # no accent typed finds "Éthique"
    ("éthique", ETHICS_TOPIC),
    ("l'éthique", ETHICS_GUIDE),  # elided article dropped, finds "éthique"
    ("l’éthique", ETHICS_GUIDE),  # typographic apostrophe
    ("d'ethique", ETHICS_GUIDE),
])
def test_french_words_find_their_variants(french, typed, expected):
    assert expected in titles(search_json(french, typed))


def test_the_matched_word_is_marked_in_the_snippet(french):
    (hit,) = [r for r in search_json(french, "financements")["results"] if r["title"] == FUNDING_GUIDE]
    assert "<mark>financement</mark>" in hit["snippet"]


def test_a_word_typed_without_accent_marks_the_accented_word(french):
    (hit,) = [r for r in search_json(french, "ethique")["results"] if r["title"] == ETHICS_GUIDE]
    assert "<mark>éthique</mark>" in hit["snippet"]


def test_stop_words_alone_find_nothing_and_say_so(french):
    assert search_json(french, "le de la pour")["total"] == 0
    assert "Aucun résultat pour « le de la pour »" in search_page(french, "le de la pour")


def test_when_no_document_has_every_word_the_page_offers_those_with_some(french):
    data = search_json(french, "financement introuvablissime")
    assert FUNDING_GUIDE in titles(data)
    assert "Aucun contenu ne contient tous vos mots" in search_page(french, "financement introuvablissime")


def test_results_with_only_some_of_the_words_come_without_facets(french):
    relaxed = search_json(french, "financement introuvablissime")
    assert relaxed["total"] > 0 and relaxed["facets"] == {"kind": [], "theme": [], "region": []}
    assert "Affiner" not in search_page(french, "financement introuvablissime")
    exact = search_json(french, "financement")
    assert exact["facets"]["kind"] and "Affiner" in search_page(french, "financement")
    beyond = search_json(french, "financement introuvablissime", page=40)
    assert (beyond["total"], beyond["results"]) == (relaxed["total"], [])
    narrowed = search_json(french, "financement introuvablissime", type="page")
    assert narrowed["total"] >= 1 and {r["kind"] for r in narrowed["results"]} == {"page"}


# --- Whatever is typed: 200, results or a clear message -----------------------------------------------

STRAY = ['"AND (', "*", "NOT", "a:b", "\\", '"', "(", ")", "AND OR NOT", "' OR 1=1 --", "%", "_", "NEAR(a b)",
         "title:x", "{}[]^~", "\x00", "😀", "'", "l'", "-"]


@pytest.mark.parametrize("typed", STRAY)
def test_stray_syntax_alone_answers_200_with_a_clear_message(french, typed):
    data = search_json(french, typed)
    assert isinstance(data["total"], int)
    page = search_page(french, typed)
    assert "Aucun résultat pour" in page or data["total"] > 0
    assert len(suggestions(french, typed)) >= 0


@pytest.mark.parametrize("typed", STRAY)
def test_stray_syntax_around_a_word_still_finds_it(french, typed):
    data = search_json(french, f"{typed} financement {typed}")
    assert FUNDING_GUIDE in titles(data)
    assert FUNDING_GUIDE in search_page(french, f"{typed} financement {typed}")


def test_five_thousand_characters_are_cut_and_the_page_says_so(french):
    typed = ("financement " * 500)[:5000]
    data = search_json(french, typed)
    assert FUNDING_GUIDE in titles(data)
    page = search_page(french, typed)
    assert FUNDING_GUIDE in page
    assert f"seuls ses {MAX_QUERY_CHARS} premiers caractères" in page
    assert len(suggestions(french, typed)) >= 0


def test_five_thousand_characters_of_operators_answer_200(french):
    typed = ('financement AND "x OR (y:* ~ ^ \\ /' * 200)[:5000]
    assert FUNDING_GUIDE in titles(search_json(french, typed))
    assert search_page(french, typed)


# --- Snippets are escaped HTML with <mark> ------------------------------------------------------------


@pytest.fixture
def risky_post(forum_tree, member):
    topic = add_topic(forum_tree["theme:financement"], member, "Sécurité des formulaires")
    add_reply(topic, member, "Le glaïeul : ne collez jamais `<script>alert(1)</script>` et retenez que a < b & c.")
    indexing.rebuild()
    return client_for(member)


def test_a_snippet_marks_the_word_and_escapes_the_text_once(risky_post):
    (hit,) = search_json(risky_post, "glaïeul")["results"]
    snippet = hit["snippet"]
    assert "<mark>glaïeul</mark>" in snippet
    assert "<script>" not in snippet
    # Escaped exactly once: what the reader sees is what was written.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in snippet
    assert "a &lt; b &amp; c" in snippet
    assert html.unescape(snippet).replace("<mark>", "").replace("</mark>", "").endswith(
        "ne collez jamais <script>alert(1)</script> et retenez que a < b & c.")


def test_the_page_never_lets_content_markup_through(risky_post):
    raw = risky_post.get("/recherche/", {"q": "glaïeul"}).content.decode()
    assert "<mark>glaïeul</mark>" in raw
    assert "<script>alert(1)" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw


def test_a_chat_message_with_markup_is_escaped(director, member):
    from chat import messages as chat_messages
    from chat import rooms as chat_rooms

    room = chat_rooms.open_direct_room(director, member)
    chat_messages.post_message(director, room.pk, "c-1", "<img src=x onerror=alert(1)> églantine",
                               enforce_rate_limit=False)
    indexing.rebuild()
    raw = client_for(member).get("/recherche/", {"q": "églantine"}).content.decode()
    assert "<mark>églantine</mark>" in raw
    assert "<img src=x" not in raw and "&lt;img src=x onerror=alert(1)&gt;" in raw


# --- The JSON contract --------------------------------------------------------------------------------


def test_json_answers_total_results_and_facets(french):
    data = search_json(french, "financement")
    assert isinstance(data["total"], int) and data["total"] == len(data["results"]) >= 1
    for result in data["results"]:
        assert {"kind", "title", "url", "snippet"} <= set(result)
        assert all(isinstance(result[name], str) for name in ("kind", "title", "url", "snippet"))
        assert result["kind"] in {"page", "document", "topic", "post", "association", "person", "message"}
    assert set(data["facets"]) == {"kind", "theme", "region"}
    for values in data["facets"].values():
        assert all(set(value) == {"value", "count"} and isinstance(value["count"], int) for value in values)
    guide = next(r for r in data["results"] if r["title"] == FUNDING_GUIDE)
    assert guide["kind"] == "page" and guide["url"].startswith("/ressources/")


def test_json_without_words_is_empty(french):
    data = search_json(french, "")
    assert (data["total"], data["results"]) == (0, [])


def test_json_and_page_give_the_same_results(french):
    data = search_json(french, "éthique")
    page = search_page(french, "éthique")
    assert data["total"] == 2
    assert "2 résultats" in page
    assert all(result["title"] in page and result["url"] in page for result in data["results"])


# --- Filters and pages --------------------------------------------------------------------------------


@pytest.fixture
def saffron(forum_tree, member):
    """Four things about "safran" in different kinds, themes and regions."""
    add_topic(forum_tree["theme:financement"], member, "Safran et subventions")
    add_topic(forum_tree["region:sud-ouest"], member, "Safran en Sud-Ouest")
    AssociationFactory(name="Association Safran de Metz", region=region("nord-est"), city="Metz",
                       themes=[theme("mediation-penale")])
    add_guide("Guide du safran", themes=[theme("financement")])
    indexing.rebuild()
    return client_for(member)


@pytest.mark.parametrize(("params", "expected"), [
    ({}, {"Safran et subventions", "Safran en Sud-Ouest", "Association Safran de Metz", "Guide du safran"}),
    ({"type": "topic"}, {"Safran et subventions", "Safran en Sud-Ouest"}),
    ({"type": "association"}, {"Association Safran de Metz"}),
    ({"theme": "Financement"}, {"Safran et subventions", "Guide du safran"}),
    ({"theme": "Médiation pénale"}, {"Association Safran de Metz"}),
    ({"region": "Nord-Est"}, {"Association Safran de Metz"}),
    ({"region": "Sud-Ouest"}, {"Safran en Sud-Ouest"}),
    ({"type": "topic", "theme": "Financement"}, {"Safran et subventions"}),
    ({"type": "page", "region": "Nord-Est"}, set()),
    ({"type": "inconnu"}, {"Safran et subventions", "Safran en Sud-Ouest", "Association Safran de Metz",
                           "Guide du safran"}),
    ({"theme": 'x" OR 1=1'}, set()),
])
def test_filters_narrow_the_results(saffron, params, expected):
    data = search_json(saffron, "safran", **params)
    assert titles(data) == expected
    assert data["total"] == len(expected)


def test_facets_count_each_value_and_link_to_the_narrowed_search(saffron):
    data = search_json(saffron, "safran")
    facets = {name: {v["value"]: v["count"] for v in values} for name, values in data["facets"].items()}
    assert facets["kind"] == {"topic": 2, "association": 1, "page": 1}
    assert facets["theme"] == {"Financement": 2, "Médiation pénale": 1}
    assert facets["region"] == {"Sud-Ouest": 1, "Nord-Est": 1}
    raw = saffron.get("/recherche/", {"q": "safran"}).content.decode()
    assert 'href="/recherche/?q=safran&amp;type=topic"' in raw
    assert 'href="/recherche/?q=safran&amp;region=Nord-Est"' in raw


def test_a_chosen_facet_still_lists_the_others_to_switch_to(saffron):
    data = search_json(saffron, "safran", type="topic")
    assert data["total"] == 2
    assert {v["value"] for v in data["facets"]["kind"]} == {"topic", "association", "page"}
    page = search_page(saffron, "safran", type="topic")
    assert 'aria-current="true"' in page


def test_a_filter_without_results_offers_to_search_without_filters(saffron):
    page = search_page(saffron, "safran", region="Outre-mer")
    assert "Aucun résultat pour « safran »" in page
    assert "Chercher sans les filtres" in page


@pytest.fixture
def many(forum_tree, member):
    forum = forum_tree["theme:financement"]
    for number in range(PER_PAGE + 5):
        add_topic(forum, member, f"Dossier numéro {number} sur le crocus")
    indexing.rebuild()
    return client_for(member)


def test_results_come_in_pages(many):
    first, second = search_json(many, "crocus"), search_json(many, "crocus", page=2)
    assert first["total"] == second["total"] == PER_PAGE + 5
    assert (len(first["results"]), len(second["results"])) == (PER_PAGE, 5)
    assert len(titles(first) | titles(second)) == PER_PAGE + 5
    page = search_page(many, "crocus", page=2)
    assert f"{PER_PAGE + 5} résultats" in page and f"({PER_PAGE + 1} à {PER_PAGE + 5})" in page


@pytest.mark.parametrize("page", ["abc", "", "-3", "0", "1.5", "999", "99999999999999999999999", "2'--"])
def test_odd_page_numbers_never_fail(many, page):
    data = search_json(many, "crocus", page=page)
    assert data["total"] == PER_PAGE + 5
    html_page = search_page(many, "crocus", page=page)
    if page in ("999", "99999999999999999999999"):
        assert data["results"] == []
        assert "Cette page de résultats n'existe pas." in html_page
    else:
        assert len(data["results"]) == PER_PAGE


# --- Query counts -------------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_the_page_costs_the_same_queries_for_5_or_40_results(forum_tree, member, director):
    forum = forum_tree["theme:financement"]
    for number in range(5):
        add_topic(forum, director if number % 2 else member, f"Rapport d'activité cerisier {number}")
    indexing.rebuild()
    client = client_for(member)
    urls = ["/recherche/?q=cerisier", "/recherche/?q=cerisier&format=json", "/recherche/suggestions/?q=cer"]
    for url in urls:
        client.get(url)  # warm caches shared by every request (content types, site, session)
    few = [_queries(client, url) for url in urls]
    assert search_json(client, "cerisier")["total"] == 5

    for number in range(5, 40):
        topic = add_topic(forum, director if number % 2 else member, f"Rapport d'activité cerisier {number}")
        add_reply(topic, director, "Réponse cerisier.")
    indexing.rebuild()
    many_ = [_queries(client, url) for url in urls]
    assert search_json(client, "cerisier")["total"] == 75
    assert many_ == few


# --- machina's search URL -----------------------------------------------------------------------------


def test_machina_search_leads_to_the_one_search_narrowed_to_topics(french):
    response = french.get("/forum/search/", {"q": "éthique"})
    assert response.status_code == 302
    assert response["Location"] == "/recherche/?q=%C3%A9thique&type=topic"
    data = search_json(french, "éthique", type="topic")
    assert titles(data) == {ETHICS_TOPIC}


def test_machina_search_without_words_leads_to_the_empty_search(french):
    response = french.get("/forum/search/")
    assert response.status_code == 302
    assert response["Location"] == "/recherche/?type=topic"
    assert french.get(response["Location"]).status_code == 200


# --- Autocomplete -------------------------------------------------------------------------------------


def test_suggestions_propose_associations_people_and_guides_by_prefix(french, association, director):
    indexing.rebuild()
    proposed = suggestions(french, "bordel")
    assert {"kind": "association", "kind_label": "Association", "title": association.name,
            "url": association.get_absolute_url()} in proposed
    assert director.get_full_name() in {s["title"] for s in suggestions(french, "directrice test")}
    assert FUNDING_GUIDE in {s["title"] for s in suggestions(french, "guide du fin")}
    # Forum topics are not proposed, and one letter proposes nothing.
    assert suggestions(french, "charte") == []
    assert suggestions(french, "b") == []
