"""Safe rendering of member-written content: markdown → HTML → bleach with a strict allowlist.

`render` is the project's one way to turn what a person wrote into HTML: machina renders posts with it
(MACHINA_MARKUP_LANGUAGE), the CMS renders its markdown blocks with it, and chat renders messages as
plain text (`kind=PLAIN`). Whatever the kind, the result has passed the same sanitiser and link policy.
"""

from __future__ import annotations

from functools import partial
from typing import Literal

import bleach
import markdown as markdown_lib
from bleach.linkifier import LinkifyFilter

ALLOWED_TAGS = frozenset({
    "a", "abbr", "blockquote", "br", "code", "del", "em", "h2", "h3", "h4", "h5", "h6", "hr", "img",
    "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
})
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener"
MAX_SOURCE_LENGTH = 100_000

MARKDOWN = "markdown"  # member markdown: forum posts, CMS markdown blocks
PLAIN = "plain"  # text shown as typed: chat messages (everything escaped, links clickable, line breaks kept)
HTML = "html"  # HTML from elsewhere, cleaned down to the allowlist
Kind = Literal["markdown", "plain", "html"]


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a":
        return name in {"href", "title"}
    if tag == "img":
        if name == "src":
            # Only images served by this site: remote images would leak readers' addresses and
            # let anyone track who reads what. A relative path, never protocol-relative.
            return value.startswith("/") and not value.startswith("//") and "\\" not in value
        return name in {"alt", "title"}
    if tag == "abbr":
        return name == "title"
    if tag in {"td", "th"}:
        return name == "align" and value in {"left", "right", "center"}
    return False


def _set_link_rel(attrs: dict, new: bool = False) -> dict:
    href_key = (None, "href")
    if href_key not in attrs:
        return attrs
    attrs[(None, "rel")] = LINK_REL
    return attrs


_CLEANER = bleach.sanitizer.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_allowed_attribute,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_set_link_rel], parse_email=True, skip_tags={"pre", "code"})],
)


def render(text: str, kind: Kind = MARKDOWN, **_machina_options) -> str:
    """Safe HTML for `text`: only ALLOWED_TAGS, only http(s)/mailto links, each with rel="nofollow
    noopener", only this site's images. Machina calls it with keyword options of its own (ignored)."""
    if kind == PLAIN:
        escaped = bleach.clean(text or "", tags=set(), strip=False)
        return bleach.linkify(escaped, callbacks=[_set_link_rel], parse_email=True).replace("\n", "<br>")
    if kind == MARKDOWN:
        source = (text or "")[:MAX_SOURCE_LENGTH]
        text = markdown_lib.markdown(source, extensions=["nl2br", "sane_lists", "fenced_code", "tables"],
                                     output_format="html")
    elif kind != HTML:
        raise ValueError(f"unknown kind of text: {kind!r}")
    return _CLEANER.clean(text or "")
