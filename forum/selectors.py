"""Reads of the forum domain, with permissions asked of directory.access (machina's handler)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from machina.apps.forum_conversation.models import Post, Topic

from core.ics import CalendarEvent, to_ics
from directory import access, fragments
from forum import content_signals
from forum.models import MeetingResponse, NationalMeeting

if TYPE_CHECKING:
    from forum.overrides.forum_permission.handler import PermissionHandler


def topic_url(topic: Topic) -> str:
    return reverse("forum_conversation:topic", kwargs={
        "forum_slug": topic.forum.slug, "forum_pk": topic.forum_id, "slug": topic.slug, "pk": topic.pk})


def meeting_audience_users(audience: str):
    """Active members holding the audience role (directory.access decides who they are)."""
    return access.role_holders(audience)


def meetings_for(user, *, upcoming: bool | None = None, handler: PermissionHandler | None = None):
    """Meetings whose thread the person may read, soonest first for upcoming, latest first for past."""
    readable = access.readable_forums(user, handler)
    qs = NationalMeeting.objects.select_related("topic__forum").filter(topic__forum__in=readable)
    now = timezone.now()
    if upcoming is True:
        return qs.filter(ends_at__gte=now).order_by("starts_at")
    if upcoming is False:
        return qs.filter(ends_at__lt=now).order_by("-starts_at")
    return qs


def readable_forums(user, handler: PermissionHandler | None = None):
    """The forums `user` may read, as a queryset (directory.access, through machina's permissions)."""
    return access.readable_forums(user, handler)


def latest_topics_for(user, *, limit: int = 5, handler: PermissionHandler | None = None) -> list[Topic]:
    """The topics most recently active in forums `user` may read, newest first, ready to list.

    Approved topics only; forum and last post (with its author) are loaded with the topics, so the
    number of queries does not depend on `limit`.
    """
    return list(
        Topic.objects.filter(forum__in=readable_forums(user, handler), approved=True)
        .select_related("forum", "poster", "last_post__poster")
        .order_by("-last_post_on", "-pk")[:limit]
    )


# --- What a person's activity shows to a viewer (issue 16, item 5) --------------------------------
# machina keeps one post counter per person (ForumProfile.posts_count) over every forum: shown as it
# is, it tells a reader how much someone writes in forums the reader cannot open (the directors',
# a working group's). What a viewer is shown counts only the forums that viewer may read.


def readable_posts_by(user, poster, handler: PermissionHandler | None = None):
    """The posts of `poster` that `user` may read, newest first: approved posts of forums `user`
    reads, and `poster`'s own posts awaiting approval when `user` is `poster`."""
    posts = Post.objects.filter(poster=poster, topic__forum__in=readable_forums(user, handler))
    if user.pk != poster.pk:
        posts = posts.filter(approved=True)
    return posts.order_by("-created")


def readable_post_counts(user, poster_ids, handler: PermissionHandler | None = None) -> dict[int, int]:
    """poster id → number of their approved posts in forums `user` may read.

    Kept in the cache per (set of forums read, author) under the content version "forum" (any post,
    topic or forum saved or deleted makes every count new) and the access version: readers who read the
    same forums share them, and a topic page counts, in one query, only the authors not cached yet.
    Where the handler does not cache the readable forums (a superuser, inside a unit of work), counted
    in one query as before.
    """
    poster_ids = {pk for pk in poster_ids if pk is not None}
    if not poster_ids:
        return {}
    handler = handler or access.forum_permission_handler()
    cached_ids = getattr(handler, "cached_readable_forum_ids", None)
    forum_ids = cached_ids(user) if cached_ids else None
    if forum_ids is None:
        return _count_posts(poster_ids, readable_forums(user, handler))
    audience = fragments.audience(frozenset(forum_ids))
    version = fragments.content_version(content_signals.SCOPE)
    prefix = fragments.key("post-count", audience=audience, stamp=version)  # one key per author below
    keys = {pk: f"{prefix}:{pk}" for pk in poster_ids}
    found = cache.get_many(list(keys.values()))
    counts = {pk: found[key] for pk, key in keys.items() if key in found}
    missing = poster_ids - counts.keys()
    if missing:
        fresh = dict.fromkeys(missing, 0) | _count_posts(missing, forum_ids)
        cache.set_many({keys[pk]: count for pk, count in fresh.items()}, fragments.FRAGMENT_SECONDS)
        counts.update(fresh)
    return counts


def _count_posts(poster_ids, forums) -> dict[int, int]:
    rows = (
        Post.approved_objects.filter(poster_id__in=poster_ids, topic__forum__in=forums)
        .order_by().values("poster_id").annotate(count=Count("pk"))
    )
    return {row["poster_id"]: row["count"] for row in rows}


def readable_topic_count(user, poster, handler: PermissionHandler | None = None) -> int:
    """Number of approved topics `poster` opened in forums `user` may read."""
    return Topic.objects.filter(poster=poster, approved=True, forum__in=readable_forums(user, handler)).count()


def unread_topic_ids(user, topics) -> set[int]:
    """Ids of the given topics that `user` has not read since their last post (machina's tracking)."""
    from machina.apps.forum_tracking.handler import TrackingHandler

    return {topic.pk for topic in TrackingHandler().get_unread_topics(list(topics), user)}


def meeting_summary(meeting: NationalMeeting, user) -> dict:
    """Counts per answer, attendees (those who come) and the person's own answer: three queries."""
    responses = list(meeting.responses.select_related("user__association").order_by("user__last_name"))
    counts = dict.fromkeys(MeetingResponse.Answer.values, 0)
    mine = None
    for response in responses:
        counts[response.answer] += 1
        if response.user_id == user.pk:
            mine = response.answer
    return {
        "meeting": meeting,
        "counts": [(value, label, counts[value]) for value, label in MeetingResponse.Answer.choices],
        "attendees": [r.user for r in responses if r.answer == MeetingResponse.Answer.YES],
        "maybe": [r.user for r in responses if r.answer == MeetingResponse.Answer.MAYBE],
        "my_answer": mine,
        "is_past": meeting.ends_at < timezone.now(),
    }


def meeting_ics(meeting: NationalMeeting, *, base_url: str = "") -> str:
    location = meeting.place or meeting.video_link
    description = meeting.agenda
    if meeting.video_link:
        description = f"{description}\n\nVisioconférence : {meeting.video_link}".strip()
    return to_ics(CalendarEvent(
        uid=f"reunion-{meeting.pk}@passerelles",
        title=meeting.title,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        description=description,
        location=location,
        url=base_url + topic_url(meeting.topic) if meeting.topic_id and base_url else "",
        sequence=meeting.sequence,
        stamp=meeting.created_at,
    ))
