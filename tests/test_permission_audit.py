"""Permission audit (issue 8, item 4a): every URL pattern of the project × every role.

Each pattern of `get_resolver()` (ours, machina's forum, Wagtail's admin and page serving, Django's
admin, static and media) is either audited or listed in EXEMPT with a reason; a new URL added
without thought fails `test_every_url_pattern_is_audited_or_exempt`. An audited pattern is turned
into one or more concrete addresses with real objects of a small world (tests/factories/audit_world)
and requested as every role:

- anonymous visitors are sent to the login page, except on public addresses
  (settings.PUBLIC_URL_PREFIXES, public CMS pages), where the rule of the case decides;
- a person the rule refuses gets 403 or 404 (or the admin screens' own login page, or 405 from a
  view that does not take the method), writes nothing to the database, and gets the same when
  POSTing an empty body to a view that takes POST (on the admin screens, whose gates ignore the
  method, the POST is tried as three refused roles: ADMIN_POST_ROLES);
- a person the rule lets in gets 200 or a redirect that is not a login page (or the case's own
  statuses: 405 for a POST-only view, 400 for a form that needs parameters…);
- inside the admin screens, past their gate, Wagtail's and Django's own permissions decide (the
  rule answers None): only "not sent to a login page, no server error, no leak" is checked;
- no answer, to anyone, carries the marker of a private thing that person may not see
  (tests/factories/audit_world.marker_rules, computed from directory.access and the forum and CMS
  selectors that ask it).

The rules ("who may") are never written out per role: they call directory.access, machina's
permission handler (whose group permissions directory.access derives), cms.selectors.Visibility.

The world is built once for the module; every request runs in a savepoint rolled back after it (and
the client's cookies are put back), so no request changes what the next one sees. About 8 500
requests: about a minute of processor time (PASSERELLES_AUDIT_STATS=1 with -s prints where it goes).
"""

from __future__ import annotations

import copy
import html
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from machina.apps.forum_permission.handler import PermissionHandler

from directory import access
from forum import moderation
from forum.selectors import topic_url
from tests.factories.audit_world import COMMON, ROLES, World, audit_world

# --- the URL patterns --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatternInfo:
    route: str  # the full route, joined as Django's ResolverMatch.route joins it
    view_name: str | None  # "namespace:name"
    lookup_str: str  # dotted path of the view

    @property
    def id(self) -> str:
        return f"{self.route} [{self.view_name or self.lookup_str}]"


def _join(first: str, second: str) -> str:
    return second if not first else first + second.removeprefix("^")


def _walk(resolver, prefix: str = "", namespaces: tuple[str, ...] = ()) -> Iterable[PatternInfo]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            spaces = namespaces + ((entry.namespace,) if entry.namespace else ())
            yield from _walk(entry, _join(prefix, str(entry.pattern)), spaces)
        elif isinstance(entry, URLPattern):
            name = ":".join(namespaces + (entry.name,)) if entry.name else None
            yield PatternInfo(_join(prefix, str(entry.pattern)), name, entry.lookup_str)


def all_patterns() -> list[PatternInfo]:
    patterns = list(_walk(get_resolver()))
    ids = [p.id for p in patterns]
    assert len(ids) == len(set(ids)), "two URL patterns share an id: make PatternInfo.id more precise"
    return patterns


PATTERNS = all_patterns()


# --- rules and cases ---------------------------------------------------------------------------------

Rule = Callable[[object], "bool | None"]  # person (None: anonymous) → may they? None: not decided by access


@dataclass
class Case:
    """One concrete address of a pattern and who may open it."""

    url: str
    rule: Rule
    ok: frozenset[int] = frozenset({200, 302})  # what "let in" answers (a redirect must not be a login page)
    post: bool = True  # POST an empty body as every person the rule refuses
    reveals: frozenset[str] = frozenset()  # markers shown to whoever holds this address (private links)
    note: str = ""
    post_as: frozenset[str] | None = None  # refused roles the POST is tried as (None: all of them)
    raises: bool = False  # the view raises for whoever it lets in (Wagtail's error-page test)


# The admin screens sit behind gates that decide before any view and whatever the method (the
# members-only middleware, Wagtail's require_admin_access, Django's AdminSite.admin_view): every role's
# GET shows whether it passes them; POSTs as three refused roles show that no admin view acts before
# its gate. (POSTing as all ten refused roles on ~360 admin addresses would double the audit's time.)
ADMIN_POST_ROLES = frozenset({"anonymous", "outsider", "member"})


def everyone(user) -> bool:
    return True


def authenticated(user) -> bool:
    return user is not None


def members(user) -> bool:
    return user is not None and access.is_member(user)


def federal_staff(user) -> bool:
    return user is not None and access.is_federal_staff(user)


def examiners(user) -> bool:
    return user is not None and access.can_examine_applications(user)


def parrainage_managers(user) -> bool:
    return user is not None and access.can_manage_parrainages(user)


def cms_editors(user) -> bool | None:
    """Wagtail's admin lets in the people access.can_edit_cms names (and superusers, as Wagtail does);
    inside it, Wagtail's own page/collection permissions (granted to the same groups) decide."""
    if user is None:
        return False
    return None if (access.can_edit_cms(user) or user.is_superuser) else False


def django_admin_users(user) -> bool | None:
    """Django's admin: accounts flagged is_staff pass its gate, then each ModelAdmin's permissions
    decide (None: read-only admins refuse "add" even to superusers); everyone else is sent to the
    admin's login page."""
    if user is None or not user.is_active or not user.is_staff:
        return False
    return None


def handler_rule(check: str, obj) -> Rule:
    """One of machina's permission questions, asked with a fresh handler (it caches per instance)."""
    def rule(user) -> bool:
        return getattr(PermissionHandler(), check)(obj, user or AnonymousUser())
    return rule


def both(first: Rule, second: Rule) -> Rule:
    def rule(user):
        return bool(first(user)) and bool(second(user))
    return rule


def forum_url(forum) -> str:
    return reverse("forum:forum", kwargs={"slug": forum.slug, "pk": forum.pk})


# Forums and topics the forum-bound patterns are tried with: open to all members, among directors
# only (not even federal staff), a working group's (its members and staff). Reading and posting
# patterns take all three; the others (moderation, tracking, feeds, subscriptions) the open forum and
# the directors' one: the working group's goes through the same 404 middleware and machina checks.
FORUM_KEYS = {"theme": "theme:financement", "direction": "direction", "wg": "wg:ethique"}
ALL = ("theme", "direction", "wg")
OPEN_AND_DIRECTORS = ("theme", "direction")


def _forums(w: World, keys=ALL):
    return [(key, w.forums[FORUM_KEYS[key]]) for key in keys]


def _topics(w: World, keys=ALL):
    return [(key, w.topics[key]) for key in keys]


def _topic_kwargs(topic) -> dict:
    return {"forum_slug": topic.forum.slug, "forum_pk": topic.forum_id, "slug": topic.slug, "pk": topic.pk}


def _post_kwargs(post) -> dict:
    topic = post.topic
    return {"forum_slug": topic.forum.slug, "forum_pk": topic.forum_id, "topic_slug": topic.slug,
            "topic_pk": topic.pk, "pk": post.pk}


POST_ONLY = frozenset({405})


def _room_cases(w: World, name: str, **extra) -> list[Case]:
    cases = []
    for key, room in w.rooms.items():
        cases.append(Case(reverse(name, kwargs={"pk": room.pk, **extra}), w.markers[f"audmark{key}msg"],
                          note=f"salon {key}"))
    return cases


def _message_cases(w: World, name: str, may: Callable[[object, str], bool]) -> list[Case]:
    """The message of each room: whoever may open the room, and then `may` (author, moderator…)."""
    def rule_for(key: str) -> Rule:
        joins = w.markers[f"audmark{key}msg"]
        return lambda user: bool(joins(user)) and may(user, key)

    return [Case(reverse(name, kwargs={"pk": room.pk, "message_id": w.messages[key]}), rule_for(key),
                 note=f"salon {key}") for key, room in w.rooms.items()]


def _can_moderate_room(w: World, user, key: str) -> bool:
    return access.can_moderate_chat_room(user, kind=w.rooms[key].kind)


def _topic_moderation(name: str, check: str) -> Callable[[World], list[Case]]:
    """machina's moderation of a topic: readers of its forum holding the moderation permission."""
    def build(w: World) -> list[Case]:
        return [Case(reverse(f"forum_moderation:{name}", kwargs={"slug": topic.slug, "pk": topic.pk}),
                     both(handler_rule("can_read_forum", topic.forum), handler_rule(check, topic.forum)), note=key)
                for key, topic in _topics(w, OPEN_AND_DIRECTORS)]
    return build


def _queued_post_moderation(name: str) -> Callable[[World], list[Case]]:
    """machina's moderation queue of a post awaiting approval in the open forum."""
    def build(w: World) -> list[Case]:
        forum = w.forums["theme:financement"]
        return [Case(reverse(f"forum_moderation:{name}", kwargs={"pk": w.posts["queued"].pk}),
                     both(handler_rule("can_read_forum", forum), handler_rule("can_approve_posts", forum)),
                     note="message en attente")]
    return build


def _commission_action(name: str, ok: frozenset[int]) -> Callable[[World], list[Case]]:
    """A POST-only action of the membership commission on the application (empty form: 400 or 409)."""
    def build(w: World) -> list[Case]:
        return [Case(reverse(f"parrainage:commission-{name}", kwargs={"pk": w.application.pk}), examiners, ok=ok)]
    return build


def _sees_parrainage(parrainage) -> Rule:
    return lambda user: user is not None and access.can_view_parrainage(user, parrainage)


def _invitation_path(person) -> str:
    from directory.invitation_links import invitation_path

    return invitation_path(person)


def _unlock_path() -> str:
    """A valid link lifting a locked account (issue 16, item 2), for a name no world person has."""
    from django.utils import timezone

    from directory import lockout
    from directory.models import LoginBlock

    lock = LoginBlock.objects.create(kind=LoginBlock.Kind.ACCOUNT, account="audit.verrouille",
                                     blocked_at=timezone.now(), unlock_sent_at=timezone.now())
    return reverse("login_unlock", kwargs={"token": lockout.unlock_token(lock)})


# Builders of the cases of each named pattern of ours and machina's: world → cases.
NAMED: dict[str, Callable[[World], list[Case]]] = {
    # accounts (public: login and password reset; the rest for any signed-in account)
    "login": lambda w: [Case(reverse("login"), everyone, note="une personne connectée est renvoyée à l'accueil")],
    "logout": lambda w: [Case(reverse("logout"), authenticated, ok=POST_ONLY, note="POST seulement")],
    "password_change": lambda w: [Case(reverse("password_change"), authenticated)],
    "password_change_done": lambda w: [Case(reverse("password_change_done"), authenticated)],
    "password_reset": lambda w: [Case(reverse("password_reset"), everyone)],
    "password_reset_done": lambda w: [Case(reverse("password_reset_done"), everyone)],
    "password_reset_confirm": lambda w: [
        Case(reverse("password_reset_confirm", kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(w.people["member"].pk)),
            "token": default_token_generator.make_token(w.people["member"])}), everyone,
            note="lien de réinitialisation valide"),
    ],
    "password_reset_complete": lambda w: [Case(reverse("password_reset_complete"), everyone)],
    # issue 14: the invitation link (public: the signed token is the credential)
    "invitation_accept": lambda w: [
        Case(_invitation_path(w.people["member"]), everyone, note="lien d'invitation valide")],
    # issue 16: the link lifting a locked account (public: the signed token is the credential)
    "login_unlock": lambda w: [Case(_unlock_path(), everyone, note="lien de déverrouillage valide")],
    # directory
    "directory:association-list": lambda w: [Case(reverse("directory:association-list"), members)],
    "directory:association-detail": lambda w: [
        Case(w.associations["a"].get_absolute_url(), members, note="adhérente"),
        Case(w.associations["candidate"].get_absolute_url(), w.markers["audmarkcandidate"], note="candidate"),
    ],
    "directory:person-detail": lambda w: [
        Case(w.people["member"].get_absolute_url(), members, note="personne active"),
        Case(w.inactive_person.get_absolute_url(), w.markers["audmarkinactive"], note="personne inactive"),
    ],
    "directory:offer": lambda w: [Case(reverse("directory:offer"), members)],
    # national meetings
    "exchange:meeting-list": lambda w: [Case(reverse("exchange:meeting-list"), members)],
    "exchange:meeting-create": lambda w: [Case(reverse("exchange:meeting-create"), federal_staff)],
    "exchange:meeting-respond": lambda w: [
        Case(reverse("exchange:meeting-respond", kwargs={"pk": w.meeting.pk}), w.markers["audmarkmeeting"],
             ok=frozenset({302, 405}))],
    "exchange:meeting-ics": lambda w: [
        Case(reverse("exchange:meeting-ics", kwargs={"pk": w.meeting.pk}), w.markers["audmarkmeeting"])],
    "exchange:meeting-agenda": lambda w: [
        Case(reverse("exchange:meeting-agenda", kwargs={"pk": w.meeting.pk}), w.markers["audmarkmeeting"])],
    # moderation
    "exchange:post-report": lambda w: [
        Case(reverse("exchange:post-report", kwargs={"pk": w.posts[key].pk}),
             handler_rule("can_read_forum", w.posts[key].topic.forum), note=f"message {key}")
        for key in ("theme", "direction")],
    "exchange:report-queue": lambda w: [
        Case(reverse("exchange:report-queue"), lambda u: u is not None and access.is_member(u)
             and bool(moderation.moderated_forums(u)))],
    "exchange:report-close": lambda w: [
        Case(reverse("exchange:report-close", kwargs={"pk": w.report_id}), w.markers["audmarkreport"],
             ok=frozenset({400, 405}), note="formulaire vide : 400 pour qui modère")],
    "exchange:moderation-log": lambda w: [Case(reverse("exchange:moderation-log"), federal_staff)],
    # notifications and subscriptions
    "exchange:notification-list": lambda w: [Case(reverse("exchange:notification-list"), members)],
    "exchange:notification-mark-all-read": lambda w: [
        Case(reverse("exchange:notification-mark-all-read"), members, ok=frozenset({302, 405}))],
    "exchange:notification-preferences": lambda w: [Case(reverse("exchange:notification-preferences"), members)],
    "exchange:notification-open": lambda w: [
        Case(reverse("exchange:notification-open", kwargs={"pk": w.notification.pk}),
             lambda u: u is not None and u.pk == w.notification.recipient_id, note="notification de la directrice")],
    "exchange:subscription-list": lambda w: [Case(reverse("exchange:subscription-list"), members)],
    "exchange:forum-subscription-toggle": lambda w: [
        Case(reverse("exchange:forum-subscription-toggle", kwargs={"forum_pk": forum.pk}),
             both(members, handler_rule("can_read_forum", forum)), ok=frozenset({302, 405}), note=key)
        for key, forum in _forums(w, OPEN_AND_DIRECTORS)],
    "exchange:topic-unsubscribe": lambda w: [
        Case(reverse("exchange:topic-unsubscribe", kwargs={"topic_pk": w.topics["direction"].pk}),
             lambda u: u is not None and u.pk == w.people["director"].pk, ok=frozenset({302, 405}),
             note="abonnement de la directrice")],
    "exchange:mention-search": lambda w: [Case(reverse("exchange:mention-search") + "?q=au", members)],
    # machina: forums, topics, posts
    "forum:index": lambda w: [Case(reverse("forum:index"), members)],
    "forum:forum": lambda w: [Case(forum_url(forum), handler_rule("can_read_forum", forum), note=key)
                              for key, forum in _forums(w)],
    "forum_conversation:topic": lambda w: [
        Case(topic_url(topic), handler_rule("can_read_forum", topic.forum), note=key) for key, topic in _topics(w)],
    "forum_conversation:topic_create": lambda w: [
        Case(reverse("forum_conversation:topic_create", kwargs={"forum_slug": forum.slug, "forum_pk": forum.pk}),
             both(handler_rule("can_read_forum", forum), handler_rule("can_add_topic", forum)), note=key)
        for key, forum in _forums(w)],
    "forum_conversation:topic_update": lambda w: [
        Case(reverse("forum_conversation:topic_update", kwargs=_topic_kwargs(topic)),
             both(handler_rule("can_read_forum", topic.forum), handler_rule("can_edit_post", topic.first_post)),
             note=key) for key, topic in _topics(w, OPEN_AND_DIRECTORS)],
    "forum_conversation:post_create": lambda w: [
        Case(reverse("forum_conversation:post_create", kwargs={k: v for k, v in _post_kwargs(topic.first_post).items()
                                                                if k != "pk"}),
             both(handler_rule("can_read_forum", topic.forum), handler_rule("can_add_post", topic)), note=key)
        for key, topic in _topics(w)],
    "forum_conversation:post_update": lambda w: [
        Case(reverse("forum_conversation:post_update", kwargs=_post_kwargs(post)),
             both(handler_rule("can_read_forum", post.topic.forum), handler_rule("can_edit_post", post)), note=key)
        for key, post in (("theme", w.posts["theme"]), ("direction", w.posts["direction"]))],
    "forum_conversation:post_delete": lambda w: [
        Case(reverse("forum_conversation:post_delete", kwargs=_post_kwargs(post)),
             both(handler_rule("can_read_forum", post.topic.forum), handler_rule("can_delete_post", post)), note=key)
        for key, post in (("theme", w.posts["theme"]), ("direction", w.posts["direction"]))],
    "forum_conversation:topic_poll_vote": lambda w: [
        Case(reverse("forum_conversation:topic_poll_vote", kwargs={"pk": w.poll.pk}),
             both(handler_rule("can_read_forum", w.forums["direction"]), handler_rule("can_vote_in_poll", w.poll)),
             ok=POST_ONLY | {302}, note="sondage du forum des directions")],
    "forum_conversation:attachment": lambda w: [
        Case(reverse("forum_conversation:attachment", kwargs={"pk": w.attachment.pk}),
             both(handler_rule("can_read_forum", w.forums["direction"]),
                  handler_rule("can_download_files", w.forums["direction"])), note="pièce jointe des directions")],
    # machina: feeds (they list only readable forums' topics: the markers say what may show)
    "forum_feeds:latest_topics": lambda w: [Case(reverse("forum_feeds:latest_topics"), members)],
    "forum_feeds:forum_latest_topics": lambda w: [
        Case(reverse("forum_feeds:forum_latest_topics", kwargs={"forum_slug": forum.slug, "forum_pk": forum.pk}),
             handler_rule("can_read_forum", forum), note=key) for key, forum in _forums(w, OPEN_AND_DIRECTORS)],
    "forum_feeds:forum_latest_topics_with_descendants": lambda w: [
        Case(reverse("forum_feeds:forum_latest_topics_with_descendants",
                     kwargs={"forum_slug": forum.slug, "forum_pk": forum.pk}),
             handler_rule("can_read_forum", forum), note=key) for key, forum in _forums(w, OPEN_AND_DIRECTORS)],
    # machina: members' forum profiles and subscriptions
    "forum_member:profile_update": lambda w: [Case(reverse("forum_member:profile_update"), members)],
    "forum_member:profile": lambda w: [
        Case(reverse("forum_member:profile", kwargs={"pk": w.people["director"].pk}), members)],
    "forum_member:user_posts": lambda w: [
        Case(reverse("forum_member:user_posts", kwargs={"pk": w.people["director"].pk}), members)],
    "forum_member:user_subscriptions": lambda w: [Case(reverse("forum_member:user_subscriptions"), members)],
    "forum_member:topic_subscribe": lambda w: [
        Case(reverse("forum_member:topic_subscribe", kwargs={"pk": topic.pk}),
             both(handler_rule("can_read_forum", topic.forum), handler_rule("can_subscribe_to_topic", topic)),
             note=key) for key, topic in _topics(w, OPEN_AND_DIRECTORS)],
    "forum_member:topic_unsubscribe": lambda w: [
        Case(reverse("forum_member:topic_unsubscribe", kwargs={"pk": w.topics["direction"].pk}),
             both(handler_rule("can_read_forum", w.forums["direction"]),
                  handler_rule("can_unsubscribe_from_topic", w.topics["direction"])),
             note="abonnement de la directrice")],
    # machina: moderation
    **{f"forum_moderation:{name}": _topic_moderation(name, check)
       for name, check in (("topic_lock", "can_lock_topics"), ("topic_unlock", "can_lock_topics"),
                           ("topic_delete", "can_delete_topics"), ("topic_move", "can_move_topics"),
                           ("topic_update_to_post", "can_update_topics_to_normal_topics"),
                           ("topic_update_to_sticky", "can_update_topics_to_sticky_topics"),
                           ("topic_update_to_announce", "can_update_topics_to_announces"))},
    "forum_moderation:queue": lambda w: [
        Case(reverse("forum_moderation:queue"),
             lambda u: PermissionHandler().can_access_moderation_queue(u or AnonymousUser()))],
    **{f"forum_moderation:{name}": _queued_post_moderation(name)
       for name in ("queued_post", "approve_queued_post", "disapprove_queued_post")},
    # machina: read tracking
    "forum_tracking:mark_all_forums_read": lambda w: [Case(reverse("forum_tracking:mark_all_forums_read"), members)],
    "forum_tracking:mark_subforums_read": lambda w: [
        Case(reverse("forum_tracking:mark_subforums_read", kwargs={"pk": forum.pk}),
             handler_rule("can_read_forum", forum), note=key) for key, forum in _forums(w, OPEN_AND_DIRECTORS)],
    "forum_tracking:mark_topics_read": lambda w: [
        Case(reverse("forum_tracking:mark_topics_read", kwargs={"pk": forum.pk}),
             handler_rule("can_read_forum", forum), note=key) for key, forum in _forums(w, OPEN_AND_DIRECTORS)],
    "forum_tracking:unread_topics": lambda w: [Case(reverse("forum_tracking:unread_topics"), members)],
    # chat
    "chat:room-list": lambda w: [Case(reverse("chat:room-list"), members)],
    "chat:direct-start": lambda w: [Case(reverse("chat:direct-start"), members)],
    "chat:room-create": lambda w: [Case(reverse("chat:room-create"), lambda u: u is not None
                                        and access.can_create_chat_room(u))],
    "chat:room-detail": lambda w: _room_cases(w, "chat:room-detail"),
    "chat:message-send": lambda w: [
        Case(c.url, c.rule, ok=frozenset({400, 405}), note=c.note + " (formulaire vide : 400)")
        for c in _room_cases(w, "chat:message-send")],
    "chat:messages-json": lambda w: _room_cases(w, "chat:messages-json"),
    "chat:room-participants": lambda w: [
        Case(reverse("chat:room-participants", kwargs={"pk": w.rooms["adhoc"].pk}),
             lambda u: u is not None and access.can_create_chat_room(u), note="salon ponctuel")],
    "chat:message-edit": lambda w: _message_cases(w, "chat:message-edit",
                                                  lambda u, key: u.pk == w.message_authors[key]),
    "chat:message-delete": lambda w: _message_cases(
        w, "chat:message-delete", lambda u, key: u.pk == w.message_authors[key] or _can_moderate_room(w, u, key)),
    # search
    # every private thing holds the word COMMON: these list all a person may find (tests in
    # test_permission_audit_leaks.py search each private word as well)
    "search:search": lambda w: [Case(reverse("search:search") + f"?q={COMMON}", members),
                                Case(reverse("search:search") + f"?q={COMMON}&format=json", members)],
    "search:suggest": lambda w: [Case(reverse("search:suggest") + f"?q={COMMON[:5]}", members)],
    # membership applications: the public form, the candidate's private link (whoever holds it), the commission
    "membership-application": lambda w: [Case(reverse("membership-application"), everyone,
                                              ok=frozenset({200, 400}))],
    "membership-follow": lambda w: [
        Case(reverse("membership-follow", kwargs={"token": w.application_token}), everyone,
             reveals=frozenset({"audmarkapplication", "audmarkquestion"}), ok=frozenset({200, 409}),
             note="lien privé valide (une candidature déposée refuse les modifications : 409)"),
        Case(reverse("membership-follow", kwargs={"token": "lien-invente-0000000000000000000000000"}),
             lambda u: False, note="lien inventé"),
    ],
    "membership-answer": lambda w: [
        Case(reverse("membership-answer", kwargs={"token": w.application_token,
                                                  "request_id": w.information_request_id}), everyone,
             reveals=frozenset({"audmarkapplication", "audmarkquestion"}), ok=frozenset({400, 405}),
             note="lien privé valide (réponse vide : 400)")],
    "membership-document": lambda w: [
        Case(reverse("membership-document", kwargs={"token": w.application_token, "kind": "statuts"}), everyone,
             reveals=frozenset({"audmarkapplication"}), note="lien privé valide")],
    "membership-answer-file": lambda w: [
        Case(reverse("membership-answer-file", kwargs={"token": w.application_token,
                                                       "request_id": w.information_request_id}),
             everyone, ok=frozenset({404}), note="lien privé valide, question sans fichier joint : 404")],
    "parrainage:commission": lambda w: [Case(reverse("parrainage:commission"), examiners)],
    "parrainage:commission-application": lambda w: [
        Case(reverse("parrainage:commission-application", kwargs={"pk": w.application.pk}), examiners)],
    **{f"parrainage:commission-{name}": _commission_action(name, ok)
       for name, ok in (("examine", frozenset({302, 405, 409})), ("comment", frozenset({400, 405})),
                        ("request", frozenset({400, 405})), ("decide", frozenset({400, 405})),
                        ("invitations", frozenset({302, 400, 405, 409})))},
    "parrainage:commission-document": lambda w: [
        Case(reverse("parrainage:commission-document", kwargs={"pk": w.application.pk, "kind": "statuts"}),
             examiners)],
    "parrainage:commission-answer-file": lambda w: [
        Case(reverse("parrainage:commission-answer-file", kwargs={"pk": w.application.pk,
                                                                  "request_id": w.information_request_id}),
             examiners, ok=frozenset({404}), note="question sans fichier joint : 404 pour la commission")],
    # parrainage
    "parrainage:mine": lambda w: [Case(reverse("parrainage:mine"), members)],
    "parrainage:overview": lambda w: [Case(reverse("parrainage:overview"), parrainage_managers)],
    "parrainage:match": lambda w: [
        Case(reverse("parrainage:match", kwargs={"slug": w.associations["g"].slug}), parrainage_managers,
             ok=frozenset({200, 400}))],
    "parrainage:respond": lambda w: [
        Case(reverse("parrainage:respond", kwargs={"pk": w.parrainages["proposed"].pk}),
             lambda u: u is not None and access.can_respond_to_parrainage(u, w.parrainages["proposed"]),
             ok=frozenset({200, 400}), note="proposition en attente (réponse vide : 400)")],
    "parrainage:tick": lambda w: [
        Case(reverse("parrainage:tick", kwargs={"pk": p.pk}),
             _sees_parrainage(p), ok=frozenset({200, 400}), note=key) for key, p in w.parrainages.items()],
    # CMS documents
    "wagtaildocs_serve": lambda w: [Case(doc.url, w.markers[f"audmark{key}doc"], note=f"document {key}")
                                    for key, doc in (("members", w.documents["members"]),
                                                     ("pres", w.documents["presidents"]))],
    "wagtaildocs_authenticate_with_password": lambda w: [
        Case(reverse("wagtaildocs_authenticate_with_password", kwargs={"restriction_id": _collection_restriction()}),
             lambda u: None if u is not None else False, note="restriction par groupes, pas de mot de passe")],
    # Wagtail's front-end utilities
    "wagtailcore_authenticate_with_password": lambda w: [
        Case(reverse("wagtailcore_authenticate_with_password",
                     kwargs={"page_view_restriction_id": w.page_restriction.pk,
                             "page_id": w.pages["guide_presidents"].pk}),
             lambda u: None if u is not None else False, note="restriction par groupes, pas de mot de passe")],
    "wagtailcore_login": lambda w: [Case(reverse("wagtailcore_login"), authenticated)],
    "wagtail_serve": lambda w: _page_cases(w),
}


def _collection_restriction() -> int:
    from wagtail.models import CollectionViewRestriction

    return CollectionViewRestriction.objects.order_by("pk").values_list("pk", flat=True).first()


def _page_cases(w: World) -> list[Case]:
    """Wagtail's page serving: the public home, the members' area, guides of narrower audiences, an
    event (and its sub-pages), a draft, and an address that does not exist."""
    from cms.selectors import Visibility

    def page_rule(page) -> Rule:
        # What Visibility lets a reader see; a signed-in account outside the network gets 403 on every
        # page, the home page included (cms.models.HomePage.serve, cms.wagtail_hooks).
        def rule(user):
            return Visibility(user).can_view_page(page) and (user is None or access.is_member(user))
        return rule

    pages = w.pages
    event = pages["event"]
    cases = [Case(pages[key].url, page_rule(pages[key]), note=key)
             for key in ("home", "resources", "guide_members", "guide_presidents", "guide_directors", "event")]
    cases += [
        Case(event.url + "calendrier/", page_rule(event), note="calendrier de l'événement"),
        Case(event.url + "inscription/", page_rule(event), ok=frozenset({302, 405}),
             note="inscription (POST) à un événement des directions"),
        Case(event.url + "desinscription/", page_rule(event), ok=frozenset({302, 405}), note="désinscription"),
        Case(pages["resources"].url + "brouillon/", lambda u: False, note="brouillon jamais publié"),
        Case("/ressources/cette-page-n-existe-pas/", lambda u: False, note="adresse inconnue"),
    ]
    return cases


# --- admin screens: every pattern, parameters filled with real objects when the world has one ---------

MISSING = 999999


def _admin_values(w: World) -> dict[str, object]:
    from wagtail.contrib.redirects.models import Redirect
    from wagtail.images import get_image_model
    from wagtail.models import Collection, Site, Task, TaskState, Workflow, WorkflowState

    image = get_image_model().objects.order_by("pk").first()
    redirect = Redirect.objects.order_by("pk").first()
    staff = w.people["staff"]
    return {
        "page": w.pages["guide_presidents"].pk,
        "parent": w.pages["resources"].pk,
        "draft": w.pages["draft"].pk,
        "revision": w.pages["guide_presidents"].latest_revision_id,
        "collection": Collection.objects.get(name__startswith="Ressources des membres").pk,
        "workflow": Workflow.objects.order_by("pk").values_list("pk", flat=True).first() or MISSING,
        "task": Task.objects.order_by("pk").values_list("pk", flat=True).first() or MISSING,
        "task_state": TaskState.objects.order_by("pk").values_list("pk", flat=True).first() or MISSING,
        "workflow_state": WorkflowState.objects.order_by("pk").values_list("pk", flat=True).first() or MISSING,
        "document": w.documents["presidents"].pk,
        "image": image.pk if image else MISSING,
        "redirect": redirect.pk if redirect else MISSING,
        "site": Site.objects.order_by("pk").values_list("pk", flat=True).first(),
        "user": w.inactive_person.pk,
        "group": Group.objects.get(managed__key=access.cms_members_group()).pk,
        "uidb64": urlsafe_base64_encode(force_bytes(staff.pk)),
        "token": default_token_generator.make_token(staff),
    }


def _wagtail_admin_value(values: dict, route: str, name: str) -> str:
    if name in ("page_id", "page_to_move_id", "page_pk"):
        return str(values["draft"] if "workflow" in route else values["page"])
    if name in ("parent_page_id", "destination_id"):
        return str(values["parent"])
    by_name = {
        "revision_id": values["revision"], "task_state_id": values["task_state"],
        "workflow_state_id": values["workflow_state"], "task_id": values["task"], "workflow_pk": values["workflow"],
        "collection_id": values["collection"], "restriction_id": MISSING, "document_id": values["document"],
        "doc_id": values["document"], "image_id": values["image"], "uploaded_file_id": MISSING,
        "redirect_id": values["redirect"], "session_id": MISSING, "uidb64": values["uidb64"],
        "token": values["token"], "filter_spec": "fill-10x10", "object_id": values["page"],
        "content_type_app_name": "cms", "content_type_model_name": "guidepage", "app_name": "cms",
        "revision_id_a": "earliest", "revision_id_b": "latest",
    }
    if name in by_name:
        return str(by_name[name])
    if name == "pk":
        for prefix, key in (("collections/", "collection"), ("workflows/tasks/", "task"), ("workflows/", "workflow"),
                            ("sites/", "site"), ("users/", "user"), ("groups/", "group"), ("api/main/pages/", "page"),
                            ("pages/", "page"),
                            ("api/main/documents/", "document"), ("api/main/images/", "image"),
                            ("documents/chooser/", "document"), ("images/chooser/", "image")):
            if route.startswith("cms-admin/" + prefix):
                return str(values[key])
        return str(MISSING)
    if name in ("app_label", "model_name"):
        if "bulk/" in route:
            return {"app_label": "wagtailcore", "model_name": "page"}[name]
        if "workflows/tasks/add" in route:
            return {"app_label": "cms", "model_name": "peerreviewtask"}[name]
        return {"app_label": "cms", "model_name": "guidepage"}[name]
    if name == "action":
        return "delete"
    if name == "action_name":
        return "approve"
    raise KeyError(f"no value for <{name}> in {route}")


_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


def _fill_route(route: str, value_for: Callable[[str], str]) -> str:
    """An address for `route`: its parameters (route converters and regex groups) filled in."""
    path = _REGEX_GROUP.sub(lambda m: value_for(m.group("name")), route)
    path = _ROUTE_PARAM.sub(lambda m: value_for(m.group("name")), path)
    path = path.replace("\\.", ".").replace(".*", "nulle-part")
    return "/" + path.replace("^", "").replace("$", "")


def _wagtail_admin_cases(w: World, info: PatternInfo) -> list[Case]:
    values = _admin_values(w)
    url = _fill_route(info.route, lambda name: _wagtail_admin_value(values, info.route, name))
    if info.view_name in ("wagtailadmin_login", "wagtailadmin_password_reset", "wagtailadmin_password_reset_done",
                          "wagtailadmin_password_reset_confirm", "wagtailadmin_password_reset_complete",
                          "wagtailadmin_javascript_catalog", "wagtailadmin_sprite"):
        # The admin's own login and password pages: any signed-in account may open them (the members-only
        # middleware sends anonymous visitors to the site's login first).
        return [Case(url, authenticated, post=False, note="page d'accueil de l'admin")]
    return [Case(url, cms_editors, post_as=ADMIN_POST_ROLES, raises=info.view_name == "wagtailadmin_error_test")]


def _django_admin_object(w: World, app_label: str, model_name: str) -> str:
    """The pk of a private thing of the model when the world has one (so that a leak would show)."""
    chosen = {
        ("forum_conversation", "post"): w.posts["direction"].pk,
        ("forum_conversation", "topic"): w.topics["direction"].pk,
        ("forum", "forum"): w.forums["direction"].pk,
        ("forum_attachments", "attachment"): w.attachment.pk,
        ("forum_polls", "topicpoll"): w.poll.pk,
        ("chat", "chatmessage"): w.messages["direct"],
        ("chat", "chatroom"): w.rooms["adhoc"].pk,
        ("directory", "user"): w.inactive_person.pk,
        ("directory", "association"): w.associations["candidate"].pk,
        ("membership", "membershipapplication"): w.application.pk,
        ("parrainage", "parrainage"): w.parrainages["proposed"].pk,
    }
    if (app_label, model_name) in chosen:
        return str(chosen[(app_label, model_name)])
    model = ContentType.objects.get(app_label=app_label, model=model_name).model_class()
    pk = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
    return str(pk if pk is not None else MISSING)


def _django_admin_cases(w: World, info: PatternInfo) -> list[Case]:
    route = info.route
    if route == "admin/login/":
        return [Case("/" + route, authenticated, post=False, note="page de connexion de l'admin")]
    if route == "admin/logout/":
        # Django's admin sends people it does not let in back to its index (then its login page).
        return [Case("/" + route, authenticated, ok=frozenset({302, 405}), post=False, note="POST seulement")]
    model_match = re.match(r"admin/(?P<app>[\w]+)/(?P<model>[\w]+)/", route)
    forum_pk = str(w.forums["direction"].pk)
    values = {
        "forum_id": forum_pk, "user_id": str(w.people["director"].pk),
        "group_id": str(Group.objects.get(managed__key=access.cms_members_group()).pk), "direction": "up",
        "id": str(w.inactive_person.pk), "app_label": "directory", "url": "nulle-part/",
        "content_type_id": str(ContentType.objects.get(app_label="directory", model="association").pk),
    }

    def value_for(name: str) -> str:
        if name == "object_id" and route.startswith("admin/r/"):
            return str(w.associations["candidate"].pk)
        if name == "object_id":
            return _django_admin_object(w, model_match["app"], model_match["model"])
        return values[name]

    return [Case(_fill_route(route, value_for), django_admin_users, post_as=ADMIN_POST_ROLES)]


def _static_cases(w: World, info: PatternInfo) -> list[Case]:
    if info.route.startswith("^static/"):
        return [Case("/static/css/inexistant.css", lambda u: None, note="fichier statique (public)")]
    folder = info.route.split("/")[1]
    return [Case(f"/media/{folder}/inexistante.png", lambda u: None, note="image publique")]


def _matches(info: PatternInfo, url: str) -> bool:
    """Whether `url` is served by the pattern (so that the case really audits it)."""
    try:
        match = resolve(urlsplit(url).path)
    except Exception:
        return False
    return match.route == info.route and (info.view_name is None or match.view_name == info.view_name)


# Patterns not audited, each with the reason.
EXEMPT: dict[str, str] = {
    "forum/search/ [forum_search:search]": (
        "machina's haystack search is shadowed by search.views.ForumSearchRedirect at the same address "
        "(config/urls.py lists ours first): it cannot be reached; "
        "test_machinas_search_address_leads_to_the_one_search checks that."),
}


def cases_for(w: World, info: PatternInfo) -> list[Case]:
    if info.view_name in NAMED:
        return NAMED[info.view_name](w)
    if info.lookup_str == "search.views.ForumSearchRedirect":
        return [Case(f"/forum/search/?q={COMMON}", members, note="vers /recherche/")]
    if info.route.startswith("cms-admin/"):
        return _wagtail_admin_cases(w, info)
    if info.route.startswith("admin/"):
        return _django_admin_cases(w, info)
    if info.route.startswith(("^static/", "^media/")):
        return _static_cases(w, info)
    raise LookupError(f"{info.id} is neither audited (NAMED, admin screens) nor in EXEMPT")


def is_covered(info: PatternInfo) -> bool:
    return (info.id in EXEMPT or info.view_name in NAMED or info.lookup_str == "search.views.ForumSearchRedirect"
            or info.route.startswith(("cms-admin/", "admin/", "^static/", "^media/")))


# --- requests and verdicts -------------------------------------------------------------------------

LOGIN_PATHS = ("/compte/connexion/", "/cms-admin/login/", "/admin/login/")
WRITE = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.I)
# Tables a request may write whoever makes it: the session (login state, flash messages).
HARMLESS_TABLES = {"django_session"}


def _body(response) -> str:
    if getattr(response, "streaming", False):
        # Consuming it closes it (the test client's wrapper; closing it again here would fire
        # request_finished with close_old_connections connected, closing the test's connection).
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    headers = " ".join(str(response.get(h, "")) for h in ("Location", "Content-Disposition"))
    return html.unescape(content.decode("utf-8", errors="replace") + " " + headers).lower()


def _accepts_post(url: str) -> bool:
    """Whether the view may change state on POST: class-based views without a `post` handler answer
    405 to it whoever asks; a function view may do anything, so it is tried."""
    view_class = getattr(resolve(urlsplit(url).path).func, "view_class", None)
    if view_class is None:
        return True
    return "post" in view_class.http_method_names and callable(getattr(view_class, "post", None))


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and urlsplit(response["Location"]).path in LOGIN_PATHS


def _is_public(path: str) -> bool:
    return path in settings.PUBLIC_EXACT_URLS or path.startswith(tuple(settings.PUBLIC_URL_PREFIXES))


@dataclass
class Verdicts:
    problems: list[str] = field(default_factory=list)

    def add(self, role: str, method: str, url: str, message: str) -> None:
        self.problems.append(f"{role:<10} {method:<4} {url} → {message}")


# PASSERELLES_AUDIT_STATS=1 prints, per first path segment, how many requests the audit made and the
# processor time they took (pytest -s).
STATS: dict[str, list[float]] | None = {} if os.environ.get("PASSERELLES_AUDIT_STATS") else None


def _section(url: str) -> str:
    path = urlsplit(url).path
    return path.split("/")[1] if path.count("/") > 1 else path


def request_as(client: Client, method: str, url: str):
    """One request in a savepoint rolled back after it; returns (response or exception, body, write statements).

    The client's cookies are put back as well: a logout (or a session flushed by a view) must not sign
    the role out for the requests after it.
    """
    cookies = copy.deepcopy(client.cookies)
    started = time.process_time()
    try:
        return _request_in_savepoint(client, method, url)
    finally:
        client.cookies = cookies
        if STATS is not None:
            entry = STATS.setdefault(_section(url), [0, 0.0])
            entry[0] += 1
            entry[1] += time.process_time() - started


def _request_in_savepoint(client: Client, method: str, url: str):
    writes: list[str] = []

    def watch(execute, sql, params, many, context):
        match = WRITE.match(sql)
        if match and match.group(1) not in HARMLESS_TABLES:
            writes.append(sql[:160])
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(watch), transaction.atomic():
            response = client.get(url) if method == "GET" else client.post(url, {})
            body = _body(response)
            transaction.set_rollback(True)
    except Exception as error:
        return error, None, []
    return response, body, writes


def audit_case(case: Case, role: str, user, client: Client, markers: frozenset[str], verdicts: Verdicts) -> None:
    path = urlsplit(case.url).path
    where = f"{case.url} ({case.note})" if case.note else case.url
    decided = case.rule(user)
    hidden = markers - case.reveals
    methods = ["GET"]
    if decided is False and case.post and (case.post_as is None or role in case.post_as) \
            and _accepts_post(case.url):
        methods.append("POST")
    for method in methods:
        response, body, writes = request_as(client, method, case.url)
        if isinstance(response, Exception):
            if not (case.raises and decided is not False):
                verdicts.add(role, method, where, f"exception {type(response).__name__}: {response}")
            continue
        status = response.status_code
        leaked = sorted(marker for marker in hidden if marker in body)
        if leaked:
            verdicts.add(role, method, where, f"{status}, laisse voir {', '.join(leaked)}")
        if status >= 500:
            verdicts.add(role, method, where, f"erreur {status}")
            continue
        if user is None and not _is_public(path) and not decided:
            if not _is_login_redirect(response):
                verdicts.add(role, method, where, f"{status} au lieu d'un renvoi vers la connexion")
        elif decided is False:
            if not (status in (403, 404, 405) or _is_login_redirect(response)):
                verdicts.add(role, method, where, f"{status} au lieu d'un refus (403/404)")
            if writes:
                verdicts.add(role, method, where, f"{status}, refus qui écrit en base : {writes[0]}")
        elif decided is True and method == "GET":
            if status not in case.ok or _is_login_redirect(response):
                target = f" vers {response['Location']}" if status == 302 else ""
                verdicts.add(role, method, where, f"{status}{target} au lieu de {sorted(case.ok)} (autorisé)")
        elif decided is None and _is_login_redirect(response) and user is not None:
            verdicts.add(role, method, where, "renvoi vers une page de connexion alors que la porte est franchie")


# --- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def audit(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, a signed-in client per role and what each role may not see; rolled back at the end."""
    with django_db_blocker.unblock(), audit_world(tmp_path_factory.mktemp("audit-media")) as built:
        _with_review_in_progress(built.world)
        yield built.world, built.clients, built.hidden
    if STATS:
        print("\n".join(f"{k:20} {n:6} {t:8.1f}s" for k, (n, t) in sorted(STATS.items(), key=lambda i: -i[1][1])))


def _with_review_in_progress(world: World) -> None:
    """The draft page submitted for review (Wagtail's workflow and task states exist for its URLs)."""
    from cms import services as cms_services

    cms_services.submit_for_review(world.pages["draft"], world.people["staff"])


# --- the tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("info", PATTERNS, ids=[p.id for p in PATTERNS])
def test_every_url_pattern_is_audited_or_exempt(info):
    assert is_covered(info), (
        f"{info.id}: new URL pattern. Add it to NAMED in tests/test_permission_audit.py with the rule of "
        "directory.access that decides who may open it, or to EXEMPT with a reason.")


def test_exemptions_and_rules_name_existing_patterns():
    ids = {p.id for p in PATTERNS}
    names = {p.view_name for p in PATTERNS}
    assert set(EXEMPT) <= ids, set(EXEMPT) - ids
    assert set(NAMED) <= names, set(NAMED) - names


AUDITED = [p for p in PATTERNS if p.id not in EXEMPT]


@pytest.mark.django_db
@pytest.mark.parametrize("info", AUDITED, ids=[p.id for p in AUDITED])
def test_url_pattern_answers_every_role_as_the_access_rules_say(info, audit):
    world, clients, hidden = audit
    cases = cases_for(world, info)
    assert cases, f"{info.id}: no address built"
    verdicts = Verdicts()
    for case in cases:
        assert _matches(info, case.url), f"{case.url} does not resolve to {info.id}"
        for role in ROLES:
            audit_case(case, role, world.user(role), clients[role], hidden[role], verdicts)
    assert not verdicts.problems, f"{info.id}:\n" + "\n".join(verdicts.problems)


@pytest.mark.django_db
def test_machinas_search_address_leads_to_the_one_search(audit):
    world, clients, _hidden = audit
    match = resolve("/forum/search/")
    assert match._func_path == "search.views.ForumSearchRedirect"
    response = clients["member"].get(f"/forum/search/?q={COMMON}")
    assert response.status_code == 302 and response["Location"].startswith("/recherche/")


@pytest.mark.django_db
def test_the_audit_notices_a_leak_a_wrong_answer_and_a_write(audit):
    """The guard of the audit itself: wrong rules make it report what it should."""
    world, clients, _hidden = audit
    director = world.user("director")
    verdicts = Verdicts()
    # Claim the director may not open her forum's topic: its page is then a leak and a wrong answer.
    case = Case(topic_url(world.topics["direction"]), lambda user: False)
    audit_case(case, "director", director, clients["director"], frozenset({"audmarkdirtopic"}), verdicts)
    # Claim she may not mark the forums read: her POST writes read marks.
    case = Case(reverse("forum_tracking:mark_all_forums_read"), lambda user: False)
    audit_case(case, "director", director, clients["director"], frozenset(), verdicts)
    # Claim an anonymous visitor may see the directory: the login redirect is reported.
    case = Case(reverse("directory:association-list"), lambda user: True)
    audit_case(case, "anonymous", None, clients["anonymous"], frozenset(), verdicts)
    found = "\n".join(verdicts.problems)
    assert "laisse voir audmarkdirtopic" in found, found
    assert "200 au lieu d'un refus" in found, found
    assert "refus qui écrit en base" in found, found
    assert "au lieu de [200, 302] (autorisé)" in found, found
