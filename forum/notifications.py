"""Notifications machina does not have: forum subscriptions, @mentions, in-site list, e-mails, digests.

Who hears of a post: the topic's subscribers (machina's `topic.subscribers`), the forum's subscribers
(ForumSubscription) and the members mentioned with `@username`; never the author, never anyone
machina's permission handler does not let read the forum, never for an unapproved post. Each of them
gets one Notification row per post; the e-mail follows their `notification_frequency`: at once, in
the daily digest, or never (in-site only). E-mails leave through the outbox (core/outbox, docs/mail.md).

Access is never decided here: who is a member and which forums a person may read are asked of
directory.access, whose forum permission handler is the one machina's views use, with group
permissions derived from the directory's roles. Side effects run after commit, through the tasks of
forum/tasks.py, which run this module's functions (`tasks.notify_post_on_commit` schedules them).
"""

from __future__ import annotations

import contextlib
import contextvars
import html
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from machina.apps.forum.models import Forum
from machina.apps.forum_conversation.models import Post, Topic

from core import links
from core.outbox import services as outbox
from directory import access
from directory.models import NotificationFrequency
from forum.models import ForumSubscription, NationalMeeting, Notification
from forum.selectors import topic_url

if TYPE_CHECKING:
    from forum.overrides.forum_permission.handler import PermissionHandler

NOTIFICATIONS_PER_PAGE = 20
TOPIC_SUBSCRIPTIONS_PER_PAGE = 25
EXCERPT_LENGTH = 400
DIGEST_EXCERPT_LENGTH = 200
DIGEST_WINDOW = timedelta(hours=24)
# A post naming more people than this notifies the first ones only: a mention is not a mailing list.
MAX_MENTIONS_PER_POST = 20
MENTION_QUERY_MIN_LENGTH = 2
MENTION_QUERY_MAX_LENGTH = 100
MENTION_RESULTS = 8

User = get_user_model()


# --- Muting (bulk imports, demo data, benchmarks) -------------------------------------------------

_muted: contextvars.ContextVar[bool] = contextvars.ContextVar("forum_notifications_muted", default=False)


@contextlib.contextmanager
def muted() -> Iterator[None]:
    """Inside this block, saving posts schedules no notification (seeding, imports, benchmarks)."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def is_muted() -> bool:
    return _muted.get()


# --- @mentions ------------------------------------------------------------------------------------

# Fenced code blocks (``` or ~~~, closed by the same fence or running to the end) and inline code
# spans: a mention written as code is an example, not a call.
_FENCED_CODE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}\1[ \t]*$|\Z)", re.MULTILINE | re.DOTALL)
_INLINE_CODE_RE = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
# `@name` not glued to a word, a dot, a slash or a colon: "jean@exemple.org" and URLs do not
# mention anyone. A username ends with a word character, so "@dupont." stops before the dot.
_MENTION_RE = re.compile(r"(?<![\w@.+\-/:])@([\w.+-]*\w)")


def extract_mentions(raw: str) -> list[str]:
    """The distinct usernames `@mentioned` in markdown `raw`, in order of first appearance.

    Code (fenced blocks and inline spans) and e-mail addresses are ignored; duplicates compare
    case-insensitively. At most MAX_MENTIONS_PER_POST names are returned.
    """
    text = _FENCED_CODE_RE.sub(" ", raw or "")
    text = _INLINE_CODE_RE.sub(" ", text)
    seen: dict[str, str] = {}
    for match in _MENTION_RE.finditer(text):
        name = match.group(1)
        seen.setdefault(name.casefold(), name)
        if len(seen) >= MAX_MENTIONS_PER_POST:
            break
    return list(seen.values())


def members() -> QuerySet:
    """Active members of the network (directory.access decides who they are)."""
    return access.members()


def mentioned_members(raw: str) -> list:
    """Active members whose username is @mentioned in `raw` (case-insensitive), one query."""
    names = extract_mentions(raw)
    if not names:
        return []
    condition = Q()
    for name in names:
        condition |= Q(username__iexact=name)
    return list(members().filter(condition))


_ACCENTS = {
    "a": "aàâäáãåAÀÂÄÁÃÅ", "c": "cçCÇ", "e": "eéèêëEÉÈÊË", "i": "iîïíìIÎÏÍÌ", "n": "nñNÑ",
    "o": "oôöóòõOÔÖÓÒÕ", "u": "uùûüúUÙÛÜÚ", "y": "yÿýYŸÝ",
}


def fold(text: str) -> str:
    """Lower case without diacritics: "Hélène" → "helene"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _accent_insensitive_pattern(word: str) -> str:
    """A regular expression matching `word` whatever its accents ("helene" matches "Hélène")."""
    parts = []
    for char in fold(word):
        variants = _ACCENTS.get(char)
        parts.append(f"[{variants}]" if variants else re.escape(char))
    return "".join(parts)


class MentionQueryError(ValueError):
    """The autocomplete query is unusable (too long)."""


def search_members(viewer, query: str, *, limit: int = MENTION_RESULTS) -> list[dict[str, str]]:
    """Members for the @mention autocomplete: username, full name and association, by name; only
    members whose directory page `viewer` may open (access.visible_people), like every list of people.

    Every word of `query` must appear in the username, first name or last name, ignoring case and
    accents. Fewer than MENTION_QUERY_MIN_LENGTH characters give an empty list; more than
    MENTION_QUERY_MAX_LENGTH raise MentionQueryError. One query.
    """
    if len(query) > MENTION_QUERY_MAX_LENGTH:
        raise MentionQueryError(_("La recherche est trop longue."))
    query = query.strip().lstrip("@")
    if len(query) < MENTION_QUERY_MIN_LENGTH:
        return []
    condition = Q()
    for word in query.split():
        pattern = _accent_insensitive_pattern(word)
        condition &= (
            Q(username__iregex=pattern) | Q(first_name__iregex=pattern) | Q(last_name__iregex=pattern)
        )
    people = (
        members().filter(condition).filter(pk__in=access.visible_people(viewer).values("pk"))
        .select_related("association")
        .order_by("last_name", "first_name", "username")[:limit]
    )
    return [
        {
            "username": person.username,
            "name": person.get_full_name() or person.username,
            "association": person.association.name if person.association_id else "",
        }
        for person in people
    ]


# --- Creating notifications for a post -----------------------------------------------------------


def _load_post(post_id: int) -> Post | None:
    return (
        Post.objects.select_related("topic__forum", "poster")
        .filter(pk=post_id).first()
    )


def _is_meeting_announcement(post: Post) -> bool:
    """The first post of a national meeting's thread: its invitation is sent by the meeting task."""
    return (
        post.topic.first_post_id == post.pk
        and NationalMeeting.objects.filter(topic_id=post.topic_id).exists()
    )


def _candidates(post: Post, *, mentions_only: bool) -> dict[int, str]:
    """Recipient id → kind of notification, before access checks; the author left out."""
    topic = post.topic
    mentioned = {person.pk for person in mentioned_members(post.content.raw if post.content else "")}
    if mentions_only:
        followers: set[int] = set()
    else:
        followers = set(topic.subscribers.filter(is_active=True).values_list("pk", flat=True))
        followers |= set(ForumSubscription.objects.filter(forum_id=topic.forum_id).values_list("user_id", flat=True))
    if _is_meeting_announcement(post):
        default_kind = Notification.Kind.MEETING
    elif topic.first_post_id == post.pk:
        default_kind = Notification.Kind.NEW_TOPIC
    else:
        default_kind = Notification.Kind.REPLY
    kinds = dict.fromkeys(followers, default_kind)
    kinds.update(dict.fromkeys(mentioned, Notification.Kind.MENTION))
    kinds.pop(post.poster_id, None)
    return kinds


def notify_post(post_id: int, *, mentions_only: bool = False) -> list[Notification]:
    """Create the notifications of a post and e-mail, at once, those who asked for it.

    Preconditions: none (a missing or unapproved post notifies nobody). Effects: one Notification
    per recipient and post (recipients who already have one for this post are skipped, so running
    twice is harmless); recipients are the topic's and forum's subscribers and the mentioned
    members, minus the author and anyone who may not read the forum. Recipients whose frequency
    is "immediate" and who have an address are e-mailed through one connection and their
    notification marked `emailed_at`. The first post of a national meeting's thread notifies as
    kind "meeting" and is not e-mailed again to the thread's subscribers (the invitation was).
    With `mentions_only` (an approved post was edited), only newly mentioned members are notified.
    Returns the notifications created.
    """
    post = _load_post(post_id)
    if post is None or not post.approved or not post.topic.approved:
        return []
    kinds = _candidates(post, mentions_only=mentions_only)
    if not kinds:
        return []
    already = set(
        Notification.objects.filter(post=post, recipient_id__in=list(kinds)).values_list("recipient_id", flat=True)
    )
    handler = access.forum_permission_handler()
    forum = post.topic.forum
    recipients = [
        person for person in User.objects.filter(pk__in=set(kinds) - already, is_active=True).order_by("pk")
        if handler.can_read_forum(forum, person)
    ]
    if not recipients:
        return []
    meeting_invited: set[int] = set()
    if Notification.Kind.MEETING in kinds.values():
        # The meeting's audience is subscribed to its thread and receives the invitation e-mail.
        meeting_invited = set(post.topic.subscribers.values_list("pk", flat=True))
    now = timezone.now()
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=person, kind=kinds[person.pk], actor_id=post.poster_id, topic=post.topic, post=post,
                emailed_at=now if kinds[person.pk] == Notification.Kind.MEETING and person.pk in meeting_invited
                else None,
            )
            for person in recipients
        ],
        ignore_conflicts=True,  # a concurrent run of the same task already wrote some of them
    )
    created = list(
        Notification.objects.filter(post=post, recipient__in=recipients)
        .select_related("recipient", "actor", "topic__forum", "post")
    )
    send_immediate_emails(
        [n for n in created if n.emailed_at is None
         and n.recipient.notification_frequency == NotificationFrequency.IMMEDIATE and n.recipient.email]
    )
    return created


# --- E-mails --------------------------------------------------------------------------------------


def _base_url() -> str:
    return links.site_url()


def plain_excerpt(post: Post | None, length: int = EXCERPT_LENGTH) -> str:
    """The post's text without markup, on one line, cut at `length` characters."""
    if post is None:
        return ""
    rendered = getattr(post, "_content_rendered", None) or (post.content.raw if post.content else "")
    text = " ".join(html.unescape(strip_tags(rendered)).split())
    return Truncator(text).chars(length)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def display_name(person) -> str:
    if person is None:
        return _("Un membre")
    return person.get_full_name() or person.get_username()


def headline(notification: Notification) -> str:
    """One French sentence saying what happened, e.g. "Marie Dupont a répondu au sujet « … »."."""
    values = {"author": display_name(notification.actor), "topic": _one_line(notification.topic.subject),
              "forum": _one_line(notification.topic.forum.name)}
    if notification.kind == Notification.Kind.MENTION:
        return _("%(author)s vous a mentionné·e dans le sujet « %(topic)s ».") % values
    if notification.kind == Notification.Kind.NEW_TOPIC:
        return _("%(author)s a ouvert le sujet « %(topic)s » dans le forum « %(forum)s ».") % values
    if notification.kind == Notification.Kind.MEETING:
        return _("Une réunion nationale est annoncée : « %(topic)s ».") % values
    return _("%(author)s a répondu au sujet « %(topic)s ».") % values


def _subject(notification: Notification) -> str:
    values = {"author": display_name(notification.actor), "topic": _one_line(notification.topic.subject),
              "forum": _one_line(notification.topic.forum.name)}
    if notification.kind == Notification.Kind.MENTION:
        subject = _("%(author)s vous a mentionné·e : %(topic)s") % values
    elif notification.kind == Notification.Kind.NEW_TOPIC:
        subject = _("Nouveau sujet dans %(forum)s : %(topic)s") % values
    elif notification.kind == Notification.Kind.MEETING:
        subject = _("Réunion nationale : %(topic)s") % values
    else:
        subject = _("Nouvelle réponse : %(topic)s") % values
    return _one_line(f"[Passerelles] {subject}")[:250]


def _email_links() -> dict[str, str]:
    base = _base_url()
    return {
        "preferences_url": base + reverse("exchange:notification-preferences"),
        "subscriptions_url": base + reverse("exchange:subscription-list"),
        "notifications_url": base + reverse("exchange:notification-list"),
    }


def _notification_link(notification: Notification) -> str:
    return _base_url() + reverse("exchange:notification-open", kwargs={"pk": notification.pk})


@transaction.atomic
def _claim(notification_ids: Iterable[int], now: datetime) -> list[int]:
    """Mark as e-mailed the given notifications that are not yet; returns those this call claimed.

    Two workers sending the same notification cannot both claim it: rows are locked (PostgreSQL)
    or the write transaction is serialised (SQLite, transaction_mode IMMEDIATE).
    """
    ids = list(
        Notification.objects.select_for_update()
        .filter(pk__in=list(notification_ids), emailed_at__isnull=True).values_list("pk", flat=True)
    )
    if ids:
        Notification.objects.filter(pk__in=ids).update(emailed_at=now)
    return ids


def send_immediate_emails(notifications: list[Notification]) -> int:
    """E-mail each notification to its recipient through the outbox (one message each, one connection).

    Preconditions: notifications loaded with recipient, actor, topic__forum and post; the caller
    checked that recipients may read the forum; runs in the task worker. Effects: `emailed_at` set
    on those handed to the outbox, which sends them now and retries a failure later (docs/mail.md).
    """
    now = timezone.now()
    claimed = set(_claim([n.pk for n in notifications], now))
    links = _email_links()
    emails = []
    for notification in notifications:
        if notification.pk not in claimed:
            continue
        context = {
            **links,
            "recipient_name": display_name(notification.recipient),
            "headline": headline(notification),
            "topic_title": notification.topic.subject,
            "forum_name": notification.topic.forum.name,
            "author_name": display_name(notification.actor),
            "excerpt": plain_excerpt(notification.post),
            "link": _notification_link(notification),
            "kind": notification.kind,
        }
        emails.append(outbox.queue(
            notification.recipient, category=outbox.Category.NOTICE, kind=f"forum.{notification.kind}",
            subject=_subject(notification), text_template="forum/email/notification.txt", context=context,
            dedupe_key=f"forum.notification:{notification.pk}", on_commit=False,
        ))
    outbox.send_now(emails)
    return sum(email is not None for email in emails)


def send_digests(now: datetime | None = None) -> int:
    """E-mail each "daily" person one message listing their notifications of the last 24 hours.

    Only notifications not yet e-mailed are listed; those of forums the person may no longer read
    (checked now, with a fresh PermissionHandler) are left out. Listed notifications are marked
    `emailed_at`, so a second run the same day sends nothing. The digests go through the outbox
    (sent now, a failure retried later). Returns the number of e-mails queued.
    """
    now = now or timezone.now()
    pending = (
        Notification.objects.filter(
            emailed_at__isnull=True, created_at__gte=now - DIGEST_WINDOW, created_at__lte=now,
            recipient__is_active=True, recipient__notification_frequency=NotificationFrequency.DAILY,
        )
        .exclude(recipient__email="")
        .select_related("recipient", "actor", "topic__forum", "post")
        .order_by("recipient_id", "created_at", "pk")
    )
    handler = access.forum_permission_handler()
    per_person: dict[int, list[Notification]] = {}
    for notification in pending:
        if notification.post_id and not notification.post.approved:
            continue
        if not handler.can_read_forum(notification.topic.forum, notification.recipient):
            continue
        per_person.setdefault(notification.recipient_id, []).append(notification)
    claimed = set(_claim([n.pk for batch in per_person.values() for n in batch], now))
    links = _email_links()
    emails = []
    for batch in per_person.values():
        batch = [n for n in batch if n.pk in claimed]
        if not batch:
            continue
        recipient = batch[0].recipient
        items = [
            {"headline": headline(n), "forum_name": n.topic.forum.name, "created_at": n.created_at,
             "excerpt": plain_excerpt(n.post, DIGEST_EXCERPT_LENGTH), "link": _notification_link(n)}
            for n in batch
        ]
        emails.append(outbox.queue(
            recipient, category=outbox.Category.DIGEST, kind="forum.digest",
            subject="[Passerelles] " + ngettext(
                "Votre résumé quotidien : %(count)s notification",
                "Votre résumé quotidien : %(count)s notifications", len(items),
            ) % {"count": len(items)},
            text_template="forum/email/notification_digest.txt",
            context={**links, "recipient_name": display_name(recipient), "items": items},
            dedupe_key=f"forum.digest:{recipient.pk}:{batch[0].pk}", on_commit=False,
        ))
    outbox.send_now(emails)
    return sum(email is not None for email in emails)


# --- In-site list ---------------------------------------------------------------------------------


def readable_forum_ids(user, handler: PermissionHandler | None = None) -> QuerySet:
    """Ids of the forums machina lets `user` read, as a subquery (a fixed number of queries)."""
    return access.readable_forum_ids(user, handler)


def notifications_for(user, handler: PermissionHandler | None = None) -> QuerySet[Notification]:
    """The person's notifications, newest first, limited to forums they may read now.

    A notification from a forum the person lost access to is never shown: its topic title would
    leak what a private forum discusses.
    """
    return (
        Notification.objects.filter(recipient=user, topic__forum_id__in=readable_forum_ids(user, handler))
        .select_related("actor", "topic__forum")
        .order_by("-created_at", "-pk")
    )


def notification_page(user, page_number, handler: PermissionHandler | None = None) -> Page:
    """One page of the person's notifications (two queries besides the permission handler's)."""
    return Paginator(notifications_for(user, handler), NOTIFICATIONS_PER_PAGE).get_page(page_number)


def unread_count(user) -> int:
    """Unread notifications of the person: one COUNT query."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_all_read(user) -> int:
    """Mark every unread notification of the person read; returns how many changed."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def open_notification(user, notification_id: int, handler: PermissionHandler | None = None) -> str:
    """Mark one of the person's notifications read and return the URL of its post.

    Raises Notification.DoesNotExist if it is not theirs, or if its forum is one they may no longer
    read (the URL would carry the topic's title).
    """
    notification = (
        Notification.objects.select_related("topic__forum")
        .get(pk=notification_id, recipient=user)
    )
    handler = handler or access.forum_permission_handler()
    if not handler.can_read_forum(notification.topic.forum, user):
        raise Notification.DoesNotExist
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
    url = topic_url(notification.topic)
    if notification.post_id:
        url += f"?post={notification.post_id}#{notification.post_id}"
    return url


def forget_unreadable_notifications(user_id: int) -> int:
    """Mark read the unread notifications of forums the person may no longer read.

    Called after the person lost groups, so that the unread count in the navigation (one cheap
    query, no permission check) does not count notifications the list will never show.
    """
    person = User.objects.filter(pk=user_id).first()
    if person is None:
        return 0
    unread = Notification.objects.filter(recipient=person, read_at__isnull=True)
    if not unread.exists():
        return 0
    return unread.exclude(topic__forum_id__in=readable_forum_ids(person)).update(read_at=timezone.now())


# --- Preferences ----------------------------------------------------------------------------------


def set_notification_frequency(user, frequency: str) -> None:
    """Record how the person wants to be e-mailed: immediately, a daily digest, or never."""
    if frequency not in NotificationFrequency.values:
        raise ValueError(f"Unknown notification frequency: {frequency}")
    user.notification_frequency = frequency
    user.save(update_fields=["notification_frequency"])


# --- Subscriptions --------------------------------------------------------------------------------


class SubscriptionError(LookupError):
    """The forum or topic does not exist for this person (unknown, a category, or not readable)."""


def get_followable_forum(user, forum_id: int, handler: PermissionHandler | None = None) -> Forum:
    """The forum (not a category nor a link) the person may read, or SubscriptionError."""
    forum = Forum.objects.filter(pk=forum_id, type=Forum.FORUM_POST).first()
    handler = handler or access.forum_permission_handler()
    if forum is None or not handler.can_read_forum(forum, user):
        raise SubscriptionError(forum_id)
    return forum


def is_following_forum(user, forum: Forum) -> bool:
    return ForumSubscription.objects.filter(user=user, forum=forum).exists()


@transaction.atomic
def set_forum_subscription(user, forum: Forum, follow: bool) -> bool:
    """Follow (or stop following) a whole forum; returns whether the person now follows it.

    Precondition: the person may read the forum (get_followable_forum). Idempotent.
    """
    if follow:
        ForumSubscription.objects.get_or_create(user=user, forum=forum)
    else:
        ForumSubscription.objects.filter(user=user, forum=forum).delete()
    return follow


def followed_forum_ids(user) -> frozenset[int]:
    """Ids of the forums the person follows (one query)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    return frozenset(ForumSubscription.objects.filter(user=user).values_list("forum_id", flat=True))


def get_subscribed_topic(user, topic_id: int, handler: PermissionHandler | None = None) -> Topic:
    """A topic the person follows and may read, or SubscriptionError."""
    topic = Topic.objects.select_related("forum").filter(pk=topic_id, subscribers=user).first()
    handler = handler or access.forum_permission_handler()
    if topic is None or not handler.can_read_forum(topic.forum, user):
        raise SubscriptionError(topic_id)
    return topic


def unsubscribe_from_topic(user, topic: Topic) -> None:
    """Stop following a topic (machina's subscribers relation)."""
    topic.subscribers.remove(user)


@dataclass
class Subscriptions:
    forums: list[Forum]
    topics: Page


def subscriptions_for(user, page_number=None, handler: PermissionHandler | None = None) -> Subscriptions:
    """The forums and (a page of) the topics the person follows, in forums they may read now."""
    readable = readable_forum_ids(user, handler)
    forums = [
        subscription.forum for subscription in
        ForumSubscription.objects.filter(user=user, forum_id__in=readable).select_related("forum")
        .order_by("forum__name")
    ]
    topics = (
        user.topic_subscriptions.filter(forum_id__in=readable)
        .select_related("forum", "last_post__poster").order_by("-last_post_on", "-pk")
    )
    return Subscriptions(forums=forums, topics=Paginator(topics, TOPIC_SUBSCRIPTIONS_PER_PAGE).get_page(page_number))
