"""The client's IP address, for every limit keyed by address (ours and allauth's).

``TRUSTED_PROXY_COUNT`` says how many proxies under our control stand in front of the
ASGI server. Each appends the address it received the request from to
``X-Forwarded-For``, so with N proxies the N-th address from the right was written by
the outermost one: it is the client as the world sees it, and everything to its left
is whatever the client chose to send. With no proxy (the default) the header is
ignored altogether: the client is the socket's peer (``REMOTE_ADDR``), which it cannot
choose.

The ASGI server must not rewrite the peer from the same header (uvicorn does, by
default, for connections from 127.0.0.1): `make run` and the documented commands pass
``--no-proxy-headers``, so this module is the only reader of ``X-Forwarded-For``.
"""

import ipaddress

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address, normalised (``ipaddress``'s spelling)."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [
            entry.strip() for entry in request.headers.get("X-Forwarded-For", "").split(",")
        ]
        # Fewer entries than proxies, or a non-address where the outermost proxy writes:
        # the request did not come through the proxies, so its peer is all we know.
        if len(forwarded) >= count and (address := _address(forwarded[-count])):
            return address
    address = _address(request.META.get("REMOTE_ADDR", ""))
    if address is None:
        # A unix socket has no peer address: only a proxy in front can tell us.
        raise ImproperlyConfigured(
            "The request has no client address (REMOTE_ADDR): behind a proxy on a unix "
            "socket, set TRUSTED_PROXY_COUNT to the number of proxies."
        )
    return address


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None
