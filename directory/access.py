"""The one rule book: who may see what, for the whole project.

Forum, chat, CMS and search ask this module; none of them decides access on its own. Everything
here derives from a person's roles (RoleAssignment) and association, so a role change takes
effect everywhere at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet
from machina.core.loading import get_class

from directory import hooks
from directory.models import Association, RoleAssignment
from directory.roles import (
    MEMBERS_GROUP_KEY,
    REGION_SCOPED,
    STAFF_GROUP_KEY,
    Role,
    region_group_key,
    role_group_key,
    working_group_group_key,
)

# Cached per user instance (per request); services call `forget(user)` after changing roles.
_PROFILE_ATTR = "_passerelles_access_profile"


@dataclass(frozen=True)
class AccessProfile:
    """What the access rules need to know about a person, loaded with a fixed number of queries."""

    is_authenticated: bool
    is_active: bool = False
    is_superuser: bool = False
    association_id: int | None = None
    association_status: str | None = None
    association_region_id: int | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    scoped_region_ids: frozenset[int] = field(default_factory=frozenset)
    working_group_ids: frozenset[int] = field(default_factory=frozenset)
    working_group_slugs: frozenset[str] = field(default_factory=frozenset)
    theme_slugs: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_staff_role(self) -> bool:
        return Role.FEDERAL_STAFF in self.roles

    @property
    def is_member(self) -> bool:
        """A member of the network: an active person of a member association, or of the federation."""
        if not (self.is_authenticated and self.is_active):
            return False
        if self.is_superuser or self.is_staff_role or Role.BOARD_ADMIN in self.roles:
            return True
        return self.association_status == Association.Status.MEMBER

    @property
    def region_ids(self) -> frozenset[int]:
        """Regions whose regional life the person takes part in: their association's and their scope."""
        ids = set(self.scoped_region_ids)
        if self.association_region_id and self.is_member:
            ids.add(self.association_region_id)
        return frozenset(ids)


ANONYMOUS = AccessProfile(is_authenticated=False)


def profile(user) -> AccessProfile:
    """Load (once per user object) what access decisions need about `user`."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    cached = getattr(user, _PROFILE_ATTR, None)
    if cached is not None:
        return cached
    association = None
    if user.association_id:
        # One query for the association and its region, unless the caller already loaded them.
        if "association" in user._state.fields_cache:
            association = user.association
        else:
            association = Association.objects.select_related("region").filter(pk=user.association_id).first()
            if association is not None:
                # Kept on the person too: pages that show their association (the dashboard) read no more.
                user._state.fields_cache["association"] = association
    region_id = association.region_id if association is not None else None
    assignments = list(RoleAssignment.objects.filter(user_id=user.pk).select_related("theme", "working_group"))
    result = AccessProfile(
        is_authenticated=True,
        is_active=user.is_active,
        is_superuser=user.is_superuser,
        association_id=user.association_id,
        association_status=association.status if association else None,
        association_region_id=region_id,
        roles=frozenset(a.role for a in assignments),
        scoped_region_ids=frozenset(a.region_id for a in assignments if a.role in REGION_SCOPED and a.region_id),
        working_group_ids=frozenset(a.working_group_id for a in assignments if a.working_group_id),
        working_group_slugs=frozenset(
            a.working_group.slug for a in assignments if a.working_group_id
        ),
        theme_slugs=frozenset(a.theme.slug for a in assignments if a.theme_id),
    )
    setattr(user, _PROFILE_ATTR, result)
    return result


def forget(user) -> None:
    """Drop the cached profile after the person's roles or association changed."""
    for attr in (_PROFILE_ATTR, "_passerelles_chat_theme_slugs", "_passerelles_search_keys"):
        if user is not None and hasattr(user, attr):
            delattr(user, attr)
    changed()


def audience_parts(user) -> tuple:
    """Everything of `user`'s access profile that decides what they may see (for directory.fragments'
    audiences: two people with the same parts are entitled to the same shared page parts)."""
    p = profile(user)
    return (p.is_authenticated, p.is_active, p.is_superuser, p.association_id, p.association_status,
            p.association_region_id, p.roles, p.scoped_region_ids, p.working_group_ids, p.theme_slugs)


# --- Access version -------------------------------------------------------------------------------
# Some answers cost a dozen queries (the search keys of a person: the forums machina lets them read,
# their rooms, the CMS restrictions they pass). They are kept in the cache across requests under the
# current access version, which `changed()` replaces whenever something they derive from changes:
# roles, groups, associations, forum permissions and forums, rooms and memberships, page and
# collection restrictions (directory/access_signals.py connects those models' signals). A new version
# is a random token, never a counter: a version lost from the cache can never bring old entries back.

_VERSION_KEY = "passerelles:access-version"
# A safety net for changes made without signals (a bulk `update()` in a shell): entries expire anyway.
ACCESS_CACHE_SECONDS = 600


def version() -> str:
    """The current access version (a token to put in cache keys of access-derived answers)."""
    current = cache.get(_VERSION_KEY)
    if current is None:
        cache.add(_VERSION_KEY, uuid.uuid4().hex, None)
        current = cache.get(_VERSION_KEY) or "unset"
    return current


def changed() -> None:
    """Something access answers derive from changed: every cached answer is outdated.

    Inside a unit of work (directory.hooks: every directory service and admin screen) the version is
    replaced once, when the unit ends, however many rows changed; elsewhere at once.
    """
    if hooks.in_unit_of_work():
        hooks.at_end_of_unit(_replace_version)
    else:
        _replace_version()


def _replace_version() -> None:
    """Replaced now (this process sees the change at once) and again after the transaction commits: a
    request that read the new version before the commit may have cached an answer computed from the
    old rows under it."""
    cache.set(_VERSION_KEY, uuid.uuid4().hex, None)
    transaction.on_commit(_replace_after_commit)


def _replace_after_commit() -> None:
    cache.set(_VERSION_KEY, uuid.uuid4().hex, None)


def cached_answers_allowed() -> bool:
    """Whether answers derived from access rows may be read from and kept in the cache now.

    Not inside a unit of work (the version is replaced when it ends), nor in a transaction that changed
    access and has not committed: the version replaced at once by `changed()` would otherwise label
    answers computed from rows a rollback may undo (the replacement after commit never comes then)."""
    if hooks.in_unit_of_work():
        return False
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return True
    return not any(entry[1] is _replace_after_commit for entry in connection.run_on_commit)


# --- Questions the rest of the project asks -------------------------------------------------------


def is_member(user) -> bool:
    return profile(user).is_member


def has_role(user, role: str) -> bool:
    p = profile(user)
    return p.is_member and role in p.roles


def is_federal_staff(user) -> bool:
    p = profile(user)
    return p.is_member and (p.is_staff_role or p.is_superuser)


def can_view_directory(user) -> bool:
    return is_member(user)


def can_view_association(user, association) -> bool:
    """Members see member and former associations; candidates only show to staff and the commission."""
    if not is_member(user):
        return False
    if association.status == Association.Status.CANDIDATE:
        return is_federal_staff(user) or has_role(user, Role.MEMBERSHIP_COMMISSION)
    return True


def can_view_person(user, person) -> bool:
    """Whose directory page (and forum profile) `user` may open: a person shows where the directory
    lists them (`directory_people`, to `listing_audience`), so people of a candidate association only to
    federal staff and the membership commission, as their association; people of a former member
    association to every member, as their association. Federal staff see everyone, inactive accounts
    and accounts outside the directory (a technical superuser) included; everyone sees their own page.
    docs/access.md, "Whose page a person may open"."""
    if not is_member(user):
        return False
    if user.pk == person.pk or is_federal_staff(user):
        return True
    if not person.is_active:
        return False
    if person.association_id is None:
        return Role.FEDERAL_STAFF in profile(person).roles
    return person.association.status in visible_association_statuses(user)


def can_view_forum_profile(user, person) -> bool:
    """A forum profile is a page of the network's forum: only people of the network have one (candidates,
    former members and closed accounts do not, whatever the viewer), and only to those who may open the
    person's directory page."""
    return is_member(person) and can_view_person(user, person)


def can_view_contact(user, person) -> bool:
    """Phone and e-mail of a person: to members if the person allows it; always to staff and to oneself."""
    if not can_view_person(user, person):
        return False
    if user.pk == person.pk or is_federal_staff(user):
        return True
    return person.contact_visible_to_members


def can_edit_person(user, person) -> bool:
    return is_member(user) and (user.pk == person.pk or is_federal_staff(user))


def can_import_network(user) -> bool:
    """Load associations and people from a spreadsheet and invite them (/admin/): superusers, and federal
    staff with access to the admin who may add associations and people."""
    if not (user.is_active and user.is_staff):
        return False
    return user.is_superuser or (is_federal_staff(user) and user.has_perm("directory.add_association")
                                 and user.has_perm("directory.add_user"))


def opens_site_admin(user) -> bool:
    """Whether the person opens Django's /admin/: Django's own rule (AdminSite.has_permission), an
    active account with the admin flag, which `create_admin` and /admin/ itself set."""
    return bool(user is not None and getattr(user, "is_active", False) and getattr(user, "is_staff", False))


def can_lift_login_blocks(user) -> bool:
    """See and lift login blocks and locked accounts (/admin/directory/loginblock/, directory.lockout):
    federal staff and superusers, through the site admin."""
    return opens_site_admin(user) and (user.is_superuser or is_federal_staff(user))


def visible_association_statuses(user) -> list[str]:
    if is_federal_staff(user) or has_role(user, Role.MEMBERSHIP_COMMISSION):
        return [Association.Status.MEMBER, Association.Status.FORMER, Association.Status.CANDIDATE]
    if is_member(user):
        return [Association.Status.MEMBER, Association.Status.FORMER]
    return []


def listing_audience(association_status: str | None) -> tuple[str, ...]:
    """Who finds an association of this status, or a person of it, in lists and search, as
    `audience_keys`: candidates only federal staff and the membership commission (as
    `visible_association_statuses` says), everything else every member."""
    if association_status == Association.Status.CANDIDATE:
        return ("staff", f"role:{Role.MEMBERSHIP_COMMISSION}")
    return ("members",)


# --- The same rules as querysets ------------------------------------------------------------------
# Lists ask these rather than filtering by group, status or account flag themselves, so that a list
# and the yes/no answers above never disagree.


def members() -> QuerySet:
    """The people who belong to the network (`is_member`), as a queryset: the active people of the
    members' group, which `directory.services.sync_groups` keeps to exactly those `group_keys` puts
    there."""
    return get_user_model().objects.filter(is_active=True, groups__managed__key=MEMBERS_GROUP_KEY)


def role_holders(role: str) -> QuerySet:
    """The active people holding `role` in the network (its group, see `group_keys`), each once."""
    return get_user_model().objects.filter(is_active=True, groups__managed__key=role_group_key(role)).distinct()


def visible_people(user) -> QuerySet:
    """The people whose directory page `user` may open (`can_view_person` as a queryset)."""
    people = get_user_model().objects.all()
    if not is_member(user):
        return people.none()
    if is_federal_staff(user):
        return people
    listed = _directory_condition(association_statuses=visible_association_statuses(user))
    return people.filter(listed | Q(pk=user.pk))


def directory_people() -> QuerySet:
    """The people the directory lists (search indexes them): the active people of an association, and
    the federal team, who belong to none. Each is shown to `listing_audience` of their association."""
    return get_user_model().objects.filter(_directory_condition())


def _directory_condition(*, association_statuses: Iterable[str] | None = None) -> Q:
    """Active people of an association (of one of `association_statuses`, if given) or of the federal
    team without association."""
    federal_team = RoleAssignment.objects.filter(role=Role.FEDERAL_STAFF).values("user_id")
    of_association = Q(association__isnull=False)
    if association_statuses is not None:
        of_association = Q(association__status__in=list(association_statuses))
    return Q(is_active=True) & (of_association | Q(association__isnull=True, pk__in=federal_team))


def group_keys(user) -> set[str]:
    """Keys of the groups a person belongs to, derived from roles and association (directory.roles).

    This is what `directory.services.sync_groups` writes (through directory.groups); machina forum
    permissions and Wagtail page privacy are granted to these groups, so they follow roles
    automatically. Keys name regions and working groups by id: renaming them changes nothing here.
    """
    p = profile(user)
    if not p.is_member:
        return set()
    keys = {MEMBERS_GROUP_KEY}
    keys.update(role_group_key(role) for role in p.roles)
    region_ids = set(p.scoped_region_ids)
    if p.association_region_id:
        region_ids.add(p.association_region_id)
    keys.update(region_group_key(pk) for pk in region_ids)
    keys.update(working_group_group_key(pk) for pk in p.working_group_ids)
    return keys


def audience_keys(user) -> set[str]:
    """Search and notification audiences the person belongs to (docs/architecture.md, Search)."""
    p = profile(user)
    if not p.is_member:
        return {"public"}
    keys = {"public", "members"}
    keys.update(f"role:{role}" for role in p.roles)
    keys.update(f"region:{region_id}" for region_id in p.region_ids)
    keys.update(f"wg:{slug}" for slug in p.working_group_slugs)
    if p.is_staff_role or p.is_superuser:
        keys.add("staff")
    return keys


# --- Forum spaces -------------------------------------------------------------------------------


class ForumKind:
    """Kinds of forum spaces (forum/models.py ForumSpace.kind uses these values)."""

    THEME = "theme"
    DIRECTION = "direction"
    PRESIDENCY = "presidency"
    BOARD = "board"
    REGION = "region"
    WORKING_GROUP = "working_group"
    WELCOME = "welcome"


@dataclass(frozen=True)
class ForumAudience:
    """Which groups read and post in a forum space, and which moderate it."""

    participants: frozenset[str]
    moderators: frozenset[str]

    @property
    def readers(self) -> frozenset[str]:
        return self.participants | self.moderators


def forum_audience(kind: str, *, region_id: int | None = None, working_group_id: int | None = None
                   ) -> ForumAudience:
    """The rule for each kind of forum space (issue 3): participants post, moderators also moderate.

    Audiences are group keys (directory.roles). Federal staff moderate every space except the
    directors' one, which stays among directors (fiche II.8: a place where directors speak freely to
    peers).
    """
    staff = frozenset({STAFF_GROUP_KEY})
    if kind in (ForumKind.THEME, ForumKind.WELCOME):
        return ForumAudience(frozenset({MEMBERS_GROUP_KEY}), staff)
    if kind == ForumKind.DIRECTION:
        return ForumAudience(frozenset({role_group_key(Role.DIRECTOR)}), frozenset())
    if kind == ForumKind.PRESIDENCY:
        return ForumAudience(frozenset({role_group_key(Role.PRESIDENT)}), staff)
    if kind == ForumKind.BOARD:
        return ForumAudience(frozenset({role_group_key(Role.BOARD_ADMIN)}), staff)
    if kind == ForumKind.REGION:
        if not region_id:
            raise ValueError("A regional forum needs its region.")
        return ForumAudience(frozenset({region_group_key(region_id)}), staff)
    if kind == ForumKind.WORKING_GROUP:
        if not working_group_id:
            raise ValueError("A working-group forum needs its working group.")
        return ForumAudience(frozenset({working_group_group_key(working_group_id)}), staff)
    raise ValueError(f"Unknown forum kind: {kind}")


def forum_permission_handler():
    """A new forum permission handler, of the class machina's own views use.

    machina's middleware gives each request the handler its class loader resolves, which is our
    override (forum/overrides/forum_permission/handler.py); the project asks the same class, never
    machina's stock one, so that a page and the lists it shows answer alike. Pass the request's
    handler (`request.forum_permission_handler`) where there is one: it shares machina's per-request
    permission cache.
    """
    return get_class("forum_permission.handler", "PermissionHandler")()


def readable_forums(user, handler=None) -> QuerySet:
    """The forums `user` may read, as a queryset: machina's `can_read_forum`, granted to the groups of
    `forum_audience`, with machina's tree rule (a forum under one the person may not read is hidden)."""
    handler = handler or forum_permission_handler()
    return handler.get_readable_forums(get_class("forum.models", "Forum").objects.all(), user)


def readable_forum_ids(user, handler=None) -> QuerySet:
    """Ids of the forums `user` may read (`readable_forums`), as a subquery."""
    return readable_forums(user, handler).values("pk")


def readable_forum_ids_among(user, forums: Iterable, handler=None) -> set[int]:
    """Which of `forums` `user` may read, each asked as machina's views ask one forum (its own
    `can_read_forum`, no tree rule), at a fixed number of queries for the whole list."""
    forums = list(forums)
    if not forums:
        return set()
    handler = handler or forum_permission_handler()
    return handler.readable_among(forums, user)


# --- CMS: pages, documents and events (issue 4) -------------------------------------------------
# Wagtail's view restrictions (pages) and collection view restrictions (documents) name the groups
# below; `cms` never spells a group name itself. A restriction lets in its groups' members, and
# superusers as Wagtail does.


class CmsAudience:
    """Who a restricted guide, a collection of documents or an event is for (stable keys)."""

    MEMBERS = "members"
    PRESIDENTS = "presidents"
    DIRECTORS = "directors"
    BOARD = "board"
    CORRESPONDENTS = "correspondents"
    REGION = "region"
    STAFF = "staff"


def cms_members_group() -> str:
    """The key of the group of every member of the network: the resources area is restricted to it."""
    return MEMBERS_GROUP_KEY


def cms_editors_group() -> str:
    """Federal staff edit and review the CMS (Wagtail admin access, page and document permissions)."""
    return STAFF_GROUP_KEY


def cms_audience_groups(audience: str, *, region_id: int | None = None) -> frozenset[str]:
    """The group keys a CMS audience stands for. Federal staff belong to every restricted audience.

    `members` is the whole network; `presidents` is the presidents' guide (fiche II.5) and the
    presidents' collection; `region` needs the region (réunions régionales).
    """
    if audience == CmsAudience.MEMBERS:
        return frozenset({MEMBERS_GROUP_KEY})
    if audience == CmsAudience.PRESIDENTS:
        return frozenset({role_group_key(Role.PRESIDENT), STAFF_GROUP_KEY})
    if audience == CmsAudience.DIRECTORS:
        return frozenset({role_group_key(Role.DIRECTOR), STAFF_GROUP_KEY})
    if audience == CmsAudience.BOARD:
        return frozenset({role_group_key(Role.BOARD_ADMIN), STAFF_GROUP_KEY})
    if audience == CmsAudience.CORRESPONDENTS:
        return frozenset({role_group_key(Role.CORRESPONDENT), role_group_key(Role.DICA), STAFF_GROUP_KEY})
    if audience == CmsAudience.REGION:
        if not region_id:
            raise ValueError("A regional audience needs its region.")
        return frozenset({region_group_key(region_id), STAFF_GROUP_KEY})
    if audience == CmsAudience.STAFF:
        return frozenset({STAFF_GROUP_KEY})
    raise ValueError(f"Unknown CMS audience: {audience}")


def working_group_space_groups(working_group_id: int) -> frozenset[str]:
    """Who opens a working group's private space (its page and documents): its members and staff."""
    return frozenset({working_group_group_key(working_group_id), STAFF_GROUP_KEY})


def in_any_group(user, group_keys_allowed) -> bool:
    """Whether the person belongs (through their roles) to one of the groups `group_keys_allowed` names.

    Superusers pass, as with Wagtail's own group restrictions. Group membership is the one derived
    from roles (`group_keys`), which is what `directory.services.sync_groups` writes.
    """
    p = profile(user)
    if not (p.is_authenticated and p.is_active):
        return False
    if p.is_superuser:
        return True
    return bool(group_keys(user) & set(group_keys_allowed))


def passes_view_restriction(user, restriction_type: str, restriction_groups) -> bool:
    """The rule for one Wagtail view restriction (page or collection), decided from roles.

    Types are Wagtail's: "none", "login", "groups", "password"; `restriction_groups` are the keys of
    its managed groups (a hand-made group lets in nobody but superusers). Shared passwords are not
    used in this project: a password restriction never lets anyone in through listings.
    """
    if restriction_type == "none":
        return True
    if restriction_type == "login":
        return profile(user).is_authenticated
    if restriction_type == "groups":
        return in_any_group(user, restriction_groups)
    return False


def can_edit_cms(user) -> bool:
    """Federal staff edit guides, documents and events in the Wagtail admin."""
    return is_federal_staff(user)


# --- Chat rooms (issue 5) -------------------------------------------------------------------------
# Shared rooms follow the directory: a person is in the room of each region they take part in
# (`region_ids`), of each working group they belong to and of each theme they follow (their themes
# of expertise and the themes they are referent for). Direct and ad-hoc rooms have chosen
# participants, which the chat app stores; it passes `is_participant` to the rules below. chat
# materialises memberships (read markers, unread counts) and re-syncs them on every role change
# (chat.memberships.on_access_changed, which hears the directory's "access changed" hook).

_CHAT_THEMES_ATTR = "_passerelles_chat_theme_slugs"


class ChatRoomKind:
    """Kinds of chat rooms (chat.models.ChatRoom.kind uses these values)."""

    REGION = "region"
    WORKING_GROUP = "working_group"
    THEME = "theme"
    DIRECT = "direct"
    ADHOC = "adhoc"


SHARED_CHAT_ROOM_KINDS = frozenset({ChatRoomKind.REGION, ChatRoomKind.WORKING_GROUP, ChatRoomKind.THEME})
_CHAT_KEY_PREFIXES = {ChatRoomKind.REGION: "region", ChatRoomKind.WORKING_GROUP: "wg", ChatRoomKind.THEME: "theme"}


def chat_room_key(kind: str, scope: int | str) -> str:
    """The stable key of a shared room: `region:<id>`, `wg:<slug>` or `theme:<slug>`."""
    return f"{_CHAT_KEY_PREFIXES[kind]}:{scope}"


def parse_chat_room_key(key: str) -> tuple[str, str]:
    """(kind, scope) of a shared room key; ValueError for anything else."""
    prefix, _sep, scope = key.partition(":")
    for kind, known in _CHAT_KEY_PREFIXES.items():
        if prefix == known and scope:
            return kind, scope
    raise ValueError(f"Unknown chat room key: {key}")


def chat_followed_theme_slugs(user) -> frozenset[str]:
    """Themes whose room the person is in: their expertise and the themes they are referent for."""
    p = profile(user)
    if not p.is_member:
        return frozenset()
    cached = getattr(user, _CHAT_THEMES_ATTR, None)
    if cached is None:
        cached = frozenset(user.expertise.values_list("slug", flat=True)) | p.theme_slugs
        setattr(user, _CHAT_THEMES_ATTR, cached)
    return cached


def chat_room_keys(user) -> frozenset[str]:
    """Keys of the shared rooms the person belongs to (empty for anyone outside the network)."""
    p = profile(user)
    if not p.is_member:
        return frozenset()
    keys = {chat_room_key(ChatRoomKind.REGION, region_id) for region_id in p.region_ids}
    keys.update(chat_room_key(ChatRoomKind.WORKING_GROUP, slug) for slug in p.working_group_slugs)
    keys.update(chat_room_key(ChatRoomKind.THEME, slug) for slug in chat_followed_theme_slugs(user))
    return frozenset(keys)


def is_chat_room_member(user, *, kind: str, key: str | None, is_participant: bool) -> bool:
    """Whether the room is one of the person's rooms (listed, counted as unread, e-mailed)."""
    if not is_member(user):
        return False
    if kind in SHARED_CHAT_ROOM_KINDS:
        return key in chat_room_keys(user)
    return is_participant


def can_join_chat_room(user, *, kind: str, key: str | None, is_participant: bool) -> bool:
    """Whether the person may open the room, read it and write in it.

    Its members may; federal staff may also open every shared room to moderate it (as in the forum)
    without becoming one of its members. Direct messages stay between their two participants, and
    an ad-hoc room among the people chosen for it, staff included.
    """
    if is_chat_room_member(user, kind=kind, key=key, is_participant=is_participant):
        return True
    return kind in SHARED_CHAT_ROOM_KINDS and opens_every_shared_chat_room(user)


def opens_every_shared_chat_room(user) -> bool:
    """Federal staff open every shared room (region, working group, theme) to moderate it, without
    becoming one of its members (the chat's moderation list and search both ask this)."""
    return is_federal_staff(user)


def chat_rooms_open_to(user, rooms: QuerySet) -> QuerySet:
    """The rooms of `rooms` (a queryset of chat.models.ChatRoom) that `user` may open
    (`can_join_chat_room` as a queryset): the rooms they are a member of, whose memberships the chat
    keeps to `is_chat_room_member` (re-synced on every access change), and for federal staff every
    shared room."""
    if not is_member(user):
        return rooms.none()
    condition = Q(memberships__user=user)
    if opens_every_shared_chat_room(user):
        condition |= Q(kind__in=SHARED_CHAT_ROOM_KINDS)
    return rooms.filter(pk__in=rooms.model.objects.filter(condition).values("pk"))


def can_moderate_chat_room(user, *, kind: str) -> bool:
    """Federal staff delete others' messages (with a reason) everywhere except in direct messages."""
    return kind != ChatRoomKind.DIRECT and is_federal_staff(user)


def can_create_chat_room(user) -> bool:
    """Ad-hoc rooms (a regional meeting, a project) are opened and managed by federal staff."""
    return is_federal_staff(user)


def can_message_directly(user, other) -> bool:
    """Any two members of the network may write to each other."""
    return other is not None and user.pk != other.pk and is_member(user) and is_member(other)


# --- Membership applications and parrainage (issue 7) ---------------------------------------------
# The membership commission (fiche II.6) and federal staff examine applications and pick parrains;
# the parrain association's director answers a proposal; both associations' people follow the
# parrainage and either side's director or president ticks the onboarding steps.


def can_examine_applications(user) -> bool:
    return is_federal_staff(user) or (is_member(user) and has_role(user, Role.MEMBERSHIP_COMMISSION))


def can_manage_parrainages(user) -> bool:
    """Pick a parrain among the proposals, see every parrainage and its progress."""
    return can_examine_applications(user)


def _leads(user, association_id: int | None) -> bool:
    p = profile(user)
    return (p.is_member and association_id is not None and p.association_id == association_id
            and bool({Role.DIRECTOR, Role.PRESIDENT} & p.roles))


def answers_parrainage_proposals(user) -> bool:
    """Whether the person answers the proposals made to their association: its director does."""
    p = profile(user)
    return p.is_member and p.association_id is not None and Role.DIRECTOR in p.roles


def can_respond_to_parrainage(user, parrainage) -> bool:
    """The proposed parrain's director accepts or declines."""
    return answers_parrainage_proposals(user) and profile(user).association_id == parrainage.parrain_id


def can_view_parrainage(user, parrainage) -> bool:
    p = profile(user)
    if not p.is_member:
        return False
    return p.association_id in (parrainage.parrain_id, parrainage.filleul_id) or can_manage_parrainages(user)


def can_tick_onboarding(user, parrainage) -> bool:
    return (_leads(user, parrainage.parrain_id) or _leads(user, parrainage.filleul_id)
            or can_manage_parrainages(user))
