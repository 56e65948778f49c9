"""Safe rendering of member-written content: markdown → HTML → bleach with a strict allowlist.

This is the one sanitising function of the project: machina renders posts with `render_markdown`
(MACHINA_MARKUP_LANGUAGE), and the CMS and chat call `sanitize_html` / `render_markdown` wherever
user HTML enters.
"""

from __future__ import annotations

from functools import partial

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


def sanitize_html(html: str) -> str:
    """Clean arbitrary HTML down to the allowlist; every link gets rel="nofollow noopener"."""
    return _CLEANER.clean(html or "")


def render_markdown(text: str, **_options) -> str:
    """Render member markdown to safe HTML (machina calls this with its own keyword options)."""
    source = (text or "")[:MAX_SOURCE_LENGTH]
    html = markdown_lib.markdown(source, extensions=["nl2br", "sane_lists", "fenced_code", "tables"],
                                 output_format="html")
    return sanitize_html(html)


def render_plain_text(text: str) -> str:
    """Plain text (chat): escape everything, then make links clickable with the same link policy."""
    escaped = bleach.clean(text or "", tags=set(), strip=False)
    return bleach.linkify(escaped, callbacks=[_set_link_rel], parse_email=True).replace("\n", "<br>")
