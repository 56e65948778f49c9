"""The forum's two middlewares: machina's permission handler on each request, writing nothing
(ForumPermissionMiddleware), and one answer for forums a person may not read (ForumVisibilityMiddleware).

ForumVisibilityMiddleware: 404, whether the forum or topic exists or not.

machina answers 403 for an existing forum one may not read and 404 for a missing one, which tells
outsiders that a private forum exists. Before any forum view runs, this middleware finds the forum
behind the URL (forum, topic, post, attachment, poll, feed, moderation and tracking URLs), in one
query, and answers 404 unless the person may read it. Permissions themselves stay machina's, granted
to the groups that directory.access derives from roles.

The forum as a whole is a members' space: a signed-in account outside the network gets 403 on every
address under it (anonymous visitors were already sent to the login page by MembersOnlyMiddleware).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from machina.apps.forum.models import Forum

from directory import access

# URL name → (which kwarg, what it designates)
_FORUM_KWARG = {
    "forum:forum": ("pk", "forum"),
    "forum_conversation:topic_create": ("forum_pk", "forum"),
    "forum_feeds:forum_latest_topics": ("forum_pk", "forum"),
    "forum_feeds:forum_latest_topics_with_descendants": ("forum_pk", "forum"),
    "forum_tracking:mark_subforums_read": ("pk", "forum"),
    "forum_tracking:mark_topics_read": ("pk", "forum"),
    "forum_conversation:topic": ("pk", "topic"),
    "forum_conversation:topic_update": ("pk", "topic"),
    "forum_conversation:post_create": ("topic_pk", "topic"),
    "forum_conversation:post_update": ("pk", "post"),
    "forum_conversation:post_delete": ("pk", "post"),
    "forum_member:topic_subscribe": ("pk", "topic"),
    "forum_member:topic_unsubscribe": ("pk", "topic"),
    "forum_moderation:topic_lock": ("pk", "topic"),
    "forum_moderation:topic_unlock": ("pk", "topic"),
    "forum_moderation:topic_delete": ("pk", "topic"),
    "forum_moderation:topic_move": ("pk", "topic"),
    "forum_moderation:topic_update_to_post": ("pk", "topic"),
    "forum_moderation:topic_update_to_sticky": ("pk", "topic"),
    "forum_moderation:topic_update_to_announce": ("pk", "topic"),
    "forum_moderation:queued_post": ("pk", "post"),
    "forum_moderation:approve_queued_post": ("pk", "post"),
    "forum_moderation:disapprove_queued_post": ("pk", "post"),
    "forum_conversation:attachment": ("pk", "attachment"),
    "forum_conversation:topic_poll_vote": ("pk", "poll"),
}


# What the URL designates → the lookup from a forum to it.
_LOOKUP = {
    "forum": "pk",
    "topic": "topics__pk",
    "post": "topics__posts__pk",
    "attachment": "topics__posts__attachments__pk",
    "poll": "topics__poll__pk",
}


def forum_for(kind: str, pk: int, kwargs: dict) -> Forum | None:
    """The forum holding the object, in one query; None if the object does not exist or if the URL's
    other ids (its forum, the post's topic) are not the object's own."""
    lookups = {_LOOKUP[kind]: pk}
    try:
        # A URL naming a topic must name the post's real topic, and a forum the object's real forum
        # (one filter() call: the topic of both conditions is the same row).
        if kind == "post" and "topic_pk" in kwargs:
            lookups["topics__pk"] = int(kwargs["topic_pk"])
        if kind != "forum" and "forum_pk" in kwargs:
            lookups["pk"] = int(kwargs["forum_pk"])
    except (TypeError, ValueError):
        return None
    return Forum.objects.filter(**lookups).first()


def _forum_root() -> str:
    return reverse("forum:index")


class ForumPermissionMiddleware:
    """Gives each request the forum permission handler machina's views ask (`request.forum_permission_handler`,
    machina's per-request permission cache), as machina's own middleware does, but writes nothing.

    machina's middleware also gives every anonymous visitor a random "forum key" kept in the session
    (machina's authorship for anonymous posts and poll votes), so each cookie-less request wrote a session
    row and set a session cookie: a table filled by crawlers, and a write per visit (issue 16, item 6).
    The forum is a members' space: anonymous visitors are sent to the login page before any forum view
    runs (directory.middleware.MembersOnlyMiddleware) and never post or vote, so they need no key; machina
    reads a missing key as "no key" (forum_permission.shortcuts.get_anonymous_user_forum_key).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.forum_permission_handler = access.forum_permission_handler()
        return self.get_response(request)


class ForumVisibilityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(_forum_root()) and request.user.is_authenticated \
                and not access.is_member(request.user):
            # Permission audit (issue 8): machina's own views only ask machina's permissions, and an
            # account outside the network (a candidate association's) has none, yet could open the
            # forum index, the feeds, members' forum profiles (their names and post counts), and have a
            # forum profile and read marks written for it. The forum, like every members' space,
            # answers such accounts 403 (directory.mixins.MemberRequiredMixin's answer).
            raise PermissionDenied(_("Votre compte n'a pas accès aux espaces des membres."))
        match = getattr(request, "resolver_match", None)
        if match is None or match.view_name not in _FORUM_KWARG:
            return None
        kwarg, kind = _FORUM_KWARG[match.view_name]
        try:
            pk = int(view_kwargs[kwarg])
        except (KeyError, TypeError, ValueError):
            raise Http404 from None
        forum = forum_for(kind, pk, view_kwargs)
        if forum is None or not request.forum_permission_handler.can_read_forum(forum, request.user):
            raise Http404
        return None
