"""Refuse websocket handshakes from another site: the full origin must be the site's own.

A browser opens a websocket from any page it likes, with the site's cookies attached;
only the ``Origin`` header says which page asked. Channels' ``AllowedHostsOriginValidator``
compares host names alone, so ``http://evil:8000`` or ``https://127.0.0.1:9999`` passed
for a site at ``http://127.0.0.1:8000``. This compares scheme, host and port, the way
Django's CSRF check compares a form's ``Origin``:

- the site itself: the ``Host`` the socket was opened on (one of ``ALLOWED_HOSTS``)
  with the site's scheme, ``https`` when ``HTTPS`` is on (behind the proxy the socket
  itself is plain ``ws``), otherwise the connection's own (``wss``, or the proxy's
  ``X-Forwarded-Proto``, as ``SECURE_PROXY_SSL_HEADER`` says);
- every origin in ``CSRF_TRUSTED_ORIGINS`` (``https://*.example.org`` for subdomains).

No ``Origin`` at all is let through: every browser sends one on a websocket handshake
(RFC 6455, section 4.1), so its absence means a script, which holds only the cookies it
was given and could have sent any ``Origin`` it liked, so refusing it would protect
nothing. ``Origin: null`` (sandboxed frames, local files) is a browser's and is refused.
"""

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

# An ASGI connection's scope.
type Scope = dict[str, Any]


class SameOriginValidator:
    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)


def allowed(scope: Scope) -> bool:
    origins = _header_values(scope, b"origin")
    if not origins:
        return True
    if len(origins) > 1:
        return False
    origin = origins[0].lower()
    return origin in site_origins(scope) or _trusted(origin)


def site_origins(scope: Scope) -> set[str]:
    """The origins the page that opened this socket may have: the site's own."""
    hosts = _header_values(scope, b"host")
    if len(hosts) != 1:
        return set()
    host = hosts[0].lower()
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, _allowed_hosts()):
        return set()
    return {f"{_scheme(scope)}://{host}"}


def _scheme(scope: Scope) -> str:
    if settings.HTTPS or scope.get("scheme") == "wss":
        return "https"
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        header = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode()
        forwarded = _header_values(scope, header)
        if forwarded and forwarded[0].split(",")[0].strip() == secure_value:
            return "https"
    return "http"


def _trusted(origin: str) -> bool:
    """In CSRF_TRUSTED_ORIGINS, exactly or as a subdomain of a ``*.`` entry (as Django)."""
    trusted = [entry.lower() for entry in settings.CSRF_TRUSTED_ORIGINS]
    if origin in trusted:
        return True
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    for entry in trusted:
        if "*" in entry:
            pattern = urlsplit(entry)
            if pattern.scheme == parsed.scheme and is_same_domain(
                parsed.netloc, pattern.netloc.lstrip("*")
            ):
                return True
    return False


def _allowed_hosts() -> list[str]:
    if settings.DEBUG and not settings.ALLOWED_HOSTS:
        return [".localhost", "127.0.0.1", "[::1]"]  # as Django's HttpRequest.get_host
    return settings.ALLOWED_HOSTS


def _header_values(scope: Scope, name: bytes) -> list[str]:
    return [
        value.decode("latin1").strip()
        for header, value in scope.get("headers", ())
        if header == name
    ]
