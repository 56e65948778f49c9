"""Reads of the working groups' private spaces (cms.content.WorkingGroupPage).

Who may open a space is decided like every other page: by its view restriction, through
`cms.visibility.Visibility` (the serving hook refuses the page before these run). The forum and the
chat room of a group belong to other apps: they are looked up through the app registry, so the CMS
does not import them and a missing forum or room only means a missing link.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.apps import apps
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse

from directory import access
from directory.models import RoleAssignment, WorkingGroup
from directory.roles import Role

if TYPE_CHECKING:
    from cms.content import WorkingGroupPage


@dataclass(frozen=True)
class SpaceLink:
    """A link of a space to another part of the platform (the group's forum, its chat room)."""

    label: str
    url: str


@dataclass(frozen=True)
class SpaceItem:
    """One line of the index of the spaces."""

    page: WorkingGroupPage
    is_mine: bool


def spaces_for(spaces: QuerySet, visibility) -> list[SpaceItem]:
    """The spaces among `spaces` (the WorkingGroupPages under the index) the reader may open, by title,
    with their working group (one query); `is_mine`: the reader is a member of the group."""
    mine = visibility.profile.working_group_ids
    pages = visibility.pages(spaces).select_related("working_group")
    # Alphabetical as a reader expects it: "Éthique" between "Droit" and "Financement", not after "Z".
    pages = sorted(pages, key=lambda page: (_sort_key(page.title), page.pk))
    return [SpaceItem(page, page.working_group_id in mine) for page in pages]


def _sort_key(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def group_members(working_group_id: int | None) -> list[RoleAssignment]:
    """The active people holding the working-group-member role for this group, by name (one query)."""
    if working_group_id is None:
        return []
    return list(
        RoleAssignment.objects.filter(role=Role.WORKING_GROUP_MEMBER, working_group_id=working_group_id,
                                      user__is_active=True)
        .select_related("user__association").order_by("user__last_name", "user__first_name", "user_id")
    )


def forum_link(working_group_id: int | None) -> SpaceLink | None:
    """The group's forum (forum.models.ForumSpace, app label "exchange"), if the forum app made one."""
    if working_group_id is None or not apps.is_installed("forum"):
        return None
    ForumSpace = apps.get_model("exchange", "ForumSpace")
    space = (ForumSpace.objects.filter(working_group_id=working_group_id).select_related("forum")
             .order_by("pk").first())
    if space is None:
        return None
    try:
        url = reverse("forum:forum", kwargs={"slug": space.forum.slug, "pk": space.forum.pk})
    except NoReverseMatch:
        return None
    return SpaceLink(space.forum.name, url)


def chat_link(working_group_slug: str | None) -> SpaceLink | None:
    """The group's chat room (key `wg:<slug>`), if the chat app made one."""
    if not working_group_slug or not apps.is_installed("chat"):
        return None
    ChatRoom = apps.get_model("chat", "ChatRoom")
    key = access.chat_room_key(access.ChatRoomKind.WORKING_GROUP, working_group_slug)
    room = ChatRoom.objects.filter(key=key).values("pk", "name").first()
    if room is None:
        return None
    return SpaceLink(room["name"], reverse("chat:room-detail", args=[room["pk"]]))


def child_pages(page: WorkingGroupPage, visibility) -> QuerySet:
    """The space's own pages the reader may open, in the tree's order (specific: guides' summaries)."""
    return visibility.pages(page.get_children()).order_by("path").specific()


def space_context(page: WorkingGroupPage, user, visibility) -> dict:
    """What the space's template needs; a constant number of queries, whatever the number of members.

    `working_group` is None once the group is deleted: the page is then left to federal staff.
    """
    working_group = (WorkingGroup.objects.select_related("theme").filter(pk=page.working_group_id).first()
                     if page.working_group_id else None)
    members = group_members(page.working_group_id)
    return {
        "working_group": working_group,
        "members": members,
        "is_group_member": any(assignment.user_id == user.pk for assignment in members),
        "forum_link": forum_link(page.working_group_id),
        "chat_link": chat_link(working_group.slug if working_group else None),
        "child_pages": list(child_pages(page, visibility)),
    }
