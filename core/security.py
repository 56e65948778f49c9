"""Security headers Django does not set: Content-Security-Policy and Permissions-Policy.

Django's own middleware sets the others from settings: SecurityMiddleware (HSTS, nosniff,
Referrer-Policy, Cross-Origin-Opener-Policy, HTTPS redirect) and XFrameOptionsMiddleware
(X-Frame-Options: DENY). Django 5.2 has no Content-Security-Policy of its own.

The site and Django's admin (/admin/) run only scripts and style sheets served from our origin:
no inline <script>, no inline event handler, no javascript: URL, no eval, no style attribute
(script-src 'self', style-src 'self'). Templates keep it that way; tests/test_security.py and the
browser tests (tests/browser/test_content_security_policy.py) check it.

Wagtail's admin (/cms-admin/) is the exception, on two points:

- Wagtail 8 still writes a few inline scripts: its chooser widgets (`new PageChooser("id", {…});`,
  wagtail/admin/widgets/chooser.py), date and time widgets (`initDateChooser("id", {…});`) and
  inline panels (`new InlinePanel(JSON.parse("…"))`). Each is a call of one of Wagtail's
  initialisers with data only. Rather than 'unsafe-inline', every Wagtail admin page gets a fresh
  nonce, given only to the inline scripts that are exactly such a call: a known initialiser whose
  arguments all parse as JSON, so data and never code. Any other inline script, an injected one
  included, stays blocked.
- style-src also allows 'unsafe-inline' there: the page editor's bundled libraries
  (wagtailadmin/js/vendor.js) insert <style> elements and inline styles from script, which Wagtail
  gives no way to mark with a nonce, and whose hashes would change with each Wagtail release (seen
  with Chromium: tests/browser/test_content_security_policy.py fails without it). Styles cannot
  run code, and the Wagtail admin is for the federal staff only; scripts stay strict there too.

The Wagtail admin also frames itself (the editor's live preview): X-Frame-Options SAMEORIGIN and
frame-ancestors 'self' there, DENY and 'none' everywhere else.
"""

from __future__ import annotations

import json
import re
import secrets

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

WAGTAIL_ADMIN_PREFIX = "/cms-admin/"

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in ("accelerometer", "camera", "geolocation", "gyroscope", "magnetometer", "microphone",
                    "payment", "usb")
)

# Wagtail's inline initialisers (see the module docstring), called with JSON arguments only.
WAGTAIL_INIT_FUNCTIONS = frozenset({"initDateChooser", "initTimeChooser", "initDateTimeChooser", "createTaskChooser"})
_CALL = re.compile(r"\A\s*(?P<new>new\s+)?(?P<name>[A-Za-z_$][\w$]*)\((?P<args>.*)\);?\s*\Z", re.S)
# wagtailadmin/panels/inline_panel.html and multiple_chooser_panel.html
_PANEL = re.compile(
    r"\A\s*\(function\s*\(\)\s*\{\s*var panel = new (?:InlinePanel|MultipleChooserPanel)"
    r"\(JSON\.parse\((?P<arg>\"(?:[^\"\\]|\\.)*\")\)\);\s*\}\)\(\);\s*\Z",
    re.S,
)
_SCRIPT = re.compile(r"<script(?P<attrs>(?:\s[^>]*)?)>(?P<body>.*?)</script\s*>", re.I | re.S)
_SRC_ATTR = re.compile(r"\ssrc\s*=", re.I)
_TYPE_ATTR = re.compile(r"\stype\s*=\s*[\"']?(?P<type>[^\"'\s>]+)", re.I)
_JAVASCRIPT_TYPES = {"text/javascript", "application/javascript", "module"}


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def is_wagtail_initialiser(body: str) -> bool:
    """Whether an inline script is only a call of one of Wagtail's initialisers with JSON data."""
    if "<!--" in body or "<script" in body.lower():
        # Either would put the HTML parser in a state where the script runs on past the first
        # </script>, beyond the text checked here.
        return False
    panel = _PANEL.match(body)
    if panel:
        # The argument is a JS string literal holding JSON: both layers must be plain data.
        try:
            return _is_json(json.loads(panel["arg"]))
        except ValueError:
            return False
    call = _CALL.match(body)
    if not call:
        return False
    name, is_constructor = call["name"], bool(call["new"])
    known = name.endswith("Chooser") if is_constructor else name in WAGTAIL_INIT_FUNCTIONS
    return known and _is_json(f"[{call['args']}]")


def add_nonce_to_wagtail_initialisers(html: str, nonce: str) -> str:
    """`html` with `nonce` on its inline scripts that are Wagtail initialisers, and on no other."""

    def replace(match: re.Match) -> str:
        attrs = match["attrs"]
        if _SRC_ATTR.search(attrs):
            return match[0]
        script_type = _TYPE_ATTR.search(attrs)
        if script_type and script_type["type"].lower() not in _JAVASCRIPT_TYPES:
            return match[0]  # data (application/json…), never run
        if not is_wagtail_initialiser(match["body"]):
            return match[0]
        return f'<script nonce="{nonce}"{attrs}>{match["body"]}</script>'

    return _SCRIPT.sub(replace, html)


def _websocket_source(request: HttpRequest) -> str | None:
    """The chat's websocket origin ('self' covers ws:/wss: in current browsers, not in older ones)."""
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    return f"{'wss' if request.is_secure() else 'ws'}://{host}"


def content_security_policy(request: HttpRequest, *, nonce: str | None = None) -> str:
    in_wagtail_admin = request.path_info.startswith(WAGTAIL_ADMIN_PREFIX)
    connect = ["'self'"]
    websocket = _websocket_source(request)
    if websocket:
        connect.append(websocket)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": connect,
        "media-src": ["'self'"],
        "frame-src": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    if in_wagtail_admin:
        if nonce:
            directives["script-src"].append(f"'nonce-{nonce}'")
        directives["style-src"].append("'unsafe-inline'")  # why: see the module docstring
        # Image previews before upload (blob:), icons inlined by the admin's style sheets (data:).
        directives["img-src"] += ["data:", "blob:"]
        directives["frame-src"] = ["'self'"]
        directives["frame-ancestors"] = ["'self'"]
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.DEBUG and (response.status_code == 404 or response.status_code >= 500):
            # Django's technical error pages (DEBUG only) are made of inline scripts and styles.
            return response
        nonce = None
        if request.path_info.startswith(WAGTAIL_ADMIN_PREFIX):
            nonce = self._nonce_wagtail_initialisers(response)
            response["X-Frame-Options"] = "SAMEORIGIN"
        response.headers.setdefault("Content-Security-Policy", content_security_policy(request, nonce=nonce))
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response

    @staticmethod
    def _nonce_wagtail_initialisers(response: HttpResponse) -> str | None:
        if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
            return None
        html = response.content.decode(response.charset or "utf-8")
        if "<script" not in html:
            return None
        nonce = secrets.token_urlsafe(18)
        response.content = add_nonce_to_wagtail_initialisers(html, nonce).encode(response.charset or "utf-8")
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return nonce
