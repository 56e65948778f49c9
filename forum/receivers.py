"""Signal receivers hooking code we do not own (machina's Post, Django's user groups) to notifications.

Our own code calls forum.notifications explicitly; signals are only for machina's views (topic
creation, reply, edition, moderation approval) and for Django's groups relation, which the
directory rewrites when roles change.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import m2m_changed, post_init, post_save
from django.dispatch import receiver
from machina.apps.forum_conversation.models import Post

from forum import notifications, tasks

_WAS_APPROVED = "_exchange_was_approved"


@receiver(post_init, sender=Post, dispatch_uid="exchange_remember_post_approval")
def remember_post_approval(sender, instance: Post, **kwargs) -> None:
    # Read from __dict__: touching a deferred field here would cost a query per loaded post.
    setattr(instance, _WAS_APPROVED, instance.__dict__.get("approved"))


@receiver(post_save, sender=Post, dispatch_uid="exchange_notify_post")
def notify_on_post_save(sender, instance: Post, created: bool, raw: bool = False, **kwargs) -> None:
    """A new approved post, or a post that just became approved, notifies its audience after commit.

    An edit of an already approved post only notifies members newly @mentioned in it.
    """
    was_approved = getattr(instance, _WAS_APPROVED, None)
    setattr(instance, _WAS_APPROVED, instance.approved)
    if raw or notifications.is_muted() or not instance.approved:
        return
    if created or was_approved is False:
        tasks.notify_post_on_commit(instance.pk)
    elif was_approved is True:
        tasks.notify_post_on_commit(instance.pk, mentions_only=True)


@receiver(m2m_changed, sender=get_user_model().groups.through, dispatch_uid="exchange_groups_lost")
def forget_notifications_on_lost_groups(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    """Someone lost groups (a role revoked): stop counting notifications they can no longer open."""
    if action not in ("post_remove", "post_clear"):
        return
    if reverse:
        user_ids = list(pk_set or [])  # a group lost members
        if action == "post_clear":
            return  # the members are unknown after a clear of a group; the list filters anyway
    else:
        user_ids = [instance.pk]
    for user_id in user_ids:
        transaction.on_commit(lambda user_id=user_id: notifications.forget_unreadable_notifications(user_id))
