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
from dataclasses import dataclass, field
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model, user_logged_out
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Exists
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone
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
    # The password hash the session's hash was derived from: while it is the person's, the hash holds.
    password: str = field(repr=False, default="")


def binding_of(session, user) -> SessionBinding | None:
    """The binding of a connection just authenticated by its session (Channels' AuthMiddleware, which
    verified the session's hash against the password), or None without a logged-in user."""
    if user is None or not getattr(user, "is_authenticated", False) or session is None:
        return None
    session_key = getattr(session, "session_key", None)
    auth_hash = session.get(HASH_SESSION_KEY)
    if not session_key or not auth_hash:
        return None
    return SessionBinding(user_id=user.pk, session_key=session_key, auth_hash=auth_hash, password=user.password or "")


def is_still_valid(binding: SessionBinding | None) -> bool:
    """Whether the session still logs this person in, as Django's `get_user` would decide on the next
    request, without its side effects (it writes nothing): the session still exists and has not
    expired (logout deletes it), the person's account is still active, and the hash the session holds
    still matches the person's current password.

    With sessions in the database (the project's setting) that is one query by primary keys: under a
    given key a session's person and hash never change (Django's `login` and `update_session_auth_hash`
    give the session a new key), so the row's existence stands for its content, which `binding_of`
    took when the connection opened, already verified. Other session engines: the session is loaded."""
    if binding is None:
        return False
    user_model = get_user_model()
    people = user_model._default_manager.filter(pk=binding.user_id, is_active=True)
    if settings.SESSION_ENGINE in _DATABASE_ENGINES:
        alive = Session.objects.filter(session_key=binding.session_key, expire_date__gt=timezone.now())
        row = people.annotate(session_alive=Exists(alive)).values_list("password", "session_alive").first()
        if row is None or not row[1]:
            return False
        if binding.password and constant_time_compare(row[0], binding.password):
            return True  # the password the session's hash was verified against at connection: it holds
        password = row[0]
    else:
        data = import_module(settings.SESSION_ENGINE).SessionStore(session_key=binding.session_key).load()
        if str(data.get(SESSION_KEY)) != str(binding.user_id) or data.get(BACKEND_SESSION_KEY) not in \
                settings.AUTHENTICATION_BACKENDS:
            return False
        if not constant_time_compare(data.get(HASH_SESSION_KEY) or "", binding.auth_hash):
            return False
        password = people.values_list("password", flat=True).first()
        if password is None:
            return False
    person = user_model(pk=binding.user_id, password=password)
    hashes = [person.get_session_auth_hash(), *person.get_session_auth_fallback_hash()]
    return any(constant_time_compare(binding.auth_hash, candidate) for candidate in hashes)


# The engines that keep sessions in the `django_session` table.
_DATABASE_ENGINES = {"django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db"}


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
