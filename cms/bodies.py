"""What a page's StreamField body shows the reader (cms.content.BodyContextMixin): anchors, table of
contents, and which of the documents and forum topics it points at the reader may see, computed
once for all its blocks (cms.blocks render nothing else)."""

from __future__ import annotations

from wagtail.documents import get_document_model

from cms.blocks import heading_anchors
from cms.visibility import Visibility
from core import references


def body_context(body, user, visibility: Visibility | None = None) -> dict:
    """What a page's body template needs: items with heading anchors, the table of contents, and
    which of the documents and forum topics it points at the reader may see."""
    visibility = visibility or Visibility(user)
    anchors = heading_anchors(body)
    document_ids, topic_ids = set(), set()
    for child in body:
        if child.block_type == "document" and child.value.get("document") is not None:
            document_ids.add(child.value["document"].pk)
        elif child.block_type == "forum_topic" and child.value.get("topic"):
            topic_ids.add(child.value["topic"])
    visible_document_ids = frozenset(
        visibility.documents(get_document_model().objects.filter(pk__in=document_ids)).values_list("pk", flat=True)
    ) if document_ids else frozenset()
    toc = [
        {"anchor": anchors[child.id], "text": child.value["text"], "level": child.value["level"]}
        for child in body if child.id in anchors
    ]
    return {
        "body_items": [(child, anchors.get(child.id)) for child in body],
        "toc": toc,
        "visible_document_ids": visible_document_ids,
        "forum_topics": references.readable(references.FORUM_TOPIC, user, topic_ids),
    }
