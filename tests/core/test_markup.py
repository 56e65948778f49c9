"""core.markup.render, for each kind of text: markdown → HTML → bleach, HTML → bleach, plain text escaped.
Nothing executable survives, links get nofollow noopener."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from core.markup import ALLOWED_TAGS, HTML, PLAIN, render


def render_markdown(text: str) -> str:
    return render(text)


def sanitize_html(html: str) -> str:
    return render(html, HTML)


def render_plain_text(text: str) -> str:
    return render(text, PLAIN)


XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<img src=/media/ok.png onerror=alert(1)>",
    "<body onload=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\"></object>",
    "<a href=\"javascript:alert(1)\">a</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">a</a>",
    "<a href=\" javascript:alert(1)\">a</a>",
    "<a href=\"java&#x09;script:alert(1)\">a</a>",
    "<a href=\"java&#10;script:alert(1)\">a</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">a</a>",
    "<a href=\"&#x6A;avascript:alert(1)\">a</a>",
    "<a href=\"javascript&colon;alert(1)\">a</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">a</a>",
    "<a href=\"DATA:text/html,<script>alert(1)</script>\">a</a>",
    "<a href=\"vbscript:msgbox(1)\">a</a>",
    "[clic](javascript:alert(1))",
    "[clic](JAVASCRIPT:alert(1))",
    "[clic](javascript&#58;alert(1))",
    "[clic](&#106;avascript:alert(1))",
    "[clic](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[clic](<javascript:alert(1)>)",
    "[clic][ref]\n\n[ref]: javascript:alert(1)",
    "![x](javascript:alert(1))",
    "![x](https://pisteur.example/pixel.png)",
    "![x](//pisteur.example/pixel.png)",
    "<https://exemple.fr\" onmouseover=\"alert(1)>",
    "[a](https://exemple.fr \"titre\" onmouseover=alert(1))",
    "<p style=\"background:url(javascript:alert(1))\">x</p>",
    "<div style=\"width: expression(alert(1))\">x</div>",
    "<a href=\"https://exemple.fr\" onclick=\"alert(1)\" target=\"_blank\">a</a>",
    "<form action=\"https://evil.example\"><input name=x></form>",
    "<base href=\"https://evil.example/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<link rel=stylesheet href=https://evil.example/x.css>",
    "<style>@import 'https://evil.example/x.css';</style>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
    "```\n<script>alert(1)</script>\n```",
    "`<img src=x onerror=alert(1)>`",
]

class TagCollector(HTMLParser):
    """Parses the output as a browser would and records every element and attribute."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {name: value or "" for name, value in attrs}))


def assert_safe(html: str) -> None:
    collector = TagCollector()
    collector.feed(html)
    for tag, attrs in collector.elements:
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs.items():
            assert not name.startswith("on"), html
            assert name != "style", html
            if name == "href":
                # Either an allowed scheme or a relative link (no scheme at all once decoded).
                assert urlsplit(value).scheme in {"http", "https", "mailto", ""}, html
            if name == "src":
                assert value.startswith("/") and not value.startswith("//"), html


@pytest.mark.parametrize("vector", XSS_CORPUS)
def test_markdown_rendering_neutralises_the_vector(vector):
    assert_safe(render_markdown(vector))


@pytest.mark.parametrize("vector", XSS_CORPUS)
def test_html_sanitiser_neutralises_the_vector(vector):
    assert_safe(sanitize_html(vector))


@pytest.mark.parametrize("vector", XSS_CORPUS)
def test_plain_text_rendering_neutralises_the_vector(vector):
    assert_safe(render_plain_text(vector))


def test_links_get_nofollow_noopener():
    html = render_markdown("Voir [le guide](https://federation.exemple.fr/guide) et https://exemple.fr")
    assert html.count('rel="nofollow noopener"') == 2


def test_mailto_links_are_kept():
    assert 'href="mailto:contact@exemple.fr"' in render_markdown("[écrire](mailto:contact@exemple.fr)")


def test_markdown_formatting_survives():
    html = render_markdown("# Titre\n\n**gras** et *italique*\n\n- un\n- deux\n\n> citation")
    assert "<strong>gras</strong>" in html and "<em>italique</em>" in html
    assert "<li>un</li>" in html and "<blockquote>" in html


def test_local_images_are_kept_remote_ones_dropped():
    assert 'src="/media/images/plan.png"' in render_markdown("![plan](/media/images/plan.png)")
    assert "src=" not in render_markdown("![x](https://pisteur.example/p.png)")


def test_a_post_rendered_by_machina_uses_our_renderer(db, director):
    from machina.apps.forum.models import Forum
    from machina.apps.forum_conversation.models import Post, Topic

    forum = Forum.objects.create(name="Test", type=Forum.FORUM_POST)
    topic = Topic.objects.create(forum=forum, subject="Sujet", poster=director, type=Topic.TOPIC_POST,
                                 status=Topic.TOPIC_UNLOCKED)
    post = Post.objects.create(topic=topic, poster=director, subject="Sujet",
                               content="[x](javascript:alert(1)) <script>alert(2)</script> https://exemple.fr")
    rendered = post.content.rendered
    assert_safe(rendered)
    assert 'rel="nofollow noopener"' in rendered


# --- URLs are read the way browsers read them (issue 16, item 4) ------------------------------------
#
# A browser's HTML parser decodes character references in the attribute, then the WHATWG URL parser
# strips leading/trailing C0 controls and spaces, removes every tab/CR/LF, and, for a relative URL
# against an http(s) page, reads "\" as "/". `browser_url` below does the same, independently of the
# code under test, to say what a browser makes of each emitted attribute.

SITE = "https://passerelles.example.org/forum/sujet/1/"

# Image sources a browser resolves to another host (or to a non-http scheme): none may survive.
OFF_SITE_IMAGE_SOURCES = [
    "/\n/evil.example/x.png",
    "/&#x0A;/evil.example/x.png",
    "/&#10;/evil.example/x.png",
    "/&#13;/evil.example/x.png",
    "/&#9;/evil.example/x.png",
    "/&Tab;/evil.example/x.png",
    "/&NewLine;/evil.example/x.png",
    "/\t/evil.example/x.png",
    "/\r/evil.example/x.png",
    "\t//evil.example/x.png",
    " //evil.example/x.png",
    "&#x20;//evil.example/x.png",
    "&#1;//evil.example/x.png",
    "\x01//evil.example/x.png",
    "&#x1F;/&#x0D;/evil.example/x.png",
    "/\\evil.example/x.png",
    "\\/evil.example/x.png",
    "\\\\evil.example/x.png",
    "/&#92;evil.example/x.png",
    "&#x5C;&#x5C;evil.example/x.png",
    "//evil.example/x.png",
    "https://evil.example/x.png",
    "https:evil.example/x.png",
    "http:/\\evil.example/x.png",
    "HtTpS://evil.example/x.png",
    "ht\ttps://evil.example/x.png",
    "https&#58;//evil.example/x.png",
    "javascript:alert(1)",
    "java\tscript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:image/svg+xml;base64,PHN2Zy8+",
    "vbscript:msgbox(1)",
    "blob:https://evil.example/1",
    "file:///etc/passwd",
    "/&#x0A;&#x0A;/evil.example/x.png",
]

# Link targets whose scheme a browser reads as a script or data: none may survive.
SCRIPT_LINK_TARGETS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java&#x0A;script:alert(1)",
    "java&NewLine;script:alert(1)",
    "\x01javascript:alert(1)",
    " \tjavascript:alert(1)",
    "javascript&#x3A;alert(1)",
    "&#x6A;avascript:alert(1)",
    "jav&#x09;ascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "&#x0A;data:text/html,x",
]


def browser_decode_attribute(raw: str) -> str:
    """Character references in an attribute value, decoded as the HTML standard says (a legacy named
    reference without ";" stays as it is when followed by "=" or an alphanumeric)."""
    import html
    import re
    from html.entities import html5

    def replace(match):
        text = match.group(1)
        if text.startswith("#") or text.endswith(";"):
            return html.unescape(match.group(0))
        for end in range(len(text), 1, -1):
            if text[:end] in html5:
                following = text[end:end + 1]
                if following and (following == "=" or following.isalnum()):
                    return match.group(0)
                return html5[text[:end]] + text[end:]
        return match.group(0)

    return re.sub(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)", replace, raw)


def browser_url(attribute_value: str) -> tuple[str, str]:
    """(scheme, host) a browser resolves the (decoded) attribute value to, on a page of SITE."""
    import re

    url = attribute_value.strip("".join(chr(c) for c in range(0x21)))
    url = re.sub("[\t\n\r]", "", url)
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", url)
    scheme = match.group(1).lower() if match else ""
    if scheme not in {"", "http", "https"}:
        return scheme, ""
    rest = (url[match.end():] if match else url).replace("\\", "/")

    def host(text: str) -> str:
        return re.split(r"[/?#]", text.lstrip("/"), maxsplit=1)[0].rsplit("@", 1)[-1].split(":")[0].lower()

    if scheme and scheme != "https":
        # Another special scheme than the page's: whatever follows, slashes or not, is the host.
        return scheme, host(rest)
    if rest.startswith("//"):
        # "//x", "///x", and "https://x" on an https page: x is the host.
        return "https", host(rest)
    # "/x", "x", "#x", and "https:x" (same scheme as the page: relative).
    return "https", "passerelles.example.org"


def emitted_urls(html: str) -> list[tuple[str, str, str]]:
    """(tag, attribute, value as the browser reads it) for every URL attribute in `html`."""
    import re

    urls = []
    for match in re.finditer(r"<(a|img)\b([^>]*)>", html):
        for attribute in re.finditer(r'\s(href|src)="([^"]*)"', match.group(2)):
            urls.append((match.group(1), attribute.group(1), browser_decode_attribute(attribute.group(2))))
    return urls


@pytest.mark.parametrize("source", OFF_SITE_IMAGE_SOURCES)
@pytest.mark.parametrize("kind", ["markdown", "html"])
def test_an_image_never_resolves_off_site(source, kind):
    html = render(f'<p><img src="{source}" alt="x"></p>', kind)
    for tag, name, value in emitted_urls(html):
        if tag == "img" and name == "src":
            assert browser_url(value) == ("https", "passerelles.example.org"), (source, html)


@pytest.mark.parametrize("source", SCRIPT_LINK_TARGETS)
@pytest.mark.parametrize("kind", ["markdown", "html"])
def test_a_link_never_resolves_to_a_script(source, kind):
    html = render(f'<p><a href="{source}">clic</a></p>', kind)
    for _tag, _name, value in emitted_urls(html):
        assert browser_url(value)[0] in {"http", "https", "mailto"}, (source, html)


@pytest.mark.parametrize("source, emitted", [
    ("/media/images/plan.png", "/media/images/plan.png"),
    ("/media/images/pl&#x0A;an.png", "/media/images/plan.png"),
    (" /media/images/plan.png\t", "/media/images/plan.png"),
    ("/%2F%2Fevil.example/x.png", "/%2F%2Fevil.example/x.png"),
    ("/media/a\\b.png", "/media/a/b.png"),
    ("/media/x.png?a=1&amp;b=2", "/media/x.png?a=1&b=2"),
])
def test_a_local_image_is_emitted_as_the_browser_reads_it(source, emitted):
    html = render(f'<img src="{source}" alt="x">', HTML)
    assert emitted_urls(html) == [("img", "src", emitted)], html


@pytest.mark.parametrize("source, emitted", [
    ("https://exemple.fr/guide", "https://exemple.fr/guide"),
    ("HTTPS://exemple.fr/guide", "https://exemple.fr/guide"),
    ("ht&#x09;tps://exemple.fr/guide", "https://exemple.fr/guide"),
    ("https:\\\\exemple.fr\\guide", "https://exemple.fr/guide"),
    ("/forum/sujet/2/", "/forum/sujet/2/"),
    ("/forum/&#x0A;sujet/2/", "/forum/sujet/2/"),
    ("#reponse-3", "#reponse-3"),
    ("mailto:contact@exemple.fr", "mailto:contact@exemple.fr"),
    ("https://exemple.fr/?a=1&amp;b=2", "https://exemple.fr/?a=1&b=2"),
])
def test_a_link_is_emitted_as_the_browser_reads_it(source, emitted):
    html = render(f'<a href="{source}">clic</a>', HTML)
    assert emitted_urls(html) == [("a", "href", emitted)], html


def test_a_url_whose_text_would_be_read_as_a_character_reference_is_dropped():
    # Decoded once it reads "/x?&amp;y" — written back, a browser would decode it a second time.
    html = render('<img src="/x?&amp;amp;y" alt="x"> <a href="/x?&amp;lt;y">a</a>', HTML)
    assert emitted_urls(html) == [], html


def test_the_forum_image_of_the_audit_is_dropped(db, director):
    from machina.apps.forum.models import Forum
    from machina.apps.forum_conversation.models import Post, Topic

    forum = Forum.objects.create(name="Test", type=Forum.FORUM_POST)
    topic = Topic.objects.create(forum=forum, subject="Sujet", poster=director, type=Topic.TOPIC_POST,
                                 status=Topic.TOPIC_UNLOCKED)
    post = Post.objects.create(topic=topic, poster=director, subject="Sujet",
                               content='Voici <img src="/\n/evil.example/x.png" alt="plan">')
    assert "evil.example" not in post.content.rendered
