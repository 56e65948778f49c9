"""The act of admitting an association into the network, as the other apps hear of it.

Admission itself is decided by the membership commission (`membership.services.decide`), which
creates the association and its leaders' accounts through `directory.services` and then calls
`hand_over`. The apps that continue an admission register a handler here from their
`AppConfig.ready()` (parrainage opens its step: `parrainage.services.open_parrainage_step`); the
directory imports none of them, and neither membership nor parrainage imports the other for it.
"""

from __future__ import annotations

from collections.abc import Callable

from directory.models import Association, User

AdmissionHandler = Callable[[Association, User], object]
_handlers: list[AdmissionHandler] = []


def on_admission(handler: AdmissionHandler) -> None:
    """Call `handler(association, actor)` at the end of every admission, inside its transaction (an
    error it raises undoes the admission). Registering the same function twice keeps one."""
    if handler not in _handlers:
        _handlers.append(handler)


def admission_handlers() -> tuple[AdmissionHandler, ...]:
    return tuple(_handlers)


def hand_over(association: Association, actor: User) -> None:
    """Hand the newly admitted association over to the apps that continue an admission."""
    for handler in admission_handlers():
        handler(association, actor)
