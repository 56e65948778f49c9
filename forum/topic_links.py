"""Forum topics cited by other apps' pages (a CMS body's "Sujet du forum" block), through
core.references: registered as `references.FORUM_TOPIC` in ExchangeConfig.ready()."""

from __future__ import annotations

from machina.apps.forum_conversation.models import Topic

from core.references import Reference
from directory import access
from forum.selectors import topic_url


def topic_exists(topic_id: int) -> bool:
    """Whether an approved topic has this id (what an editor may cite)."""
    return Topic.objects.filter(pk=topic_id, approved=True).exists()


def readable_topic_links(user, topic_ids: set[int]) -> dict[int, Reference]:
    """The topics among `topic_ids` whose forum `user` may read, with their address and forum's name.

    The rule is machina's `can_read_forum` permission, as the forum's own views (and the forum's
    404 middleware) apply it, asked of the access module for all the topics' forums at once (fixed
    number of queries).
    """
    if not topic_ids or not access.is_member(user):
        return {}
    topics = list(Topic.objects.filter(pk__in=topic_ids, approved=True).select_related("forum"))
    if not topics:
        return {}
    readable = access.readable_forum_ids_among(user, {t.forum_id: t.forum for t in topics}.values())
    return {t.pk: Reference(t.subject, topic_url(t), t.forum.name) for t in topics if t.forum_id in readable}
