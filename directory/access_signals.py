"""What makes cached access answers outdated (directory.access.changed): the model signals.

Regions, working groups and themes also announce themselves through the "access changed" hook
(directory.hooks) whenever one is created, renamed or deleted, however that happens.

Each model below feeds an access decision somewhere: roles, groups and associations (every rule),
machina's forum permissions and forum tree (readable forums), rooms and memberships (chat), page and
collection view restrictions and page moves (CMS privacy). Saving or deleting one of them, however
it happens (services, admin, machina's or Wagtail's own screens), replaces the access version.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save

from directory import access, hooks

# Any save or delete of these changes who may see what.
WATCHED = (
    "directory.RoleAssignment",
    "directory.Association",
    "auth.Group",
    "forum_permission.ForumPermission",
    "forum_permission.GroupForumPermission",
    "forum_permission.UserForumPermission",
    "chat.ChatRoom",
    "wagtailcore.PageViewRestriction",
    "wagtailcore.CollectionViewRestriction",
)


# The network's scopes: each has its forum, chat room and (working groups) CMS space and group.
SCOPES = ("directory.Region", "directory.WorkingGroup", "directory.Theme")


def _changed(sender=None, **kwargs) -> None:
    access.changed()


def _user_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    # A login only stamps last_login: no access answer depends on it.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    access.changed()


def _created(sender, instance, created, **kwargs) -> None:
    # machina re-saves a forum for its counters at every post (a moved one sends forum_moved); a
    # membership's later saves only move its read markers: only a new one matters here.
    if created:
        access.changed()


def _scope_changed(sender, instance, **kwargs) -> None:
    # A region, working group or theme created, renamed or deleted (in /admin/, by an import, in a
    # shell): the apps create, rename or retire its forum, room, space and group (directory.hooks).
    access.changed()
    hooks.access_changed(scopes=True)


def _m2m_changed(sender, action, **kwargs) -> None:
    if action in {"post_add", "post_remove", "post_clear"}:
        access.changed()


def connect() -> None:
    from django.apps import apps
    from machina.apps.forum.signals import forum_moved
    from wagtail.signals import post_page_move

    for label in WATCHED:
        model = apps.get_model(label)
        post_save.connect(_changed, sender=model, dispatch_uid=f"access-changed-save-{label}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"access-changed-delete-{label}")
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="access-changed-user")
    post_delete.connect(_changed, sender=user_model, dispatch_uid="access-changed-user-delete")
    m2m_changed.connect(_m2m_changed, sender=user_model.groups.through, dispatch_uid="access-changed-groups")
    for label in ("wagtailcore.PageViewRestriction", "wagtailcore.CollectionViewRestriction"):
        through = apps.get_model(label).groups.through
        m2m_changed.connect(_m2m_changed, sender=through, dispatch_uid=f"access-changed-groups-{label}")
    for label in ("forum.Forum", "chat.ChatMembership"):
        model = apps.get_model(label)
        post_save.connect(_created, sender=model, dispatch_uid=f"access-changed-created-{label}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"access-changed-delete-{label}")
    for label in SCOPES:
        model = apps.get_model(label)
        post_save.connect(_scope_changed, sender=model, dispatch_uid=f"access-scope-save-{label}")
        post_delete.connect(_scope_changed, sender=model, dispatch_uid=f"access-scope-delete-{label}")
    forum_moved.connect(_changed, dispatch_uid="access-changed-forum-moved")
    post_page_move.connect(_changed, dispatch_uid="access-changed-page-moved")
