"""Permission audit, every object (issue 16, "beyond the list"): each account against every object id of
the others.

tests/test_permission_audit.py tries each URL pattern with a few chosen objects of the world
(tests/factories/audit_world). Here every pattern that takes an object (a pk, a slug, a username, a
`<thing>_pk`…) is tried with **every** object of that kind the world holds: each account's direct
conversations, each association (the candidate ones too), each person (candidate associations'
directors, the inactive person), every forum, topic and post of every audience, every room and
message, page and document, application, parrainage, report, notification… as every role:

- the object's rule of the rule book (KIND_RULES: directory.access, machina's permission handler,
  cms.selectors.Visibility) refuses it → 403/404 (or the login page, or 405), nothing written (the
  POST of an empty body is tried too, as SWEEP_POST_ROLES), no marker of a hidden thing in the answer;
- the rule lets the person see it → when the pattern's own rule in test_permission_audit is exactly the
  object's rule (checked on its chosen objects, `is_plain`), the answer is one the pattern gives to
  whoever it lets in; otherwise the pattern asks more (being the author, a moderator…), and only "no
  server error, no marker leak, not sent to a login page" is checked;
- ids that do not exist or are malformed (`-1`, `0`, huge, not a number, made-up slugs) answer 404
  (or a refusal before any lookup), never a server error.

Which model a parameter names is found generically (`kind_of`): the view's `model`, a `<thing>_pk`
or `<thing>_id` name, the literal path segment before it (machina's `topic/<slug>-<pk>`), Django's
admin `admin/<app>/<model>/<object_id>/`; VIEW_KINDS lists, with reasons, the views whose parameter
none of these names. A new URL with an id is thus swept, or fails `test_every_object_pattern_has_a_kind`.

Known leaks under repair are listed in KNOWN_OPEN with their issue item: their cases must still fail
(so that the list is emptied when they are fixed), every other one must pass.

PASSERELLES_AUDIT_STATS=1 with -s prints the requests and processor time per first path segment;
PASSERELLES_AUDIT_TRACE=<file> appends each pattern's problems to the file as they are found.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import resolve
from machina.apps.forum_permission.handler import PermissionHandler
from wagtail.documents import get_document_model
from wagtail.models import Page

from cms.selectors import Visibility
from directory import access
from directory.access import ChatRoomKind
from forum import moderation
from forum import services as forum_services
from tests.factories.audit_world import ROLES, World, audit_world, person_is_visible
from tests.test_permission_audit import (
    _ROUTE_PARAM,
    AUDITED,
    STATS,
    Case,
    PatternInfo,
    Rule,
    Verdicts,
    _is_login_redirect,
    _is_public,
    _with_review_in_progress,
    audit_case,
    cases_for,
    request_as,
)

User = get_user_model()

# --- which model each parameter names ---------------------------------------------------------------

# Parameters that name an object (the others: tokens, document kinds, file names… are not swept).
_OBJECT_PARAM = re.compile(r"^(pk|slug|username|object_id|(\w+)_(pk|id|slug))$")

# Views whose parameter neither the view's `model`, the parameter's name nor the path says: our views
# with French paths and get_object of their own, and machina's member profile (its pk is a user's).
VIEW_KINDS: dict[str, dict[str, str]] = {
    "directory:association-detail": {"slug": "directory.Association"},
    "directory:person-detail": {"username": "directory.User"},
    **{f"exchange:meeting-{name}": {"pk": "exchange.NationalMeeting"} for name in ("respond", "ics", "agenda")},
    "exchange:post-report": {"pk": "forum_conversation.Post"},
    "exchange:report-close": {"pk": "exchange.PostReport"},
    "exchange:notification-open": {"pk": "exchange.Notification"},
    "forum_member:profile": {"pk": "directory.User"},
    "forum_member:user_posts": {"pk": "directory.User"},
    "forum_moderation:queued_post": {"pk": "forum_conversation.Post"},
    **{f"chat:{name}": {"pk": "chat.ChatRoom"} for name in (
        "room-detail", "message-send", "messages-json", "room-participants", "message-edit", "message-delete")},
    "parrainage:match": {"slug": "directory.Association"},
    "parrainage:respond": {"pk": "parrainage.Parrainage"},
    "parrainage:tick": {"pk": "parrainage.Parrainage"},
    **{f"parrainage:commission-{name}": {"pk": "membership.MembershipApplication"} for name in (
        "application", "examine", "comment", "request", "decide", "invitations", "document", "answer-file")},
    # A restriction's id: Wagtail's own password form (the audit's restrictions are by group).
    "wagtaildocs_authenticate_with_password": {"restriction_id": "wagtaildocs.CollectionViewRestriction"},
    "wagtailcore_authenticate_with_password": {"page_view_restriction_id": "wagtailcore.PageViewRestriction"},
}

# Prefixes of `<thing>_pk` / `<thing>_id` whose model is not named `thing`.
NAME_ALIASES = {"message": "chat.ChatMessage", "request": "membership.InformationRequest"}


def _model(label: str) -> type[models.Model]:
    return apps.get_model(label)


def _model_named(word: str) -> type[models.Model] | None:
    word = word.lower().rstrip("s")
    found = [m for m in apps.get_models() if m._meta.model_name == word]
    return found[0] if len(found) == 1 else None


def _view_class(info: PatternInfo):
    match = resolve_pattern(info)
    return getattr(match.func, "view_class", None) if match else None


def resolve_pattern(info: PatternInfo):
    """The callback of a pattern (through a URL the pattern itself builds with dummy values)."""
    from tests.test_permission_audit import _fill_route

    url = _fill_route(info.route, lambda name: "1")
    try:
        return resolve(urlsplit(url).path)
    except Exception:
        return None


def kind_of(info: PatternInfo, name: str) -> type[models.Model] | None:
    """The model a route parameter names, or None when it names no object."""
    match = _OBJECT_PARAM.match(name)
    if not match:
        return None
    if info.view_name in VIEW_KINDS and name in VIEW_KINDS[info.view_name]:
        return _model(VIEW_KINDS[info.view_name][name])
    if info.route.startswith("admin/") and name == "object_id":
        admin = re.match(r"admin/(\w+)/(\w+)/<path:object_id>/", info.route)
        return apps.get_model(admin[1], admin[2]) if admin else None
    thing = match.group(2)
    if thing:
        if thing in NAME_ALIASES:
            return _model(NAME_ALIASES[thing])
        return _model_named(thing)
    view_class = _view_class(info)
    if getattr(view_class, "model", None) is not None:
        return view_class.model
    if name == "username":
        return User
    # The literal segment before the parameter: machina's "topic/<str:slug>-<int:pk>/".
    before = info.route.split(f"<{name}>")[0] if f"<{name}>" in info.route else re.split(r"<[^>]*:" + name + ">",
                                                                                         info.route)[0]
    segments = [s for s in re.split(r"[/-]", re.sub(r"<[^>]+>", "", before)) if s]
    return _model_named(segments[-1]) if segments else None


def route_params(info: PatternInfo) -> list[tuple[str, str]]:
    """(converter, name) of each parameter of the route, in order."""
    return [(m.group("converter") or "str", m.group("name")) for m in _ROUTE_PARAM.finditer(info.route)]


def object_params(info: PatternInfo) -> list[str]:
    return [name for _c, name in route_params(info) if _OBJECT_PARAM.match(name)]


def main_param(info: PatternInfo) -> str | None:
    """The parameter that picks the object (the last id-like one: a post's pk after its topic's)."""
    params = object_params(info)
    ids = [p for p in params if not p.endswith("slug")]
    return (ids or params or [None])[-1]


# Patterns swept: ours, machina's, Wagtail's front end, and Django's admin change pages (its other
# object pages answer by the same gate and ModelAdmin permissions; the chosen objects of
# test_permission_audit try them). Wagtail's admin (pages, images… by id) stays with the chosen objects.
def _swept(info: PatternInfo) -> bool:
    if info.route.startswith(("cms-admin/", "^static/", "^media/")) or (info.view_name or "").startswith("wagtail"):
        return False
    if info.route.startswith("admin/"):
        return info.route.endswith("<path:object_id>/change/")
    return main_param(info) is not None


SWEPT = [p for p in AUDITED if _swept(p)]

# Django's admin (reference data: regions, courts…): the first objects of each model are enough; the
# people's and associations' own tables are small and swept whole.
ADMIN_OBJECTS = 12
ADMIN_ROLES = ("member", "staff", "superuser")
# The refused POST (an empty body) of a swept address is tried as one of these roles, in turn from one
# object to the next (a sample: test_permission_audit POSTs as every refused role on its chosen objects).
SWEEP_POST_ROLES = ("outsider", "member", "newcomer", "dica", "wg_member")


# --- who may see each object --------------------------------------------------------------------------


def _reads_forum(forum) -> Rule:
    return lambda user: user is not None and PermissionHandler().can_read_forum(forum, user)


def _sees_post(post) -> Rule:
    """A post: readers of its forum; awaiting approval, its author and those who approve posts there."""
    forum = post.topic.forum

    def rule(user) -> bool:
        if not _reads_forum(forum)(user):
            return False
        return (post.approved and post.topic.approved) or post.poster_id == user.pk \
            or PermissionHandler().can_approve_posts(forum, user)
    return rule


def _joins_room(room) -> Rule:
    from chat.models import ChatMembership

    def rule(user) -> bool:
        if user is None:
            return False
        participant = ChatMembership.objects.filter(room=room, user=user).exists()
        return access.can_join_chat_room(user, kind=room.kind, key=room.key, is_participant=participant)
    return rule


def _signed_in(check: Callable[[object], bool]) -> Rule:
    return lambda user: user is not None and bool(check(user))


# model label → object → who may see it (None: decided by the view alone, e.g. Wagtail's restrictions).
KIND_RULES: dict[str, Callable[[object], Rule | None]] = {
    "directory.User": lambda p: _signed_in(lambda u: person_is_visible(u, p)),
    "directory.Association": lambda a: _signed_in(lambda u: access.can_view_association(u, a)),
    "forum.Forum": _reads_forum,
    "forum_conversation.Topic": lambda t: _sees_post(t.first_post) if t.first_post else _reads_forum(t.forum),
    "forum_conversation.Post": _sees_post,
    "forum_polls.TopicPoll": lambda poll: _reads_forum(poll.topic.forum),
    "forum_attachments.Attachment": lambda a: _signed_in(
        lambda u: _sees_post(a.post)(u) and PermissionHandler().can_download_files(a.post.topic.forum, u)),
    "exchange.NationalMeeting": lambda m: _signed_in(lambda u: forum_services.can_view_meeting(u, m)),
    "exchange.Notification": lambda n: _signed_in(lambda u: u.pk == n.recipient_id),
    "exchange.PostReport": lambda r: _signed_in(lambda u: moderation.can_moderate_forum(u, r.forum)),
    "chat.ChatRoom": _joins_room,
    "chat.ChatMessage": lambda m: _joins_room(m.room),
    "parrainage.Parrainage": lambda p: _signed_in(lambda u: access.can_view_parrainage(u, p)),
    "membership.MembershipApplication": lambda a: _signed_in(access.can_examine_applications),
    "membership.InformationRequest": lambda r: _signed_in(access.can_examine_applications),
    "wagtaildocs.CollectionViewRestriction": lambda r: None,
    "wagtailcore.PageViewRestriction": lambda r: None,
}

# Patterns that show a kind of object to fewer people than the kind's rule, with the reason.
PATTERN_RULES: dict[str, Callable[[World, object], Rule]] = {
    # issue 16, item 5: a forum profile is a person's page in the forum; people outside the network
    # (inactive, of a candidate association) have none, to anyone.
    "forum_member:profile": lambda w, p: _signed_in(lambda u: person_is_visible(u, p) and access.is_member(p)),
    "forum_member:user_posts": lambda w, p: _signed_in(lambda u: person_is_visible(u, p) and access.is_member(p)),
    # Topics are opened where machina's handler lets the reader add one (not in a category, nor in the
    # meetings' forum but by staff).
    "forum_conversation:topic_create": lambda w, f: _signed_in(
        lambda u: _reads_forum(f)(u) and PermissionHandler().can_add_topic(f, u)),
    # Federal staff manage ad-hoc rooms (access.can_create_chat_room): they see their participants
    # without being in them.
    "chat:room-participants": lambda w, r: _signed_in(
        lambda u: _joins_room(r)(u) or (r.kind == ChatRoomKind.ADHOC and access.can_create_chat_room(u))),
    # A post one may report: forum.moderation.reportable_post (not one still awaiting approval).
    "exchange:post-report": lambda w, p: _signed_in(
        lambda u: access.is_member(u) and moderation.reportable_post(u, p.pk, PermissionHandler()) is not None),
    # The candidate's private link is the credential: whoever holds it sees their own application's
    # questions, and no other's.
    "membership-answer": lambda w, r: lambda u: r.application_id == w.application.pk,
    "membership-answer-file": lambda w, r: lambda u: r.application_id == w.application.pk,
}


def rule_for(world: World, info: PatternInfo, model, obj) -> Rule | None:
    if info.view_name in PATTERN_RULES:
        return PATTERN_RULES[info.view_name](world, obj)
    if info.route.startswith("admin/"):
        from tests.test_permission_audit import django_admin_users

        return django_admin_users
    label = model._meta.label
    if label not in KIND_RULES:
        raise LookupError(f"{info.id}: no rule of the rule book for {label}: add it to KIND_RULES")
    return KIND_RULES[label](obj)


# --- objects and their addresses --------------------------------------------------------------------


def label_of(obj) -> str:
    """A name of the object that stays the same from one run (and database) to the next."""
    for attribute in ("username", "slug", "key"):
        value = getattr(obj, attribute, None)
        if value:
            return f"{type(obj).__name__} {value}"
    return f"{type(obj).__name__} «{str(obj)[:50]}»"


def objects_of(model, info: PatternInfo) -> list:
    objects = model._default_manager.order_by("pk")
    if info.route.startswith("admin/"):
        return list(objects[:ADMIN_OBJECTS])
    return list(objects)


def _related(obj, model, depth: int = 3):
    """The object of `model` that `obj` belongs to (its topic's forum, its message's room…)."""
    if isinstance(obj, model):
        return obj
    if depth == 0:
        return None
    for field in obj._meta.get_fields():
        if isinstance(field, models.ForeignKey) and not field.auto_created:
            target = getattr(obj, field.name, None)
            if target is not None:
                found = _related(target, model, depth - 1)
                if found is not None:
                    return found
    return None


def _value(obj, name: str) -> str:
    if name == "username":
        return obj.username
    if name == "slug" or name.endswith("_slug"):
        return obj.slug
    return str(obj.pk)


def address(info: PatternInfo, obj, main_value: str | None = None) -> str | None:
    """The URL of the pattern for `obj` (its other parameters taken from the objects it belongs to);
    `main_value` replaces the object's own id (a missing or malformed one). None: the pattern cannot
    be built for this object (a topic without a forum…)."""
    from tests.test_permission_audit import _fill_route

    main = main_param(info)
    sample = SAMPLE_VALUES.get(info.id, {})

    def value_for(name: str) -> str:
        model = kind_of(info, name)
        if model is None:
            if name not in sample:
                raise LookupError(name)
            return sample[name]
        if name == main and main_value is not None:
            return main_value
        target = _related(obj, model)
        if target is None:
            raise LookupError(name)
        return _value(target, name)

    try:
        return _fill_route(info.route, value_for)
    except LookupError:
        return None


# The values of parameters that name no object, read from the chosen addresses of test_permission_audit.
SAMPLE_VALUES: dict[str, dict[str, str]] = {}


def sample_objects(world: World, info: PatternInfo) -> list[tuple[Case, object]]:
    """test_permission_audit's chosen cases of the pattern and the object each is about."""
    main, model = main_param(info), kind_of(info, main_param(info))
    found = []
    for case in cases_for(world, info):
        try:
            match = resolve(urlsplit(case.url).path)
        except Exception:
            continue
        SAMPLE_VALUES.setdefault(info.id, {}).update(
            {k: str(v) for k, v in match.kwargs.items() if kind_of(info, k) is None})
        value = match.kwargs.get(main)
        field = {"username": "username", "slug": "slug"}.get(main, "pk")
        if main.endswith("_slug"):
            field = "slug"
        try:
            obj = model._default_manager.filter(**{field: value}).first() if value is not None else None
        except (ValidationError, ValueError):  # the admin's made-up id of a model without rows (a UUID…)
            obj = None
        if obj is not None:
            found.append((case, obj))
    return found


def is_plain(world: World, info: PatternInfo, samples: list[tuple[Case, object]]) -> bool:
    """Whether the pattern lets in exactly those the object's rule lets see it (then whoever it lets in
    must get the page), judged on its chosen objects for every role."""
    model = kind_of(info, main_param(info))
    for case, obj in samples:
        rule = rule_for(world, info, model, obj)
        if rule is None:
            return False
        for role in ROLES:
            user = world.user(role)
            if case.rule(user) is None or bool(case.rule(user)) != bool(rule(user)):
                return False
    return bool(samples)


def swept_rule(rule: Rule | None, plain: bool) -> Rule:
    def decide(user):
        decided = rule(user) if rule is not None else None
        if decided is None:  # past a gate, the view's own permissions decide (Django's admin)
            return None
        if not decided:
            return False
        return True if plain else None
    return decide


# --- known leaks under repair ----------------------------------------------------------------------

# (pattern's view name, object's label) → the issue item whose fix closes it. Their cases must still
# fail (test_known_open_cases_still_fail tells when one is fixed: then remove it here).
KNOWN_OPEN: dict[tuple[str, str], str] = {}


# --- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def audit(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock(), audit_world(tmp_path_factory.mktemp("audit-sweep-media")) as built:
        _with_review_in_progress(built.world)
        yield built.world, built.clients, built.hidden
    if STATS:
        print("\n".join(f"{k:20} {n:6} {t:8.1f}s" for k, (n, t) in sorted(STATS.items(), key=lambda i: -i[1][1])))


def _roles_for(info: PatternInfo) -> Iterable[str]:
    return ADMIN_ROLES if info.route.startswith("admin/") else ROLES


def _trace(info, problems) -> None:
    """PASSERELLES_AUDIT_TRACE=<file>: each pattern's problems are appended to the file as soon as found
    (under xdist, pytest shows them only at the end of a long run)."""
    if os.environ.get("PASSERELLES_AUDIT_TRACE") and problems:
        with open(os.environ["PASSERELLES_AUDIT_TRACE"], "a") as out:
            out.write(f"## {info.id}\n" + "\n".join(line for found in problems.values() for line in found) + "\n")


# --- the tests ---------------------------------------------------------------------------------------


def test_every_object_pattern_has_a_kind():
    """Every swept parameter names a model (else: VIEW_KINDS, with the reason)."""
    missing = [f"{p.id} <{name}>" for p in SWEPT for name in object_params(p) if kind_of(p, name) is None]
    assert not missing, "\n".join(missing)


def test_the_sweep_covers_the_object_patterns():
    """The guard: the patterns of the issue are swept, with the model they name."""
    kinds = {p.view_name: kind_of(p, main_param(p))._meta.label for p in SWEPT}
    assert kinds["directory:person-detail"] == "directory.User"
    assert kinds["forum_member:profile"] == "directory.User"
    assert kinds["forum_conversation:topic"] == "forum_conversation.Topic"
    assert kinds["forum_conversation:post_update"] == "forum_conversation.Post"
    assert kinds["chat:message-edit"] == "chat.ChatMessage"
    assert kinds["forum:forum"] == "forum.Forum"
    assert kinds["forum_conversation:attachment"] == "forum_attachments.Attachment"
    assert kinds["parrainage:commission-answer-file"] == "membership.InformationRequest"
    assert kinds["admin:directory_user_change"] == "directory.User"


@dataclass
class SweepResult:
    problems: dict[str, list[str]]  # object label → problems
    requests: int


def sweep(world: World, clients, hidden, info: PatternInfo) -> SweepResult:
    model = kind_of(info, main_param(info))
    samples = sample_objects(world, info)
    plain = is_plain(world, info, samples) if not info.route.startswith("admin/") else False
    ok = samples[0][0].ok if samples else frozenset({200, 302})
    problems: dict[str, list[str]] = {}
    count = 0
    for index, obj in enumerate(objects_of(model, info)):
        url = address(info, obj)
        if url is None:
            continue
        match = resolve(urlsplit(url).path)
        assert match.route == info.route, f"{url} does not resolve to {info.id}"
        case = Case(url, swept_rule(rule_for(world, info, model, obj), plain), ok=ok, note=label_of(obj),
                    post_as=frozenset({SWEEP_POST_ROLES[index % len(SWEEP_POST_ROLES)]}))
        verdicts = Verdicts()
        for role in _roles_for(info):
            audit_case(case, role, world.user(role), clients[role], hidden[role], verdicts)
            count += 1
        if verdicts.problems:
            problems[label_of(obj)] = verdicts.problems
    return SweepResult(problems, count)


@pytest.mark.django_db
@pytest.mark.parametrize("info", SWEPT, ids=[p.id for p in SWEPT])
def test_every_object_answers_every_role_as_the_rules_say(info, audit):
    world, clients, hidden = audit
    result = sweep(world, clients, hidden, info)
    # Django's admin lists every model, some of which the world has no row of (outbox e-mails…).
    assert result.requests or info.route.startswith("admin/"), f"{info.id}: no object swept"
    unexpected = {label: found for label, found in result.problems.items()
                  if (info.view_name, label) not in KNOWN_OPEN}
    still_open = {key for key in KNOWN_OPEN if key[0] == info.view_name and not key[1].startswith("id ")}
    fixed = sorted(label for view, label in still_open if label not in result.problems)
    _trace(info, result.problems)
    assert not unexpected, f"{info.id}:\n" + "\n".join(line for found in unexpected.values() for line in found)
    assert not fixed, f"{info.id}: fixed, remove from KNOWN_OPEN: {fixed}"


# Ids that name nothing: a missing one, negative, zero, beyond any integer column, not a number, and
# a made-up slug/username. Their answer is 404 (or the refusal that comes before any lookup).
BAD_VALUES = ("999999", "-1", "0", "99999999999999999999", "abc")
BAD_ROLES = ("anonymous", "member", "superuser")


@pytest.mark.django_db
@pytest.mark.parametrize("info", SWEPT, ids=[p.id for p in SWEPT])
def test_missing_and_malformed_ids_answer_404_never_an_error(info, audit):
    world, clients, _hidden = audit
    model = kind_of(info, main_param(info))
    sample_objects(world, info)
    base = next((obj for obj in objects_of(model, info) if address(info, obj) is not None), None)
    assert base is not None or info.route.startswith("admin/"), f"{info.id}: no object to build the address on"
    main = main_param(info)
    found: dict[str, list[str]] = {}
    for value in BAD_VALUES:
        if base is None:  # an admin page of a model without rows: its one parameter is the id
            from tests.test_permission_audit import _fill_route

            url = _fill_route(info.route, lambda name, value=value: value)
        else:
            url = address(info, base, main_value=value)
        path = urlsplit(url).path
        try:
            match = resolve(path)
        except Exception:
            match = None
        if match is not None and match.route == info.route and str(match.kwargs.get(main)) != value:
            continue  # "sujet--1" is the topic 1 with the slug "sujet-": not a malformed id
        problems = found.setdefault(f"id {value}", [])
        for role in BAD_ROLES if not info.route.startswith("admin/") else ("member", "superuser"):
            for method in ("GET", "POST") if role == "member" else ("GET",):
                response, _body, writes = request_as(clients[role], method, url)
                if isinstance(response, Exception):
                    problems.append(f"{role} {method} {url} → exception {type(response).__name__}: {response}")
                    continue
                status = response.status_code
                if role == "anonymous" and not _is_public(path):
                    fine = _is_login_redirect(response) or status == 404
                elif info.route.startswith("admin/"):
                    # Django's admin sends an unknown object back to its index with a message.
                    fine = status in (302, 404) if role == "superuser" else _is_login_redirect(response)
                else:
                    fine = status in (403, 404, 405) or _is_login_redirect(response)
                if not fine:
                    problems.append(f"{role} {method} {url} → {status}")
                if writes and method == "POST":
                    problems.append(f"{role} {method} {url} → écrit en base : {writes[0]}")
    found = {label: problems for label, problems in found.items() if problems}
    _trace(info, found)
    unexpected = {label: problems for label, problems in found.items() if (info.view_name, label) not in KNOWN_OPEN}
    fixed = sorted(label for view, label in KNOWN_OPEN if view == info.view_name and label.startswith("id ")
                   and label not in found)
    assert not unexpected, f"{info.id}:\n" + "\n".join(line for lines in unexpected.values() for line in lines)
    assert not fixed, f"{info.id}: fixed, remove from KNOWN_OPEN: {fixed}"


def _page_address(page) -> str | None:
    """Where Wagtail serves the page (a draft never published: where it would be)."""
    site_root = page.get_site().root_page if page.get_site() else None
    if site_root is None or not page.url_path.startswith(site_root.url_path):
        return None
    return "/" + page.url_path.removeprefix(site_root.url_path)


def _sees_page(page) -> Rule:
    """What cms.selectors.Visibility lets a reader see (only published pages); a signed-in account
    outside the network gets 403 on every page (cms.models.HomePage.serve, cms.wagtail_hooks)."""
    return lambda user: page.live and Visibility(user).can_view_page(page) and (user is None or access.is_member(user))


@pytest.mark.django_db
def test_every_page_and_document_answers_every_role_as_visibility_says(audit):
    """Wagtail's page serving and document serving (their patterns take a path and a document id)."""
    world, clients, hidden = audit
    cases = []
    for page in Page.objects.filter(depth__gt=1).specific().order_by("path"):
        url = _page_address(page)
        if url is not None:
            cases.append(Case(url, _sees_page(page), note=f"page {page.slug}", post_as=frozenset({"member"})))
    for document in get_document_model().objects.order_by("pk"):
        cases.append(Case(document.url, (lambda d: lambda u: Visibility(u).can_view_document(d))(document),
                          note=f"document {document.title[:30]}", post_as=frozenset({"member"})))
    assert len(cases) >= 8, "the guard: the world's pages and documents are swept"
    verdicts = Verdicts()
    for case in cases:
        for role in ROLES:
            audit_case(case, role, world.user(role), clients[role], hidden[role], verdicts)
    assert not verdicts.problems, "\n".join(verdicts.problems)

