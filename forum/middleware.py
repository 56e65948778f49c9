"""One answer for forums a person may not read: 404, whether the forum or topic exists or not.

machina answers 403 for an existing forum one may not read and 404 for a missing one, which tells
outsiders that a private forum exists. Before any forum view runs, this middleware finds the forum
behind the URL (forum, topic, post, attachment, poll, feed, moderation and tracking URLs) and
answers 404 unless the person may read it. Permissions themselves stay machina's, granted to the
groups that directory.access derives from roles.
"""

from __future__ import annotations

from django.http import Http404
from machina.apps.forum.models import Forum
from machina.apps.forum_conversation.forum_attachments.models import Attachment
from machina.apps.forum_conversation.forum_polls.models import TopicPoll
from machina.apps.forum_conversation.models import Post, Topic

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


def forum_id_for(kind: str, pk: int, kwargs: dict) -> int | None:
    """The id of the forum holding the object, or None if the object does not exist (or mismatches)."""
    if kind == "forum":
        return Forum.objects.filter(pk=pk).values_list("pk", flat=True).first()
    if kind == "topic":
        forum_id = Topic.objects.filter(pk=pk).values_list("forum_id", flat=True).first()
    elif kind == "post":
        forum_id = Post.objects.filter(pk=pk).values_list("topic__forum_id", flat=True).first()
        topic_pk = kwargs.get("topic_pk")
        if forum_id is not None and topic_pk is not None and not Post.objects.filter(pk=pk, topic_id=topic_pk).exists():
            return None
    elif kind == "attachment":
        forum_id = Attachment.objects.filter(pk=pk).values_list("post__topic__forum_id", flat=True).first()
    elif kind == "poll":
        forum_id = TopicPoll.objects.filter(pk=pk).values_list("topic__forum_id", flat=True).first()
    else:
        return None
    # A URL naming a forum must name the topic's real forum.
    if forum_id is not None and "forum_pk" in kwargs and int(kwargs["forum_pk"]) != forum_id:
        return None
    return forum_id


class ForumVisibilityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = getattr(request, "resolver_match", None)
        if match is None or match.view_name not in _FORUM_KWARG:
            return None
        kwarg, kind = _FORUM_KWARG[match.view_name]
        try:
            pk = int(view_kwargs[kwarg])
        except (KeyError, TypeError, ValueError):
            raise Http404 from None
        forum_id = forum_id_for(kind, pk, view_kwargs)
        if forum_id is None:
            raise Http404
        forum = Forum.objects.get(pk=forum_id)
        if not request.forum_permission_handler.can_read_forum(forum, request.user):
            raise Http404
        return None
