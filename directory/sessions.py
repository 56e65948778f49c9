"""A person's sessions, for what stays connected on one: when a session ends, and whether it still holds.

An HTTP request checks its session each time (Django's `get_user`); a connection that stays open (the
chat's websockets) opened with a session and must stop with it. The directory, which owns the accounts,
tells the apps that keep such connections, through handlers they register in their `AppConfig.ready()`
(as for the access hook, directory/hooks.py; the directory imports none of them):

    sessions.register(handler)    # handler(ended: SessionsEnded) -> None

- **logout** (Django's `user_logged_out`): that one session ended (`session_key` set);
- **password changed or reset, account deactivated or deleted** (the person's row, however it is saved:
  our screens, Django's password views, `/admin/`, Wagtail's, a shell): every session of the person
  must be checked again (`session_key` None). The session that changed its own password stays logged
  in (Django renews its key), the others do not.

Handlers run after the transaction that made the change commits, never for one that rolls back.
`is_still_valid(binding)` is the check a connection makes on each frame it receives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
    user_logged_out,
)
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils.crypto import constant_time_compare

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionsEnded:
    """One session ended (`session_key`), or every session of the person must be checked again (None)."""

    user_id: int
    session_key: str | None = None


Handler = Callable[[SessionsEnded], None]
_handlers: list[Handler] = []


def register(handler: Handler) -> None:
    """Called from an app's `ready()`; registering the same function twice keeps one."""
    if handler not in _handlers:
        _handlers.append(handler)


def announce(ended: SessionsEnded) -> None:
    """Tell the handlers once the current transaction commits (at once outside a transaction)."""

    def run() -> None:
        for handler in tuple(_handlers):
            try:
                handler(ended)
            except Exception:
                # The change is made; only the notice failed. Connections still check their session
                # on every frame they receive, so a lost notice leaves nothing readable or writable.
                logger.exception("Fin de session : le gestionnaire %r a échoué.", handler)

    transaction.on_commit(run)


# --- the check a connection makes ------------------------------------------------------------------


@dataclass(frozen=True)
class SessionBinding:
    """What a long-lived connection keeps of the session it was opened with."""

    user_id: int
    session_key: str
    auth_hash: str


def binding_of(session, user) -> SessionBinding | None:
    """The binding of a connection just authenticated by its session (Channels' AuthMiddleware, which
    verified the session's hash against the password), or None without a logged-in user."""
    if user is None or not getattr(user, "is_authenticated", False) or session is None:
        return None
    session_key = getattr(session, "session_key", None)
    auth_hash = session.get(HASH_SESSION_KEY)
    if not session_key or not auth_hash:
        return None
    return SessionBinding(user_id=user.pk, session_key=session_key, auth_hash=auth_hash)


def is_still_valid(binding: SessionBinding | None) -> bool:
    """Whether the session still logs this person in, as Django's `get_user` would decide on the next
    request, without its side effects (it writes nothing): the session still exists and has not
    expired (logout deletes it), still names the person, its hash still matches the person's current
    password, and the authentication backend still gives the person (an inactive account is refused).
    Two reads by primary key: the session row and the person's row."""
    if binding is None:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=binding.session_key)
    data = store.load()
    backend_path = data.get(BACKEND_SESSION_KEY)
    if str(data.get(SESSION_KEY)) != str(binding.user_id) or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return False
    stored_hash = data.get(HASH_SESSION_KEY) or ""
    if not constant_time_compare(stored_hash, binding.auth_hash):
        return False
    user = load_backend(backend_path).get_user(binding.user_id)
    if user is None:
        return False
    hashes = [user.get_session_auth_hash()]
    fallback = getattr(user, "get_session_auth_fallback_hash", None)
    if fallback is not None:
        hashes.extend(fallback())
    return any(constant_time_compare(stored_hash, candidate) for candidate in hashes)


# --- what ends sessions ------------------------------------------------------------------------------

# Saving these fields of a person may end their sessions (a new password hash, a deactivation).
_CREDENTIAL_FIELDS = ("password", "is_active")


def _logged_out(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is not None and session_key:
        announce(SessionsEnded(user_id=user.pk, session_key=session_key))


def _before_person_saved(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    instance._sessions_recheck = False
    if raw or instance.pk is None or instance._state.adding:
        return
    if update_fields is not None and not set(update_fields) & set(_CREDENTIAL_FIELDS):
        return  # a login stamping last_login, for one
    stored = sender._default_manager.filter(pk=instance.pk).values_list(*_CREDENTIAL_FIELDS).first()
    if stored is None:
        return
    password, was_active = stored
    instance._sessions_recheck = password != instance.password or (was_active and not instance.is_active)


def _person_saved(sender, instance, created, **kwargs) -> None:
    if getattr(instance, "_sessions_recheck", False):
        instance._sessions_recheck = False
        announce(SessionsEnded(user_id=instance.pk))


def _person_deleted(sender, instance, **kwargs) -> None:
    announce(SessionsEnded(user_id=instance.pk))


def connect() -> None:
    """Called from the directory's `ready()`."""
    user_model = get_user_model()
    user_logged_out.connect(_logged_out, dispatch_uid="directory-sessions-logout")
    pre_save.connect(_before_person_saved, sender=user_model, dispatch_uid="directory-sessions-pre-save")
    post_save.connect(_person_saved, sender=user_model, dispatch_uid="directory-sessions-post-save")
    post_delete.connect(_person_deleted, sender=user_model, dispatch_uid="directory-sessions-delete")
