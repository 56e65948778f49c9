"""What makes the forum's cached fragments outdated: the content version of scope "forum".

The shared forum list (forum_ui_tags.shared_forum_list) puts `fragments.content_version("forum")` in
its stamp. Any post, topic or forum saved or deleted, however it happens (machina's views and
moderation, our services, the admin, a shell), replaces that version: the next reader gets a freshly
rendered list. machina saves a forum again at each post to update its counters, so a new or approved
post is covered twice. Who may read what is the access version's business (directory.access_signals).
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from directory import fragments

SCOPE = "forum"
WATCHED = ("forum.Forum", "forum_conversation.Topic", "forum_conversation.Post")


def _content_changed(sender=None, **kwargs) -> None:
    fragments.content_changed(SCOPE)


def connect() -> None:
    from django.apps import apps

    for label in WATCHED:
        model = apps.get_model(label)
        post_save.connect(_content_changed, sender=model, dispatch_uid=f"forum-content-save-{label}")
        post_delete.connect(_content_changed, sender=model, dispatch_uid=f"forum-content-delete-{label}")
