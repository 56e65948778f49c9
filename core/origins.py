"""Which pages may open a websocket to the site: the Origin check of every websocket handshake.

A browser sends the `Origin` of the page that opens a websocket (scheme, host and port) and the
session cookie with it, whatever that page is: without this check, any site a member visits could
talk to the chat as them. An origin is compared whole, scheme and port included (http://site and
https://site, or https://site:8443, are different origins), and is accepted when it is:

- the handshake's own origin, as Django's CSRF check computes a request's: `https` when the connection
  came over TLS (`wss`, or `X-Forwarded-Proto: https` from the proxy, which daphne's `--proxy-headers`
  turns into the scope's scheme: deploy/nginx.conf, docker-compose.yml) and `http` otherwise, with the
  `Host` header, which must itself be one of `ALLOWED_HOSTS`;
- the origin of `SITE_URL`, the site's public address;
- one of `CSRF_TRUSTED_ORIGINS` (the origins Django already trusts for forms; `https://*.example.org`
  names the subdomains of example.org).

Anything else, a missing or unreadable Origin included, is refused before the handshake: no close code
(Channels' WebsocketCommunicator reports `(False, 1000)`), HTTP 403 on the wire. chat/PROTOCOL.md
(Connecting) documents it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.http.request import is_same_domain, split_domain_port, validate_host

from core import links

DEFAULT_PORTS = {"http": 80, "https": 443}
# The scope's scheme names the transport; an origin names the page's scheme.
_PAGE_SCHEME = {"ws": "http", "wss": "https", "http": "http", "https": "https"}

Origin = tuple[str, str, int]  # (scheme, host, port), lower case, port made explicit


def parse(value: str, *, url: bool = False) -> Origin | None:
    """An origin (`https://site.example:8443`) as (scheme, host, port), or None if it is not one; with
    `url`, the origin of an address (`SITE_URL` may carry a path)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.username is not None or parts.password is not None:
        return None
    if not url and (parts.path not in ("", "/") or parts.query or parts.fragment):
        return None
    # urlsplit gives an IPv6 host without its brackets, as own_origin does.
    return scheme, parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS[scheme]


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            try:
                return value.decode("latin-1")
            except UnicodeDecodeError:
                return None
    return None


def own_origin(scope) -> Origin | None:
    """The handshake's own origin (see the module docstring), or None if its Host is not allowed."""
    host = _header(scope, b"host")
    if not host:
        return None
    domain, port = split_domain_port(host.lower())
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    scheme = _PAGE_SCHEME.get(str(scope.get("scheme", "ws")).lower(), "http")
    try:
        number = int(port) if port else DEFAULT_PORTS[scheme]
    except ValueError:
        return None
    return scheme, domain.strip("[]").rstrip("."), number


def _trusted(origin: Origin) -> bool:
    site = parse(links.site_url(), url=True)
    if site is not None and origin == site:
        return True
    scheme, host, port = origin
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        wildcard = "://*." in entry
        trusted = parse(entry.replace("://*.", "://", 1)) if wildcard else parse(entry)
        if trusted is None or trusted[0] != scheme or trusted[2] != port:
            continue
        if trusted[1] == host or (wildcard and is_same_domain(host, "." + trusted[1])):
            return True
    return False


def is_allowed(scope) -> bool:
    """Whether the websocket handshake of `scope` comes from an allowed page."""
    origin = parse(_header(scope, b"origin") or "")
    if origin is None:
        return False
    return origin == own_origin(scope) or _trusted(origin)


class _Refusal(AsyncWebsocketConsumer):
    async def connect(self):
        await self.close()


class WebsocketOriginValidator:
    """ASGI middleware in front of the websocket routes (config/asgi.py)."""

    def __init__(self, application):
        self.application = application
        self.refusal = _Refusal.as_asgi()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not is_allowed(scope):
            return await self.refusal(scope, receive, send)
        return await self.application(scope, receive, send)
