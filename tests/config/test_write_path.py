"""What keeps a write cheap under load (docs/performance.md, "Write path"): a pool of
database connections, one Redis client per process, and a request's middleware and view in
one thread."""

import asyncio
import os
import subprocess
import sys
import threading

import pytest
from asgiref.sync import SyncToAsync, async_to_sync
from django.conf import settings
from django.core.cache import caches

from accounts.tokens import create_token
from config.http import OneThreadASGIHandler
from consultation.models import Vote
from tests.factories import make_consultation


def _database_options(**env) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    code = "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS'))"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=settings.BASE_DIR,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout + result.stderr


def test_postgresql_connections_come_from_a_bounded_pool():
    options = _database_options(DATABASE_URL="postgres://agora@db.example.org:5432/agora")
    assert "'pool': {'min_size': 2, 'max_size': 10, 'timeout': 10.0}" in options


def test_the_pool_is_sized_from_the_environment_and_can_be_turned_off():
    url = "postgres://agora@db.example.org:5432/agora"
    sized = _database_options(DATABASE_URL=url, DATABASE_POOL_SIZE="4")
    assert "'max_size': 4" in sized
    assert "pool" not in _database_options(DATABASE_URL=url, DATABASE_POOL_SIZE="0")
    refused = _database_options(DATABASE_URL=url, DATABASE_POOL_SIZE="-1")
    assert "DATABASE_POOL_SIZE must be 0 (no pool) or more" in refused


def test_every_request_thread_shares_one_redis_client_and_pool(settings):
    settings.CACHES = {
        alias: {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
            "OPTIONS": {"max_connections": 7},
        }
        for alias in ("default", "degradable")
    }
    seen = []

    def in_a_request_thread():
        cache = caches["degradable"]  # Django builds one per thread (and per asyncio context)
        seen.append((cache, cache._cache, cache._cache.get_client(write=True)))

    for _ in range(2):
        thread = threading.Thread(target=in_a_request_thread)
        thread.start()
        thread.join()
    (first_cache, first_client, first_redis), (second_cache, second_client, second_redis) = seen
    assert first_cache is not second_cache
    assert first_client is second_client
    assert first_redis is second_redis
    assert first_redis.connection_pool.max_connections == 7


def _crossings_of_one_request(
    handler, path: str, method: str = "GET", headers=(), body: bytes = b""
) -> tuple[int, int]:
    """(status, sync_to_async calls) of one request through ``handler``."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    answered: list[int] = []
    crossings = 0
    original = SyncToAsync.__call__

    async def counting(self, *args, **kwargs):
        nonlocal crossings
        crossings += 1
        return await original(self, *args, **kwargs)

    async def request():
        delivered = False

        async def receive():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Future()  # the client stays until the answer (then cancelled)

        async def send(message):
            if message["type"] == "http.response.start":
                answered.append(message["status"])

        SyncToAsync.__call__ = counting
        try:
            await handler(scope, receive, send)
        finally:
            SyncToAsync.__call__ = original

    async_to_sync(request)()
    return answered[0], crossings


@pytest.mark.django_db(transaction=True)
def test_a_vote_crosses_between_the_event_loop_and_its_thread_three_times(citizen):
    # request_started, the middleware chain with the view, closing the response. Django's
    # own ASGI handler crossed nine times: each hook of the security middleware, the sync
    # middleware, back to the loop to resolve the URL, each view middleware, the view.
    item = make_consultation().items.first()
    _token, secret = create_token(citizen, "tests")
    status, crossings = _crossings_of_one_request(
        OneThreadASGIHandler(),
        f"/api/v1/items/{item.pk}/vote",
        "PUT",
        [(b"authorization", f"Bearer {secret}".encode()), (b"content-type", b"application/json")],
        b'{"choice": "for"}',
    )
    assert status == 200
    assert Vote.objects.get(item=item, user=citizen).choice == "for"
    assert crossings == 3, crossings


def test_request_threads_are_kept_for_the_next_requests():
    handler = OneThreadASGIHandler()
    _crossings_of_one_request(handler, "/no-such-page/")
    idle = list(handler._idle)
    _crossings_of_one_request(handler, "/no-such-page/")
    assert idle and handler._idle == idle
