"""Searching is rate-limited per person (SEARCH_RATE_LIMIT, SEARCH_SUGGEST_RATE_LIMIT), in French."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.SEARCH_RATE_LIMIT = 3
    settings.SEARCH_RATE_LIMIT_SECONDS = 60
    settings.SEARCH_SUGGEST_RATE_LIMIT = 2
    settings.SEARCH_SUGGEST_RATE_LIMIT_SECONDS = 60


def test_the_search_after_the_limit_gets_a_429_page_in_french(client, director, limits):
    client.force_login(director)
    for number in range(3):
        assert client.get(f"/recherche/?q=mot{number}").status_code == 200

    response = client.get("/recherche/?q=encore")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "Vous avez lancé beaucoup de recherches en peu de temps." in page
    assert "Réessayez dans" in page
    assert '<html lang="fr">' in page


def test_the_json_search_answers_429_in_json(client, director, limits):
    client.force_login(director)
    for number in range(3):
        client.get(f"/recherche/?q=mot{number}&format=json")

    response = client.get("/recherche/?q=encore&format=json")

    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["message"].startswith("Vous avez lancé beaucoup de recherches")
    assert error["retry_after"] > 0


def test_the_empty_search_page_does_not_count(client, director, limits):
    client.force_login(director)
    for _ in range(10):
        assert client.get("/recherche/").status_code == 200

    assert client.get("/recherche/?q=mot").status_code == 200


def test_the_limit_is_per_person(client, director, president, limits):
    client.force_login(director)
    for number in range(4):
        client.get(f"/recherche/?q=mot{number}")

    client.force_login(president)

    assert client.get("/recherche/?q=mot").status_code == 200


def test_suggestions_have_their_own_limit_answered_in_json(client, director, limits):
    client.force_login(director)
    for _ in range(2):
        assert client.get("/recherche/suggestions/?q=asso").status_code == 200

    response = client.get("/recherche/suggestions/?q=asso")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert client.get("/recherche/?q=asso").status_code == 200  # searching itself still works


def test_one_letter_suggestions_do_not_count(client, director, limits):
    client.force_login(director)
    for _ in range(5):
        assert client.get("/recherche/suggestions/?q=a").status_code == 200
