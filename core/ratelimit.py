"""One rate limiter for the whole site: login failures, password resets, new membership applications,
forum posting, search and chat messages.

A `Rate` allows `limit` events per `window` seconds for one key (a person, an account name, a client
address). Counters live in Django's default cache — Redis in production, so a limit holds across
server processes; local memory in development and tests. The window is cut into SLOTS slots, one
counter each (one atomic increment per event, INCR on Redis; never a list of timestamps rewritten by
concurrent requests). An event counts as long as its slot overlaps the last `window` seconds: it is
forgotten at least `window` seconds after it happened, and at most one slot (a sixth of the window)
later — "5 failures per 30 minutes" holds, at the cost of a few minutes' extra wait at worst.
Checking and counting are two cache calls: requests racing each other may overshoot a limit by the
number of them in flight, which a limit against abuse can afford.

Limits are settings (`<NAME>_RATE_LIMIT`, `<NAME>_RATE_LIMIT_SECONDS`, read from the environment in
config/settings.py); a limit of 0 switches that rate off.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import ngettext


@dataclass(frozen=True)
class Rate:
    """`limit` events per `window` seconds; `name` keeps the counters of different rates apart."""

    name: str
    limit: int
    window: int

    @classmethod
    def configured(cls, name: str, setting: str) -> Rate:
        """The rate `name` with the limit of settings `<setting>_RATE_LIMIT` and `<setting>_RATE_LIMIT_SECONDS`.

        Read at each call, so that tests (and settings overrides) take effect at once.
        """
        return cls(name=name, limit=int(getattr(settings, f"{setting}_RATE_LIMIT")),
                   window=max(1, int(getattr(settings, f"{setting}_RATE_LIMIT_SECONDS"))))

    @property
    def enabled(self) -> bool:
        return self.limit > 0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds before one more event would be allowed; 0 when allowed

    @property
    def retry_after_minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


ALLOWED = Verdict(allowed=True)
SLOTS = 6


def now() -> float:
    """The limiter's clock (tests move it instead of sleeping)."""
    return time.time()


def _slot_seconds(rate: Rate) -> int:
    return max(1, math.ceil(rate.window / SLOTS))


def _slot_keys(rate: Rate, key: str, moment: float) -> list[tuple[int, str]]:
    """(slot index, cache key) of the slots overlapping the window that ends at `moment`, oldest first."""
    # Hashed: keys may be account names (any characters, better not stored in clear in Redis).
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    prefix = f"ratelimit:{settings.RATE_LIMIT_NAMESPACE}:{rate.name}:{digest}"
    slot = _slot_seconds(rate)
    current = int(moment // slot)
    span = math.ceil(rate.window / slot)
    return [(index, f"{prefix}:{index}") for index in range(current - span, current + 1)]


def count(rate: Rate, key: str) -> int:
    """How many events are counted for `key` in the window that ends now."""
    if not rate.enabled:
        return 0
    slots = _slot_keys(rate, key, now())
    return sum(cache.get_many([cache_key for _index, cache_key in slots]).values())


def check(rate: Rate, key: str) -> Verdict:
    """Whether one more event for `key` is allowed now (nothing is counted)."""
    if not rate.enabled:
        return ALLOWED
    moment = now()
    slots = _slot_keys(rate, key, moment)
    stored = cache.get_many([cache_key for _index, cache_key in slots])
    counts = [(index, stored.get(cache_key, 0)) for index, cache_key in slots]
    total = sum(count for _index, count in counts)
    if total + 1 <= rate.limit:
        return ALLOWED
    # Wait for the oldest slots to leave the window until one more event fits.
    slot, span = _slot_seconds(rate), len(slots) - 1
    for index, count in counts:
        total -= count
        if total + 1 <= rate.limit:
            return Verdict(allowed=False, retry_after=max(1, math.ceil((index + span + 1) * slot - moment)))
    raise AssertionError("unreachable: an empty window allows one event")  # pragma: no cover


def check_all(*counters: tuple[Rate, str]) -> Verdict:
    """`check` for several (rate, key) at once: refused if any refuses, with the longest wait."""
    refused = [verdict for verdict in (check(rate, key) for rate, key in counters) if not verdict.allowed]
    return max(refused, key=lambda verdict: verdict.retry_after) if refused else ALLOWED


def record(rate: Rate, key: str) -> None:
    """Count one event for `key`."""
    if not rate.enabled:
        return
    _index, cache_key = _slot_keys(rate, key, now())[-1]
    timeout = rate.window + 2 * _slot_seconds(rate)  # as long as the slot may still be in a window
    if not cache.add(cache_key, 1, timeout=timeout):
        try:
            cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.set(cache_key, 1, timeout=timeout)


def attempt(rate: Rate, key: str) -> Verdict:
    """Check, and count the event if it is allowed (refused attempts do not count)."""
    verdict = check(rate, key)
    if verdict.allowed:
        record(rate, key)
    return verdict


def reset(rate: Rate, key: str) -> None:
    """Forget the events counted for `key` (e.g. an account's failures once its owner signs in)."""
    cache.delete_many([cache_key for _index, cache_key in _slot_keys(rate, key, now())])


def first_time(name: str, key: str, seconds: int) -> bool:
    """True the first time `key` is seen under `name` within `seconds` (one atomic cache add), e.g. to count
    the distinct addresses an account's failures came from."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return cache.add(f"ratelimit:{settings.RATE_LIMIT_NAMESPACE}:{name}:{digest}", 1, timeout=max(1, seconds))


def client_address(request: HttpRequest) -> str:
    """The address the request comes from, for limits per client.

    REMOTE_ADDR only, never a header a client could write itself. In production uvicorn (HTTP) and
    daphne (websockets) run behind nginx with `--proxy-headers` (Dockerfile, docker-compose.yml): they
    put the address nginx sends in X-Forwarded-For into REMOTE_ADDR. Both take the first address of
    that header (uvicorn trusting every proxy address), so nginx overwrites it with the peer it sees
    (deploy/nginx.conf) instead of appending to what the client sent.
    """
    return request.META.get("REMOTE_ADDR") or "unknown"


def wait_message(verdict: Verdict) -> str:
    """When to try again, in French: in seconds under two minutes, in minutes beyond."""
    if verdict.retry_after < 120:
        return ngettext("Réessayez dans %(count)d seconde.", "Réessayez dans %(count)d secondes.",
                        verdict.retry_after) % {"count": verdict.retry_after}
    minutes = verdict.retry_after_minutes
    return ngettext("Réessayez dans %(count)d minute.", "Réessayez dans %(count)d minutes.", minutes) % {
        "count": minutes}


def refusal(response: HttpResponse, verdict: Verdict) -> HttpResponse:
    """`response` (a page that says why, e.g. the form again) made a rate-limit refusal: 429, Retry-After."""
    response.status_code = 429
    response["Retry-After"] = str(verdict.retry_after)
    return response


def too_many_requests(request: HttpRequest, verdict: Verdict, message: str, *, as_json: bool = False) -> HttpResponse:
    """The answer to a refused request: HTTP 429 with Retry-After, a French page or JSON.

    JSON when `as_json` or when the request asked for it (`?format=json`):
    `{"error": {"code": "rate_limited", "message": str, "retry_after": int}}`.
    """
    full_message = f"{message} {wait_message(verdict)}"
    if as_json or request.GET.get("format") == "json":
        response: HttpResponse = JsonResponse(
            {"error": {"code": "rate_limited", "message": full_message, "retry_after": verdict.retry_after}},
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        body = render_to_string("429.html", {"message": message, "wait": wait_message(verdict),
                                             "retry_after": verdict.retry_after}, request=request)
        response = HttpResponse(body)
    return refusal(response, verdict)

