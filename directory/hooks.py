"""The directory's one "access changed" hook.

The apps that keep state derived from access (forum permissions and tree, chat rooms and
memberships, CMS spaces, the search access cache) register a handler in their `AppConfig.ready()`:

    hooks.register(my_handler)          # my_handler(change: AccessChange) -> None

and the directory tells them, once per unit of work, what changed: whose access (people whose roles,
association or account changed) and whether the network's scopes changed (a region, working group
or theme created, renamed or deleted). The directory imports none of those apps.

When handlers run:
- inside `unit_of_work()` (every directory service and admin screen runs in one): once, when the
  outermost unit ends, still inside its transaction, so what the handlers write (a working group's
  forum, a person's room memberships) commits or rolls back with the change itself; handlers defer
  what must only happen after commit (websocket notices, cache versions) with `transaction.on_commit`;
- otherwise (a model saved from a shell or a screen we do not own): after the transaction commits,
  once per transaction, or at once in autocommit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass
class AccessChange:
    """What changed since the last time the handlers ran."""

    user_ids: set[int] = field(default_factory=set)
    # A region, working group or theme was created, renamed or deleted.
    scopes: bool = False
    # Everything may have changed (`setup_site`, a bulk import): handlers re-derive all their state.
    everyone: bool = False

    def merge(self, other: AccessChange) -> None:
        self.user_ids |= other.user_ids
        self.scopes = self.scopes or other.scopes
        self.everyone = self.everyone or other.everyone

    def __bool__(self) -> bool:
        return bool(self.user_ids or self.scopes or self.everyone)


Handler = Callable[[AccessChange], None]
_handlers: list[Handler] = []
_local = threading.local()

# Handlers may change access themselves (a forum created for a new working group): the change they
# record runs the handlers again, a bounded number of times.
_MAX_ROUNDS = 5


def register(handler: Handler) -> None:
    """Called from an app's `ready()`; registering the same function twice keeps one."""
    if handler not in _handlers:
        _handlers.append(handler)


def handlers() -> tuple[Handler, ...]:
    return tuple(_handlers)


def _state():
    if not hasattr(_local, "depth"):
        _local.depth = 0
        _local.pending = None
        _local.at_end = []
    return _local


def in_unit_of_work() -> bool:
    return _state().depth > 0


def _fire_pending() -> None:
    state = _state()
    for _round in range(_MAX_ROUNDS):
        change, state.pending = state.pending, None
        if not change:
            return
        for handler in _handlers:
            handler(change)
    logger.warning("Access-changed handlers kept changing access after %s rounds.", _MAX_ROUNDS)


@contextmanager
def unit_of_work() -> Iterator[None]:
    """One transaction whose access changes reach the handlers once, at its end (see module doc)."""
    state = _state()
    state.depth += 1
    try:
        with transaction.atomic():
            yield
            if state.depth == 1:
                _fire_pending()
                while state.at_end:
                    state.at_end.pop(0)()
    finally:
        state.depth -= 1
        if state.depth == 0:
            state.pending = None
            state.at_end = []


def at_end_of_unit(func: Callable[[], None]) -> None:
    """Run `func` once when the current unit of work ends, after the handlers (deduplicated)."""
    state = _state()
    if func not in state.at_end:
        state.at_end.append(func)


class _AfterCommit:
    """The one on_commit callback of a transaction: gathers its changes, runs the handlers once."""

    def __init__(self) -> None:
        self.change = AccessChange()

    def __call__(self) -> None:
        with unit_of_work():
            record(self.change)


def record(change: AccessChange) -> None:
    """Note a change; the handlers hear of it when the unit of work ends (or after commit)."""
    if not change:
        return
    state = _state()
    if state.depth > 0:
        if state.pending is None:
            state.pending = AccessChange()
        state.pending.merge(change)
        return
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        with unit_of_work():
            record(change)
        return
    # Django forgets a rolled-back transaction's callbacks, and this one with them.
    for _savepoints, callback, *_rest in connection.run_on_commit:
        if isinstance(callback, _AfterCommit):
            callback.change.merge(change)
            return
    callback = _AfterCommit()
    callback.change.merge(change)
    transaction.on_commit(callback)


def access_changed(*, users: Iterable = (), scopes: bool = False, everyone: bool = False) -> None:
    """The directory's announcement: these people's access changed, or the network's scopes did.

    `users` holds people or their ids.
    """
    user_ids = {getattr(u, "pk", u) for u in users}
    user_ids.discard(None)
    record(AccessChange(user_ids=user_ids, scopes=scopes, everyone=everyone))
