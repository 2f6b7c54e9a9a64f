"""A websocket opens only from the site's own origin: scheme, host and port, or one of
CSRF_TRUSTED_ORIGINS (realtime/origin.py)."""

import asyncio

import pytest
import websockets
from channels.testing.websocket import WebsocketCommunicator

from config.asgi import application
from tests.support.served import serve, served_database  # noqa: F401

# Channels closes stale database connections before each handler, so allow the database.
pytestmark = pytest.mark.django_db


async def opens(origin: str | None, host="127.0.0.1:8000", scheme="ws", extra=()) -> bool:
    headers = [(b"host", host.encode()), *extra]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    communicator = WebsocketCommunicator(application, "/ws/ping/", headers=headers)
    communicator.scope["scheme"] = scheme
    connected, _ = await communicator.connect()
    if connected:
        await communicator.disconnect()
    return connected


@pytest.mark.asyncio
async def test_the_same_host_on_another_port_is_refused():
    assert await opens("http://127.0.0.1:8000")
    assert not await opens("http://127.0.0.1:9999")
    assert not await opens("http://127.0.0.1")  # port 80
    assert not await opens("http://localhost:8000", host="localhost:9999")
    assert not await opens("http://evil:8000")
    # Naming the attacker's host in Host does not help: it is not one of ALLOWED_HOSTS.
    assert not await opens("http://evil:8000", host="evil:8000")


@pytest.mark.asyncio
async def test_the_same_host_with_another_scheme_is_refused():
    assert not await opens("https://127.0.0.1:8000")
    assert not await opens("https://127.0.0.1:9999")
    assert not await opens("ws://127.0.0.1:8000")


@pytest.mark.asyncio
async def test_behind_the_https_proxy_only_the_https_origin_is_the_sites(settings):
    settings.HTTPS = True
    settings.ALLOWED_HOSTS = ["consultation.example.org"]
    # The proxy speaks plain ws to uvicorn: the socket's own scheme says nothing.
    site = {"host": "consultation.example.org", "scheme": "ws"}
    assert await opens("https://consultation.example.org", **site)
    assert not await opens("http://consultation.example.org", **site)
    assert not await opens("https://consultation.example.org:8443", **site)


@pytest.mark.asyncio
async def test_without_https_the_connections_own_scheme_is_the_sites(settings):
    # HTTPS off (the tests' setting), yet TLS ended at uvicorn itself or at a proxy that says so.
    assert await opens("https://127.0.0.1:8000", scheme="wss")
    forwarded = [(b"x-forwarded-proto", b"https")]
    # With no proxy of ours, a client's own X-Forwarded-Proto changes nothing.
    assert not await opens("https://127.0.0.1:8000", extra=forwarded)
    assert await opens("http://127.0.0.1:8000", extra=forwarded)
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # TRUSTED_PROXY_COUNT=1
    assert await opens("https://127.0.0.1:8000", extra=forwarded)
    assert not await opens("http://127.0.0.1:8000", extra=forwarded)


@pytest.mark.asyncio
async def test_a_trusted_origin_is_accepted_with_its_exact_scheme_and_port(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://partner.example.net", "https://*.example.org"]
    assert await opens("https://partner.example.net")
    assert await opens("https://live.example.org")
    assert not await opens("http://partner.example.net")
    assert not await opens("https://partner.example.net:8443")
    assert not await opens("http://live.example.org")
    assert not await opens("https://example.org.evil.net")


@pytest.mark.asyncio
async def test_a_script_without_origin_may_connect_but_a_null_origin_is_refused():
    # Browsers always send Origin; its absence means a script, which could send any.
    assert await opens(None)
    assert not await opens("null")
    assert not await opens(
        "http://127.0.0.1:8000", extra=[(b"origin", b"https://evil.example.com")]
    )  # two Origin headers: not a browser's, and not trusted


@pytest.mark.slow
def test_the_served_site_refuses_its_own_host_on_another_port_or_scheme(serve):  # noqa: F811
    base = serve()
    url = base.replace("http", "ws") + "/ws/ping/"
    port = int(base.rsplit(":", 1)[1])

    async def opens_served(origin):
        try:
            async with websockets.connect(url, origin=origin, open_timeout=5):
                return True
        except websockets.exceptions.InvalidStatus:
            return False

    async def check():
        assert await opens_served(base)
        assert not await opens_served(f"http://127.0.0.1:{port + 1}")
        assert not await opens_served(f"https://127.0.0.1:{port}")
        assert not await opens_served(f"http://evil:{port}")

    asyncio.run(check())
