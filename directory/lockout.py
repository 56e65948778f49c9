"""Login limits (issue 16, item 2): who may try a password now, what a failure counts, the account
lock and its e-mailed unlock link, and lifting by staff. README "Connexion : échecs, blocages et
déverrouillage" tells the rule; docs/access.md, *Login limits*, why it is built this way.

Failures are counted in the cache (core/ratelimit.py), under the account name as typed, normalised
(`normalise_account`: case, surrounding spaces and Unicode forms do not make another account):

- per (account, address) pair, LOGIN_RATE_LIMIT (5 in 30 minutes): that pair is then refused without
  checking the password; the same account from another address is not;
- per address, LOGIN_ADDRESS_RATE_LIMIT (50 an hour, across accounts: an office shares one address);
- per account, LOGIN_ACCOUNT_RATE_LIMIT (30 an hour) from at least LOGIN_ACCOUNT_LOCK_ADDRESSES (5)
  different addresses: the account is locked, even for the right password, until its owner follows the
  link e-mailed to them or federal staff lift the lock in /admin/.

A refused attempt is not counted, so that trying on does not lengthen a block. A successful login
clears its own pair only. A row of `LoginBlock` is written when a limit is reached (never per
failure), for staff to see and lift. The lock applies to a name whether or not an account has it, with
the same message: it tells nothing the login form does not.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from core import links, ratelimit
from core.outbox import services as outbox
from directory.models import LoginBlock, User

UNLOCK_SALT = "directory.lockout.unlock"


def normalise_account(username: str) -> str:
    """One key for every way of typing a name: "Alice.Test ", "ALICE.TEST" and "alice.test" are one account."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


def _pair_rate() -> ratelimit.Rate:
    return ratelimit.Rate.configured("login-pair", "LOGIN")


def _address_rate() -> ratelimit.Rate:
    return ratelimit.Rate.configured("login-address", "LOGIN_ADDRESS")


def _account_rate() -> ratelimit.Rate:
    return ratelimit.Rate.configured("login-account", "LOGIN_ACCOUNT")


def _account_addresses_rate() -> ratelimit.Rate:
    """Distinct addresses an account's failures came from (each counted once per account window)."""
    return ratelimit.Rate("login-account-addresses", limit=max(1, int(settings.LOGIN_ACCOUNT_LOCK_ADDRESSES)),
                          window=_account_rate().window)


def _pair_key(account: str, address: str) -> str:
    return f"{account}\n{address}"


def _address(request: HttpRequest | None) -> str:
    return ratelimit.client_address(request) if request is not None else "unknown"


def _moment() -> datetime:
    """Now, on the limiter's clock (tests move it)."""
    return datetime.fromtimestamp(ratelimit.now(), tz=UTC)


def _link_seconds() -> int:
    return max(60, int(settings.LOGIN_UNLOCK_LINK_SECONDS))


# --- the login form asks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused before its password is checked: the account is `locked`, or a limit
    refuses for `verdict.retry_after` seconds."""

    locked: bool
    verdict: ratelimit.Verdict | None = None


def refusal(request: HttpRequest | None, username: str) -> Refusal | None:
    """Whether an attempt for `username` from the request's address is refused now (nothing is counted)."""
    account = normalise_account(username)
    lock = active_lock(account)
    if lock is not None:
        _send_fresh_link_if_expired(lock)
        return Refusal(locked=True)
    address = _address(request)
    verdict = ratelimit.check_all((_pair_rate(), _pair_key(account, address)), (_address_rate(), address))
    return None if verdict.allowed else Refusal(locked=False, verdict=verdict)


def record_failure(request: HttpRequest | None, username: str) -> None:
    """Count a wrong password; note a block that this failure starts; lock the account past the brake."""
    account, address = normalise_account(username), _address(request)
    pair_rate, address_rate, account_rate = _pair_rate(), _address_rate(), _account_rate()
    ratelimit.record(pair_rate, _pair_key(account, address))
    ratelimit.record(address_rate, address)
    ratelimit.record(account_rate, account)
    if ratelimit.first_time("login-account-address", _pair_key(account, address), account_rate.window):
        ratelimit.record(_account_addresses_rate(), account)

    pair_verdict = ratelimit.check(pair_rate, _pair_key(account, address))
    if not pair_verdict.allowed:
        _note_block(LoginBlock.Kind.PAIR, account=account, address=address, verdict=pair_verdict,
                    failures=ratelimit.count(pair_rate, _pair_key(account, address)))
    address_verdict = ratelimit.check(address_rate, address)
    if not address_verdict.allowed:
        _note_block(LoginBlock.Kind.ADDRESS, account="", address=address, verdict=address_verdict,
                    failures=ratelimit.count(address_rate, address))
    if account_rate.enabled:
        failures = ratelimit.count(account_rate, account)
        addresses = ratelimit.count(_account_addresses_rate(), account)
        if failures >= account_rate.limit and addresses >= _account_addresses_rate().limit:
            lock_account(account, failures=failures, addresses=addresses)


def record_success(request: HttpRequest | None, username: str) -> None:
    """The right password: its own pair starts again from zero (never the address's count: an attacker
    who owns one account must not reset the count of the address they guess others from)."""
    ratelimit.reset(_pair_rate(), _pair_key(normalise_account(username), _address(request)))


# --- blocks and locks ------------------------------------------------------------------------------------


def _people_named(account: str) -> list[User]:
    return list(User.objects.filter(username__iexact=account).order_by("pk"))


def _prune() -> None:
    cutoff = _moment() - timedelta(days=max(1, int(settings.LOGIN_BLOCK_KEEP_DAYS)))
    LoginBlock.objects.filter(Q(lifted_at__lt=cutoff) | Q(blocked_until__lt=cutoff)).delete()


def _note_block(kind: str, *, account: str, address: str, verdict: ratelimit.Verdict, failures: int) -> None:
    moment = _moment()
    people = _people_named(account) if account else []
    LoginBlock.objects.create(kind=kind, account=account, address=address, failures=failures,
                              person=people[0] if people else None, blocked_at=moment,
                              blocked_until=moment + timedelta(seconds=verdict.retry_after))
    _prune()


def active_lock(account: str) -> LoginBlock | None:
    return LoginBlock.objects.filter(kind=LoginBlock.Kind.ACCOUNT, account=account, lifted_at=None).first()


def lock_account(account: str, *, failures: int, addresses: int) -> LoginBlock | None:
    """Lock `account` (once) and e-mail its owner the link that lifts the lock."""
    if active_lock(account) is not None:
        return None
    people = _people_named(account)
    moment = _moment()
    try:
        with transaction.atomic():
            lock = LoginBlock.objects.create(
                kind=LoginBlock.Kind.ACCOUNT, account=account, person=people[0] if people else None,
                failures=failures, addresses=addresses, blocked_at=moment, unlock_sent_at=moment)
    except IntegrityError:  # another request locked it at the same moment
        return None
    _email_link(lock, people)
    _prune()
    return lock


def _send_fresh_link_if_expired(lock: LoginBlock) -> None:
    """A lock outlives its link: an attempt on a locked account after the link expired sends a new one
    (at most one per LOGIN_UNLOCK_LINK_SECONDS, whatever the number of attempts)."""
    moment = _moment()
    if lock.unlock_sent_at and (moment - lock.unlock_sent_at).total_seconds() <= _link_seconds():
        return
    claimed = LoginBlock.objects.filter(pk=lock.pk, unlock_sent_at=lock.unlock_sent_at).update(unlock_sent_at=moment)
    if claimed:
        lock.unlock_sent_at = moment
        _email_link(lock, _people_named(lock.account))


def unlock_token(lock: LoginBlock) -> str:
    return signing.dumps([lock.pk, int(lock.unlock_sent_at.timestamp())], salt=UNLOCK_SALT)


def unlock_url(lock: LoginBlock) -> str:
    return links.absolute_url(reverse("login_unlock", kwargs={"token": unlock_token(lock)}))


def lock_for_token(token: str) -> LoginBlock | None:
    """The lock the link lifts, or None: forged, mangled, expired, already used, or an older link."""
    try:
        payload = signing.loads(token, salt=UNLOCK_SALT)
    except signing.BadSignature:
        return None
    if not (isinstance(payload, list) and len(payload) == 2 and all(type(part) is int for part in payload)):
        return None
    lock_id, stamp = payload
    if ratelimit.now() - stamp > _link_seconds():
        return None
    lock = LoginBlock.objects.filter(pk=lock_id, kind=LoginBlock.Kind.ACCOUNT, lifted_at=None).first()
    if lock is None or lock.unlock_sent_at is None or int(lock.unlock_sent_at.timestamp()) != stamp:
        return None
    return lock


def _email_link(lock: LoginBlock, people: list[User]) -> None:
    """Transactional and private (docs/mail.md): the outbox forgets the link once the e-mail has left."""
    for person in people:
        if not person.is_active:
            continue
        outbox.queue(
            person, category=outbox.Category.TRANSACTIONAL, kind="directory.login-unlock",
            subject=_("[Passerelles] Connexions à votre compte suspendues"),
            text_template="directory/email/login_unlock.txt",
            context={"person": person, "link": unlock_url(lock),
                     "valid_hours": max(1, _link_seconds() // 3600),
                     "reset_url": links.absolute_url(reverse("password_reset"))},
            private=True,
        )


def lift(block: LoginBlock, *, by: User | None = None) -> bool:
    """Lift a block or lock (staff in /admin/, or the owner's link): its counts start again from zero.
    False if it was already lifted."""
    if not LoginBlock.objects.filter(pk=block.pk, lifted_at=None).update(lifted_at=_moment(), lifted_by=by):
        return False
    if block.kind == LoginBlock.Kind.PAIR:
        ratelimit.reset(_pair_rate(), _pair_key(block.account, block.address))
    elif block.kind == LoginBlock.Kind.ADDRESS:
        ratelimit.reset(_address_rate(), block.address)
    else:
        # The failures are forgiven; the addresses they came from stay seen for the hour.
        ratelimit.reset(_account_rate(), block.account)
    return True


def is_current(block: LoginBlock) -> bool:
    if block.lifted_at is not None:
        return False
    return block.blocked_until is None or block.blocked_until > _moment()


def current_filter() -> Q:
    """The rows still refusing logins, as a queryset filter."""
    return Q(lifted_at=None) & (Q(blocked_until=None) | Q(blocked_until__gt=_moment()))
