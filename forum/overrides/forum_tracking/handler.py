"""machina's tracking handler, with bulk reads and writes (machina's override recipe).

machina's class loader imports this module before machina's own `forum_tracking.handler`, so every
user of `TrackingHandler` (the forum list template tag, the "mark read" views, the receiver that
marks a viewed topic read) gets this class. Behaviour is machina's; only the number of queries
changes:

- unread forums: machina runs one ancestors query per unread forum (the forum index grows with the
  number of forums); here the ancestors come from the forums already loaded, in Python;
- marking forums read: machina runs a get_or_create and a save per forum (three queries each, so
  "mark all read" grows with the size of the forum); here one upsert covers every forum.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from machina.apps.forum_tracking import handler as machina_handler
from machina.core.db.models import get_model
from machina.core.loading import get_class

Forum = get_model("forum", "Forum")
ForumReadTrack = get_model("forum_tracking", "ForumReadTrack")
TopicReadTrack = get_model("forum_tracking", "TopicReadTrack")

ForumVisibilityContentTree = get_class("forum.visibility", "ForumVisibilityContentTree")


def _is_ancestor_or_self(ancestor, forum) -> bool:
    """mptt's nested-set rule, on instances already in memory."""
    return ancestor.tree_id == forum.tree_id and ancestor.lft <= forum.lft and ancestor.rght >= forum.rght


class TrackingHandler(machina_handler.TrackingHandler):
    def get_unread_forums_from_list(self, user, forums) -> list:
        """machina's answer (unread forums and all their ancestors) in one query, or two at most.

        A forum is unread when the person has no track for it and it has topics, or when its track
        is older than the last post of the forum or of one of its descendants in the list.
        """
        if not user.is_authenticated:
            return []
        forums = list(forums)
        if not forums:
            return []
        nodes = ForumVisibilityContentTree.from_forums(forums).as_dict
        marks = dict(
            ForumReadTrack.objects.filter(user=user, forum__in=[f.pk for f in forums])
            .values_list("forum_id", "mark_time")
        )
        unread = []
        for forum in forums:
            if forum.pk in marks:
                last_post_on = nodes[forum.pk].last_post_on
                if last_post_on and marks[forum.pk] < last_post_on:
                    unread.append(forum)
            elif forum.direct_topics_count > 0:
                unread.append(forum)
        return self._with_ancestors(unread, forums)

    def _with_ancestors(self, unread: list, known: list) -> list:
        """The unread forums and their ancestors, taken from `known` when it holds them all.

        The forum index passes the whole visible tree, so no query is needed there; a list without
        some ancestors (a forum page's sub-forums) costs one query for all of them.
        """
        found = {}
        incomplete = []
        for forum in unread:
            ancestors = [other for other in known if _is_ancestor_or_self(other, forum)]
            if len(ancestors) <= forum.level:  # a forum at level n has n ancestors, plus itself
                incomplete.append(forum.pk)
            found.update((ancestor.pk, ancestor) for ancestor in ancestors)
        if incomplete:
            missing = Forum.objects.get_queryset_ancestors(Forum.objects.filter(pk__in=incomplete), include_self=True)
            for ancestor in missing:
                found.setdefault(ancestor.pk, ancestor)
        return list(found.values())

    def mark_forums_read(self, forums: Iterable, user) -> None:
        """Mark forums read for the person: their topics become read, whatever the number of forums.

        Effects, as machina's: every forum's track set to now (created if missing), the person's
        topic tracks in those forums deleted (the forum track now covers them), and the ancestors of
        the highest forum marked read when nothing else in them is unread. Queries: one upsert, one
        delete, and machina's ancestor walk (bounded by the depth of the tree, not its size).
        """
        forums = sorted(forums or [], key=lambda f: f.level)
        if not forums or not user.is_authenticated:
            return
        now = timezone.now()
        with transaction.atomic():
            ForumReadTrack.objects.bulk_create(
                [ForumReadTrack(forum=forum, user=user, mark_time=now) for forum in forums],
                update_conflicts=True,
                unique_fields=["user", "forum"],
                update_fields=["mark_time"],
            )
            TopicReadTrack.objects.filter(topic__forum__in=[f.pk for f in forums], user=user).delete()
            self._update_parent_forum_tracks(forums[0], user)
