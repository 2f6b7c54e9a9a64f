"""Oversized request bodies get a 413 before they are read: through the ASGI application
itself, and on the wire from a real uvicorn serving it as `make run` does."""

import asyncio
import json
import select
import socket
import time
from urllib.parse import urlsplit

import pytest

from config.asgi import application

SIXTY_MB = 60 * 1024 * 1024
CHUNK = 64 * 1024


class Exchange:
    """One HTTP request to the ASGI application, its body fed in chunks as it is read."""

    def __init__(self, path, *, total, declare=True, headers=()):
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1:8000"),
                (b"content-type", b"application/octet-stream"),
                *([(b"content-length", str(total).encode())] if declare else []),
                *headers,
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        self.total = total
        self.read = 0  # body bytes handed to the application
        self.sent = []

    async def receive(self):
        if self.read >= self.total:
            await asyncio.Event().wait()  # the client stays connected, sending nothing
        chunk = min(CHUNK, self.total - self.read)
        self.read += chunk
        return {"type": "http.request", "body": b"x" * chunk, "more_body": self.read < self.total}

    async def send(self, message):
        self.sent.append(message)

    async def run(self):
        await asyncio.wait_for(application(self.scope, self.receive, self.send), 60)
        return self

    @property
    def status(self):
        return next(m["status"] for m in self.sent if m["type"] == "http.response.start")

    @property
    def headers(self):
        start = next(m for m in self.sent if m["type"] == "http.response.start")
        return dict(start["headers"])

    @property
    def body(self):
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


@pytest.mark.asyncio
async def test_a_declared_60_mb_upload_is_refused_without_reading_a_byte():
    exchange = await Exchange("/consultations/anything/", total=SIXTY_MB).run()
    assert exchange.status == 413
    assert exchange.read == 0
    assert exchange.headers[b"connection"] == b"close"
    page = exchange.body.decode()
    assert "Requête trop volumineuse" in page and "Request too large" in page
    assert "2048 ko" in page and "2048 kB" in page


@pytest.mark.asyncio
async def test_a_chunked_upload_is_cut_off_as_soon_as_it_passes_the_limit():
    exchange = await Exchange("/consultations/anything/", total=SIXTY_MB, declare=False).run()
    assert exchange.status == 413
    assert exchange.read <= 2 * 1024 * 1024 + CHUNK
    assert [m["type"] for m in exchange.sent] == ["http.response.start", "http.response.body"]


@pytest.mark.asyncio
@pytest.mark.parametrize("declare", [True, False], ids=["declared", "chunked"])
async def test_the_api_answers_a_json_413_in_the_clients_language(declare):
    exchange = await Exchange(
        "/api/v1/items/1/comments",
        total=SIXTY_MB,
        declare=declare,
        headers=[(b"accept-language", b"en")],
    ).run()
    assert exchange.status == 413
    assert exchange.headers[b"content-type"] == b"application/json"
    assert json.loads(exchange.body) == {
        "code": "too_large",
        "detail": "The request is too large: at most 2048 kB.",
    }
    french = await Exchange("/api/v1/items/1/comments", total=SIXTY_MB).run()
    assert json.loads(french.body)["detail"] == "La requête est trop volumineuse : 2048 ko au plus."


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("declare", [True, False], ids=["declared", "chunked"])
async def test_the_limit_is_a_setting_and_a_body_at_the_limit_goes_through(settings, declare):
    settings.MAX_REQUEST_BODY_BYTES = 100_000
    at_limit = await Exchange("/api/v1/nothing", total=100_000, declare=declare).run()
    assert at_limit.read == 100_000
    assert at_limit.status == 404  # Django read it and answered: no such endpoint
    over = await Exchange("/api/v1/nothing", total=100_001, declare=declare).run()
    assert over.status == 413
    assert json.loads(over.body)["detail"].endswith("97 ko au plus.")


def test_django_parses_in_memory_what_the_limit_lets_through(settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == settings.MAX_REQUEST_BODY_BYTES
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE == settings.MAX_REQUEST_BODY_BYTES


# --- On the wire, from a real server ----------------------------------------------


def raw_request(base, head: str) -> socket.socket:
    address = urlsplit(base)
    connection = socket.create_connection((address.hostname, address.port), timeout=10)
    connection.sendall(head.encode())
    return connection


def read_response(connection, timeout=5.0) -> tuple[int, dict, bytes]:
    connection.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    while len(body) < int(headers.get("content-length", 0)):
        body += connection.recv(65536)
    return int(status_line.split()[1]), headers, body


@pytest.mark.slow
def test_the_served_site_refuses_a_declared_60_mb_upload_at_once(serve):
    base = serve()
    for path, content_type in (
        ("/consultations/anything/", "text/html; charset=utf-8"),
        ("/api/v1/items/1/comments", "application/json"),
    ):
        connection = raw_request(
            base,
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {SIXTY_MB}\r\n\r\n",
        )
        with connection:
            # Not a byte of the body was sent, yet the answer comes.
            status, headers, body = read_response(connection)
        assert status == 413, body
        assert headers["content-type"] == content_type
    assert json.loads(body)["code"] == "too_large"


@pytest.mark.slow
def test_the_served_site_stops_reading_a_chunked_upload_past_the_limit(serve):
    base = serve(MAX_REQUEST_BODY_BYTES="100000")
    connection = raw_request(
        base,
        "POST /api/v1/items/1/comments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    )
    chunk = f"{CHUNK:x}\r\n".encode() + b"x" * CHUNK + b"\r\n"
    sent = 0
    deadline = time.monotonic() + 30
    with connection:
        while sent < SIXTY_MB and time.monotonic() < deadline:
            readable, _, _ = select.select([connection], [], [], 0)
            if readable:
                break
            try:
                connection.sendall(chunk)
            except OSError:  # the server closed the connection: its answer is waiting
                break
            sent += CHUNK
        status, _headers, body = read_response(connection)
    assert status == 413, body
    assert json.loads(body)["code"] == "too_large"
    # Answered long before the upload's end: what was sent beyond the limit sat in
    # socket buffers, unread.
    assert sent < SIXTY_MB // 4
