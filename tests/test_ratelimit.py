"""The one rate limiter (core/ratelimit.py): counts, windows, keys, and the 429 answer."""

import json

import pytest
from django.test import RequestFactory

from core import ratelimit
from core.ratelimit import Rate

START = 1_700_000_000.0


@pytest.fixture
def clock(monkeypatch):
    """The limiter's clock, moved by hand: `clock.at(seconds after START)`."""

    class Clock:
        moment = START

        def at(self, seconds: float) -> None:
            self.moment = START + seconds

    fake = Clock()
    monkeypatch.setattr(ratelimit, "now", lambda: fake.moment)
    return fake


def test_the_event_after_the_limit_is_refused(clock):
    rate = Rate("essai", limit=3, window=60)

    verdicts = [ratelimit.attempt(rate, "alice") for _ in range(4)]

    assert [verdict.allowed for verdict in verdicts] == [True, True, True, False]
    assert verdicts[-1].retry_after > 0


def test_refused_attempts_are_not_counted(clock):
    rate = Rate("essai", limit=1, window=60)
    ratelimit.attempt(rate, "alice")
    for _ in range(10):
        ratelimit.attempt(rate, "alice")

    clock.at(71)

    assert ratelimit.attempt(rate, "alice").allowed


def test_events_count_for_the_whole_window_and_are_then_forgotten(clock):
    rate = Rate("essai", limit=2, window=60)
    ratelimit.attempt(rate, "alice")
    clock.at(30)
    ratelimit.attempt(rate, "alice")

    clock.at(59)
    assert not ratelimit.check(rate, "alice").allowed
    clock.at(71)  # the first event is more than a window (and a slot) old
    assert ratelimit.check(rate, "alice").allowed


def test_retry_after_says_when_the_next_event_fits(clock):
    rate = Rate("essai", limit=2, window=60)
    ratelimit.attempt(rate, "alice")
    clock.at(30)
    ratelimit.attempt(rate, "alice")

    verdict = ratelimit.check(rate, "alice")
    clock.at(30 + verdict.retry_after - 1)
    refused_just_before = ratelimit.check(rate, "alice")
    clock.at(30 + verdict.retry_after)
    allowed_then = ratelimit.check(rate, "alice")

    assert 60 <= 30 + verdict.retry_after <= 70
    assert not refused_just_before.allowed
    assert allowed_then.allowed


def test_keys_and_rates_count_apart(clock):
    first, second = Rate("premier", limit=1, window=60), Rate("second", limit=1, window=60)
    ratelimit.attempt(first, "alice")

    assert not ratelimit.check(first, "alice").allowed
    assert ratelimit.check(first, "bruno").allowed
    assert ratelimit.check(second, "alice").allowed


def test_reset_forgets_a_keys_events(clock):
    rate = Rate("essai", limit=1, window=60)
    ratelimit.attempt(rate, "alice")

    ratelimit.reset(rate, "alice")

    assert ratelimit.check(rate, "alice").allowed


def test_a_limit_of_zero_switches_the_rate_off(clock):
    rate = Rate("essai", limit=0, window=60)

    assert all(ratelimit.attempt(rate, "alice").allowed for _ in range(100))


def test_rates_come_from_the_settings(settings):
    settings.SEARCH_RATE_LIMIT = 7
    settings.SEARCH_RATE_LIMIT_SECONDS = 42

    assert Rate.configured("search", "SEARCH") == Rate("search", limit=7, window=42)


def test_each_test_counts_under_its_own_namespace(settings):
    assert settings.RATE_LIMIT_NAMESPACE.startswith("test-")


def test_the_client_address_is_remote_addr_never_a_forwarded_header():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1")

    assert ratelimit.client_address(request) == "203.0.113.7"


@pytest.mark.parametrize("seconds,expected", [
    (1, "Réessayez dans 1 seconde."),
    (45, "Réessayez dans 45 secondes."),
    (600, "Réessayez dans 10 minutes."),
    (61 * 60 + 1, "Réessayez dans 62 minutes."),
])
def test_the_wait_is_said_in_french(seconds, expected):
    assert ratelimit.wait_message(ratelimit.Verdict(allowed=False, retry_after=seconds)) == expected


@pytest.mark.django_db
def test_the_refusal_is_a_429_page_in_french_or_json_on_demand(rf):
    verdict = ratelimit.Verdict(allowed=False, retry_after=90)

    page = ratelimit.too_many_requests(rf.get("/recherche/"), verdict, "Trop de recherches.")
    data = ratelimit.too_many_requests(rf.get("/recherche/?format=json"), verdict, "Trop de recherches.")

    assert page.status_code == data.status_code == 429
    assert page["Retry-After"] == data["Retry-After"] == "90"
    assert "Trop de recherches. Réessayez dans 90 secondes." in page.content.decode()
    assert '<html lang="fr">' in page.content.decode()
    assert json.loads(data.content) == {"error": {"code": "rate_limited", "retry_after": 90,
                                                  "message": "Trop de recherches. Réessayez dans 90 secondes."}}
