"""Safe rendering of member-written content: markdown → HTML → bleach with a strict allowlist.

`render` is the project's one way to turn what a person wrote into HTML: machina renders posts with it
(MACHINA_MARKUP_LANGUAGE), the CMS renders its markdown blocks with it, and chat renders messages as
plain text (`kind=PLAIN`). Whatever the kind, the result has passed the same sanitiser and link policy.

Every URL of the output (a link's href, an image's src) is decided by `safe_url`, which reads the
attribute the way a browser does, and the output carries the URL as it read it (docs/architecture.md,
*Member-written content*): what the browser follows is what was checked.
"""

from __future__ import annotations

import html
import re
from functools import partial
from html.entities import html5 as HTML5_ENTITIES
from typing import Literal

import bleach
import markdown as markdown_lib
from bleach.html5lib_shim import Filter
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


# --- URLs, read as a browser reads them ---------------------------------------------------------------
#
# A browser decodes the character references of the attribute (HTML standard, "character reference
# state", with its attribute exception for legacy names), then the WHATWG URL parser strips leading and
# trailing C0 controls and spaces, removes every tab, CR and LF, reads a scheme case-insensitively, and,
# for a special scheme (http, https…) or a relative URL on an http(s) page, takes "\" for "/". So
# "/\n/evil.example/x.png", "/\\evil.example" and "\\\\evil.example" all name another host.

_CHARACTER_REFERENCE = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")
_C0_CONTROL_OR_SPACE = "".join(chr(code) for code in range(0x21))
_TAB_OR_NEWLINE = re.compile("[\t\n\r]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_SPECIAL_SCHEMES = frozenset({"ftp", "file", "http", "https", "ws", "wss"})
# Text the serialiser would write back as a character reference (bleach keeps "&name;" as it is), so
# that the browser would decode it a second time.
_READ_AS_REFERENCE = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def _decode_attribute(raw: str) -> str:
    """The attribute's characters once the HTML parser has decoded its character references."""

    def decode(match: re.Match) -> str:
        reference = match.group(1)
        if reference.startswith("#") or reference.endswith(";"):
            return html.unescape(match.group(0))
        # A legacy name without ";" (&amp, &copy…): decoded, unless followed by "=" or an alphanumeric.
        for end in range(len(reference), 1, -1):
            if reference[:end] in HTML5_ENTITIES:
                following = reference[end:end + 1]
                if following == "=" or following.isalnum():
                    return match.group(0)
                return HTML5_ENTITIES[reference[:end]] + reference[end:]
        return match.group(0)

    return _CHARACTER_REFERENCE.sub(decode, raw)


def safe_url(raw: str, *, local: bool = False) -> str | None:
    """The URL a browser reads from the attribute text `raw` (character references undecoded, as the
    sanitiser sees it), written the way the browser reads it, or None if the policy refuses it.

    A URL with a scheme is allowed only for ALLOWED_PROTOCOLS; with `local` (images), only a path of
    this site is: it starts with one "/", never "//" (another host) once read as the browser does.
    """
    url = _TAB_OR_NEWLINE.sub("", _decode_attribute(raw).strip(_C0_CONTROL_OR_SPACE))
    match = _SCHEME.match(url)
    if match:
        scheme = match.group(1).lower()
        if local or scheme not in ALLOWED_PROTOCOLS:
            return None
        rest = url[match.end():]
        url = scheme + ":" + (rest.replace("\\", "/") if scheme in _SPECIAL_SCHEMES else rest)
    else:
        url = url.replace("\\", "/")
        if local and (not url.startswith("/") or url.startswith("//")):
            return None
    if _READ_AS_REFERENCE.search(url):
        return None
    return url


class _SafeUrlFilter(Filter):
    """Writes every href and src as `safe_url` read it, or drops the attribute: the last word on URLs,
    after the sanitiser and the linkifier (which adds links of its own)."""

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] in {"StartTag", "EmptyTag"} and token.get("data"):
                for key in [(None, "href"), (None, "src")]:
                    if key in token["data"]:
                        url = safe_url(token["data"][key], local=key[1] == "src")
                        if url is None:
                            del token["data"][key]
                        else:
                            token["data"][key] = url
            yield token


def _safe_link(attrs: dict, new: bool = False) -> dict | None:
    """Linkifier callback: a link found in plain text gets `safe_url`'s reading, or stays text."""
    url = safe_url(attrs.get((None, "href"), ""))
    if url is None:
        return None
    attrs[(None, "href")] = url
    return attrs


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a":
        if name == "href":
            return safe_url(value) is not None
        return name == "title"
    if tag == "img":
        if name == "src":
            # Only images served by this site: remote images would leak readers' addresses and
            # let anyone track who reads what.
            return safe_url(value, local=True) is not None
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
    filters=[partial(LinkifyFilter, callbacks=[_set_link_rel], parse_email=True, skip_tags={"pre", "code"}),
             _SafeUrlFilter],
)


def render(text: str, kind: Kind = MARKDOWN, **_machina_options) -> str:
    """Safe HTML for `text`: only ALLOWED_TAGS, only http(s)/mailto links, each with rel="nofollow
    noopener", only this site's images. Machina calls it with keyword options of its own (ignored)."""
    if kind == PLAIN:
        escaped = bleach.clean(text or "", tags=set(), strip=False)
        linked = bleach.linkify(escaped, callbacks=[_safe_link, _set_link_rel], parse_email=True)
        return linked.replace("\n", "<br>")
    if kind == MARKDOWN:
        source = (text or "")[:MAX_SOURCE_LENGTH]
        text = markdown_lib.markdown(source, extensions=["nl2br", "sane_lists", "fenced_code", "tables"],
                                     output_format="html")
    elif kind != HTML:
        raise ValueError(f"unknown kind of text: {kind!r}")
    return _CLEANER.clean(text or "")
