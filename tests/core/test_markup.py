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
