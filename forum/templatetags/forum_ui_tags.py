"""Template helpers of our forum pages (templates/forum/, templates/forum_conversation/).

machina's own tags stay in use (get_permission, forum_list, get_unread_topics, topic_pages_inline_list);
these only reshape what machina computes into what our semantic markup needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django import template
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from machina.conf import settings as machina_settings

from directory import fragments
from forum import selectors

register = template.Library()


@dataclass
class ForumSection:
    """A block of the forum list: a category and its forums, or top-level forums without category."""

    category: object | None  # ForumVisibilityContentNode of the category, or None
    nodes: list = field(default_factory=list)


@register.simple_tag
def forum_sections(forum_contents) -> list[ForumSection]:
    """Group machina's visibility tree into sections, one table each.

    A top-level category gives a section listing its children; consecutive top-level forums (on the
    page of a category, its sub-forums) share one section without category.
    """
    _load_last_post_topics(forum_contents)
    sections: list[ForumSection] = []
    for node in forum_contents.top_nodes:
        if node.obj.is_category:
            sections.append(ForumSection(category=node, nodes=list(node.children)))
        else:
            if not sections or sections[-1].category is not None:
                sections.append(ForumSection(category=None))
            sections[-1].nodes.append(node)
    return sections


def _load_last_post_topics(forum_contents) -> None:
    """Give the forums' last posts their topic and its forum, with one query whatever the number of forums.

    The list links each forum's last post to its topic; the URL needs the topic's slug and its
    forum's (the last post of a forum may sit in a sub-forum). machina's tree only follows
    `last_post` and `last_post__poster`; the forums themselves are the tree's own objects.
    """
    from machina.apps.forum.models import Forum
    from machina.apps.forum_conversation.models import Post, Topic

    forums = {node.obj.pk: node.obj for node in forum_contents.nodes}
    posts = [
        node.obj.last_post for node in forum_contents.nodes
        if node.obj.last_post_id and Forum.last_post.is_cached(node.obj)
    ]
    missing = {post.topic_id for post in posts if not Post.topic.is_cached(post)}
    topics = Topic.objects.only("pk", "slug", "subject", "forum_id").in_bulk(missing) if missing else {}
    for post in posts:
        if not Post.topic.is_cached(post) and post.topic_id in topics:
            post.topic = topics[post.topic_id]
        topic = post.topic if Post.topic.is_cached(post) else None
        if topic is not None and not Topic.forum.is_cached(topic) and topic.forum_id in forums:
            topic.forum = forums[topic.forum_id]


# The reader's own part of the shared forum list (forum/partials/forum_list_shared.html).
_UNREAD_MARKER = re.compile(r"<!--unread-(class|badge):(\d+)-->")


@register.simple_tag
def shared_forum_list(forum_contents, unread_forums) -> str:
    """The forum list of machina's visibility tree, rendered once for all who see the same forums.

    The fragment's audience is exactly what its HTML depends on: the forums of the tree, in order,
    at their levels (the reader's visible forums under this root: machina's permissions decided
    them), and the language. Its stamp changes with the content: the forum content version (every
    post, topic and forum saved or deleted, forum/content_signals.py) and each listed forum's last
    post and last change. The unread state, the only personal part, is filled in afterwards for this
    reader from `unread_forums` (machina's tracking).
    """
    nodes = forum_contents.nodes
    audience = fragments.audience(
        "forum-list", translation.get_language(), forum_contents.root_level,
        tuple((node.obj.pk, node.obj.level) for node in nodes),
    )
    stamp = fragments.stamp(
        fragments.content_version("forum"),
        tuple((node.obj.pk, node.obj.last_post_id, node.obj.updated) for node in nodes),
    )
    html = fragments.cached(
        "forum-list", audience=audience, stamp=stamp,
        render=lambda: render_to_string("forum/partials/forum_list_shared.html", {"forum_contents": forum_contents}),
    )
    return _fill_unread(html, {forum.pk for forum in unread_forums or ()}, badge_prefix=" ")


def _fill_unread(html: str, unread_ids: set[int], *, badge_prefix: str = "") -> str:
    """The reader's unread state in a shared fragment: each marker becomes " is-unread" or the
    "non lu" badge for an unread forum or topic, nothing otherwise."""
    badge = format_html('{}<span class="badge badge--unread">{}</span>', badge_prefix, _("non lu"))

    def personal(match: re.Match) -> str:
        if int(match.group(2)) not in unread_ids:
            return ""
        return " is-unread" if match.group(1) == "class" else badge

    # The cached HTML comes from our template, escaped there; the markers become fixed markup.
    return mark_safe(_UNREAD_MARKER.sub(personal, html))


@register.simple_tag
def shared_topic_list(forum, topics, list_title, list_id, unread_topics, *, hide_if_empty=False,
                      empty_message="") -> str:
    """A forum page's list of topics (or announcements), rendered once for all readers of the forum.

    Everyone who reaches a forum page may read that forum (forum.middleware, machina's view) and
    is shown the same topics (machina's ForumView: approved topics, and the forum's announcements),
    so the audience is the forum, the list and the language. The stamp changes with what the rows
    show: the forum content version and each topic's id, last post, counters and last change (its
    views too, counted at each visit of the topic). The unread state is filled in for this reader.
    """
    topics = list(topics)
    audience = fragments.audience("topic-list", translation.get_language(), forum.pk, list_id, list_title,
                                  hide_if_empty, empty_message)
    stamp = fragments.stamp(
        fragments.content_version("forum"),
        tuple((t.pk, t.last_post_id, t.posts_count, t.views_count, t.updated, t.type, t.status) for t in topics),
    )
    html = fragments.cached("topic-list", audience=audience, stamp=stamp, render=lambda: render_to_string(
        "forum/partials/topic_list.html",
        {"forum": forum, "topics": topics, "list_title": list_title, "list_id": list_id, "unread_markers": True,
         "hide_if_empty": hide_if_empty, "empty_message": empty_message},
    ))
    return _fill_unread(html, {topic.pk for topic in unread_topics or ()})


@register.simple_tag(takes_context=True)
def has_visible_meetings(context) -> bool:
    """Whether the person may see at least one national meeting (one query)."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return False
    handler = getattr(request, "forum_permission_handler", None)
    return selectors.meetings_for(request.user, handler=handler).exists()


@register.filter
def is_in(value, container) -> bool:
    """`{% with unread=forum|is_in:unread_forums %}`: membership test usable in `with`."""
    return bool(container) and value in container


@register.filter
def member_name(user) -> str:
    """The name shown for a forum member: full name, else username."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


@register.filter
def initials(user) -> str:
    """Up to two initials for the avatar placeholder."""
    if user is None:
        return "?"
    parts = [p for p in (user.first_name, user.last_name) if p] or [user.get_username()]
    return "".join(p[0] for p in parts[:2]).upper()


@register.simple_tag
def reply_subject(topic) -> str:
    """The subject machina pre-fills for a reply ("Re: <topic subject>"): not worth repeating on each post."""
    return f"{machina_settings.TOPIC_ANSWER_SUBJECT_PREFIX} {topic.subject}"


@register.simple_tag
def topic_page_links(topic) -> dict:
    """Page numbers of a long topic for the topic lists: first pages and the last one, like machina."""
    per_page = machina_settings.TOPIC_POSTS_NUMBER_PER_PAGE
    pages = ((max(topic.posts_count, 1) - 1) // per_page) + 1
    if pages <= 1:
        return {"pages": [], "last": None}
    if pages > 5:
        return {"pages": list(range(1, 5)), "last": pages}
    return {"pages": list(range(1, pages + 1)), "last": None}
