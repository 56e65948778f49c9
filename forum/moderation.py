"""Forum moderation: the forum's entries in the moderation log (moderation.models) and members'
reports on posts.

machina makes the moderation changes themselves (lock, move, pin, delete, approve): our views in
forum/overrides subclass machina's and call `log_action` inside the transaction that makes the
change, so a change and its log entry are written together or not at all. Reports follow the
check-then-do shape of forum/services.py: `report_post` and `close_report` each check their rules,
then write in one transaction.

"Moderating a forum" means what machina's moderation queue means by it: holding
`can_approve_posts` on that forum (granted to federal staff on every forum but the directors').
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from machina.apps.forum.models import Forum
from machina.apps.forum_conversation.models import Post, Topic

from directory import access
from forum.models import PostReport
from forum.services import ForumError, ForumPermissionError
from moderation.models import ModerationEntry

Action = ModerationEntry.Action
# The forum's actions (the log's filter offers these); the chat has its own.
FORUM_ACTIONS = [action for action in Action if action != Action.DELETE_CHAT_MESSAGE]

if TYPE_CHECKING:
    from forum.overrides.forum_permission.handler import PermissionHandler

REASON_MAX_LENGTH = 2000
EXCERPT_LENGTH = 500
LOG_PAGE_SIZE = 50
REPORT_PAGE_SIZE = 50


class ReportNotAllowed(ForumPermissionError):
    """The post cannot be reported by this person: it does not exist for them (views answer 404)."""


# --- The moderation log ---------------------------------------------------------------------------


def log_action(actor, action: str, *, topic: Topic | None = None, post: Post | None = None,
               forum: Forum | None = None, subject: str | None = None, detail: str = "",
               reason: str = "") -> ModerationEntry:
    """Record one moderation action: who, what, on which forum/topic/post, and why.

    Preconditions: called inside the transaction that makes the change, and before a deletion
    (the entry copies ids and titles, which outlive the objects). `action` is one of FORUM_ACTIONS.
    Effects: one ModerationEntry whose place is `forum` (by default the topic's, or the post's
    topic's) and whose target is the post, else the topic; its snapshot is `subject` (by default
    the post's subject, else the topic's).
    """
    if action not in FORUM_ACTIONS:
        raise ValueError(f"Unknown moderation action: {action}")
    if post is not None and topic is None:
        topic = post.topic
    if forum is None and topic is not None:
        forum = topic.forum
    if subject is None:
        subject = post.subject if post is not None else (topic.subject if topic is not None else "")
    target = post if post is not None else topic
    return ModerationEntry.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        place_type=ContentType.objects.get_for_model(Forum) if forum is not None else None,
        place_id=forum.pk if forum is not None else None,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=target.pk if target is not None else None,
        topic_id_ref=topic.pk if topic is not None else None,
        snapshot=Truncator(subject).chars(255),
        detail=Truncator(detail).chars(255),
        reason=(reason or "").strip(),
    )


def topic_type_label(topic_type: int) -> str:
    return {
        Topic.TOPIC_POST: _("Sujet normal"),
        Topic.TOPIC_STICKY: _("Note épinglée"),
        Topic.TOPIC_ANNOUNCE: _("Annonce"),
    }.get(topic_type, "")


def action_for_topic_type(topic_type: int) -> str:
    """Pinning (note or announce) and its undoing are two different actions in the log."""
    return Action.UNPIN if topic_type == Topic.TOPIC_POST else Action.PIN


# --- Reports -------------------------------------------------------------------------------------


def post_excerpt(post: Post, length: int = EXCERPT_LENGTH) -> str:
    """The post's plain text (from its sanitised HTML), whitespace collapsed, cut at `length` characters."""
    text = html.unescape(strip_tags(str(post.content.rendered or "")))
    text = re.sub(r"\s+", " ", text).strip()
    return Truncator(text).chars(length)


def can_report(user, post: Post, handler: PermissionHandler | None = None) -> bool:
    """Members report approved posts of forums they may read."""
    handler = handler or access.forum_permission_handler()
    return access.is_member(user) and post.approved and handler.can_read_forum(post.topic.forum, user)


def has_open_report(user, post: Post) -> bool:
    return PostReport.objects.filter(post=post, reporter=user, status=PostReport.Status.OPEN).exists()


def _clean_text(text: str, *, required_message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ForumError(required_message)
    if len(text) > REASON_MAX_LENGTH:
        raise ForumError(_("%(max)d caractères au plus, s'il vous plaît.") % {"max": REASON_MAX_LENGTH})
    return text


def check_report_post(reporter, post: Post, reason: str, handler: PermissionHandler | None = None) -> str:
    """Validate a report; return the cleaned reason.

    Raises ReportNotAllowed when the person may not read the post (the same answer as for a post
    that does not exist), ForumError for a missing or too long reason or a second open report.
    """
    if not can_report(reporter, post, handler):
        raise ReportNotAllowed(_("Ce message n'existe pas."))
    reason = _clean_text(reason, required_message=_("Indiquez le motif du signalement."))
    if has_open_report(reporter, post):
        raise ForumError(_("Vous avez déjà signalé ce message."))
    return reason


def report_post(reporter, post: Post, reason: str, *, handler: PermissionHandler | None = None) -> PostReport:
    """A member reports a post to the moderators of its forum.

    Preconditions: see check_report_post (readable approved post, reason of 1 to 2000 characters,
    no open report of this post by this person).
    Effects: one open PostReport carrying the post's forum and a plain-text excerpt of the post, so
    that moderators still see what was reported if the post is later edited or deleted.
    """
    reason = check_report_post(reporter, post, reason, handler)
    try:
        with transaction.atomic():
            return PostReport.objects.create(
                post=post, forum=post.topic.forum, post_excerpt=post_excerpt(post), reporter=reporter, reason=reason,
            )
    except IntegrityError:  # the same person, twice at once: the constraint keeps one
        raise ForumError(_("Vous avez déjà signalé ce message.")) from None


def moderated_forums(user, handler: PermissionHandler | None = None) -> list[Forum]:
    """Forums whose reports and queued posts the person handles (machina's moderation queue forums)."""
    handler = handler or access.forum_permission_handler()
    if not access.is_member(user):
        return []
    return list(handler.get_moderation_queue_forums(user))


def can_moderate_forum(user, forum: Forum | None, handler: PermissionHandler | None = None) -> bool:
    handler = handler or access.forum_permission_handler()
    return forum is not None and access.is_member(user) and handler.can_approve_posts(forum, user)


@transaction.atomic
def close_report(actor, report: PostReport, resolution: str, *,
                 handler: PermissionHandler | None = None) -> PostReport:
    """A moderator closes a report, saying what was done about it.

    Preconditions: `actor` moderates the report's forum (ForumPermissionError otherwise); the
    report is still open and the resolution has 1 to 2000 characters (ForumError otherwise).
    Effects: the report closed (handled_by, handled_at, resolution) and one `report_closed` log
    entry whose reason is the resolution, in one transaction.
    """
    # Locked without joins: PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
    report = PostReport.objects.select_for_update().get(pk=report.pk)
    if not can_moderate_forum(actor, report.forum, handler):
        raise ForumPermissionError(_("Vous ne modérez pas ce forum."))
    if report.status != PostReport.Status.OPEN:
        raise ForumError(_("Ce signalement est déjà clos."))
    resolution = _clean_text(resolution, required_message=_("Indiquez la suite donnée au signalement."))
    report.status = PostReport.Status.CLOSED
    report.handled_by = actor
    report.handled_at = timezone.now()
    report.resolution = resolution
    report.save(update_fields=["status", "handled_by", "handled_at", "resolution"])
    post = report.post
    reporter = (report.reporter.get_full_name() or report.reporter.get_username()) if report.reporter else _(
        "compte supprimé")
    log_action(
        actor, Action.REPORT_CLOSED, post=post, forum=report.forum,
        subject=post.subject if post is not None else Truncator(report.post_excerpt).chars(80),
        detail=_("Signalement n° %(number)d de %(reporter)s") % {"number": report.pk, "reporter": reporter},
        reason=resolution,
    )
    return report


# --- Reads ----------------------------------------------------------------------------------------


def reportable_post(user, pk: int, handler: PermissionHandler | None = None) -> Post | None:
    """The post `pk` if the person may report it; None when it does not exist or is not theirs to see."""
    post = Post.objects.select_related("topic__forum", "poster").filter(pk=pk).first()
    if post is None or not can_report(user, post, handler):
        return None
    return post


def open_reports_for(user, handler: PermissionHandler | None = None) -> QuerySet[PostReport]:
    """Open reports of the forums the person moderates, oldest first (first come, first handled)."""
    forum_ids = [forum.pk for forum in moderated_forums(user, handler)]
    return (
        PostReport.objects.filter(status=PostReport.Status.OPEN, forum_id__in=forum_ids)
        .select_related("reporter", "forum", "post__topic__forum")
        .order_by("created_at", "pk")
    )


def readable_forum_ids_for(user, handler: PermissionHandler | None = None) -> list[int]:
    return list(access.readable_forums(user, handler).values_list("pk", flat=True))


def log_entries_for(user, *, action: str | None = None, readable_forum_ids: list[int] | None = None,
                    handler: PermissionHandler | None = None) -> QuerySet[ModerationEntry]:
    """The forum's part of the moderation log as federal staff see it, newest first, optionally one
    action only. Each entry carries `forum_name` (its forum as called now, in the same query; None
    once deleted); `post_id_ref(entry)` gives the post concerned, if any.

    Entries about a forum the person may not read are left out (its titles stay private), as
    everywhere else; entries whose forum was deleted remain. Pass `readable_forum_ids` when the
    caller already has them.
    """
    if not access.is_federal_staff(user):
        return ModerationEntry.objects.none()
    if readable_forum_ids is None:
        readable_forum_ids = readable_forum_ids_for(user, handler)
    entries = ModerationEntry.objects.filter(action__in=FORUM_ACTIONS).annotate(
        forum_name=Subquery(Forum.objects.filter(pk=OuterRef("place_id")).values("name")[:1]),
    ).filter(Q(forum_name__isnull=True) | Q(place_id__in=readable_forum_ids))
    if action:
        entries = entries.filter(action=action)
    return entries.select_related("actor", "target_type").order_by("-created_at", "-pk")


def post_id_ref(entry: ModerationEntry) -> int | None:
    """The post an entry of the forum's log is about, if it is about a post (the log's anchor)."""
    if entry.target_type_id and entry.target_type.model == "post":
        return entry.target_id
    return None


def move_destinations(forum_ids: Iterable[int]) -> list[tuple[str, list[tuple[int, str]]]]:
    """Destination forums for a move, grouped under their category, in tree order (one query).

    Forums of different categories may share a name (a theme and a working group both called
    "Éthique"): the grouping tells them apart.
    """
    groups: dict[str, list[tuple[int, str]]] = {}
    for forum in Forum.objects.filter(pk__in=list(forum_ids)).select_related("parent").order_by("tree_id", "lft"):
        groups.setdefault(forum.parent.name if forum.parent_id else "", []).append((forum.pk, forum.name))
    return list(groups.items())


def existing_topics(topic_ids: Iterable[int | None], *, readable_forum_ids: list[int]) -> dict[int, Topic]:
    """Topics still there, among `topic_ids`, in forums the person reads; one query (the log's links)."""
    ids = {pk for pk in topic_ids if pk}
    if not ids:
        return {}
    topics = Topic.objects.select_related("forum").filter(pk__in=ids, forum_id__in=readable_forum_ids)
    return {topic.pk: topic for topic in topics}
