"""Two ways for a Redis cache to behave when Redis is down, one per kind of use.

- ``default`` fails **closed** (``FailClosedRedisCache``): every use of it guards an
  account — allauth's login, sign-up and reset limits, its TOTP and ID-token replay
  guards, our confirmation of an account deletion. When Redis does not answer, none of
  them may quietly stop counting (a limit that counts nothing lets a password or a TOTP
  code be guessed or replayed), so each operation raises ``CacheUnavailable`` and
  ``CacheOutageMiddleware`` answers 503 with a clear message: signing in waits for Redis.
- ``degradable`` fails **open** (``ResilientRedisCache``): uses that protect no account
  and must not stop the site — the per-account write limit on votes and comments (votes
  keep being taken through a Redis outage), the worker heartbeat, de-duplicating jobs.
  It logs (at most every 10 s) and answers like an empty cache.

docs/security.md, "What fails closed", lists both.
"""

import logging
import threading
import time
from collections.abc import Callable
from functools import cached_property
from typing import Any, ClassVar

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)
_last_warning = 0.0

DEGRADABLE = "degradable"


def degradable():
    """The cache for uses that may degrade when Redis is down (see above)."""
    return caches[DEGRADABLE]


class CacheUnavailable(Exception):
    """The cache that guards accounts cannot be reached: refuse, do not guess."""


def _warn(operation, error):
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 10:
        _last_warning = now
        logger.warning("cache unavailable (%s: %s): answering as a miss", operation, error)


class _OneRedisClient(RedisCacheClient):
    """Django's client makes a ``redis.Redis`` for every operation (copying its table of
    response callbacks each time); one per pool does, it is thread-safe."""

    # Django's, not in its stubs.
    _client: Any
    _get_connection_pool: Callable[..., Any]

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._redis_clients.get(pool)
        if client is None:
            client = self._redis_clients.setdefault(pool, self._client(connection_pool=pool))
        return client

    @cached_property
    def _redis_clients(self) -> dict:
        return {}


class _SharedClientCache(RedisCache):
    """Django's Redis cache, with one client (and so one connection pool) per server and
    options in the process.

    Django builds a cache object per thread and per asyncio context: under ASGI, per
    request. Each built its own client, and so its own pool: every request opened a new
    Redis connection, and paid for the client's set-up (redis-py reads its own version from
    the installed package's metadata, a few milliseconds). docs/performance.md, "Write
    path". The client and its pool are thread-safe; redis-py drops a pool's connections in
    a forked child.
    """

    # Django's, not in its stubs.
    _servers: list[str]
    _options: dict[str, Any]
    _clients: ClassVar[dict[str, "_OneRedisClient"]] = {}
    _clients_lock = threading.Lock()

    @cached_property
    def _cache(self) -> "_OneRedisClient":
        key = repr((self._servers, sorted(self._options.items())))
        client = self._clients.get(key)
        if client is None:
            with self._clients_lock:
                client = self._clients.get(key)
                if client is None:
                    client = _OneRedisClient(self._servers, **self._options)
                    client._get_connection_pool(write=True)  # made once, under the lock
                    client.get_client(write=True)
                    self._clients[key] = client
        return client


def _degrading(name, fallback):
    def method(self, *args, **kwargs):
        try:
            return getattr(RedisCache, name)(self, *args, **kwargs)
        except FAILURES as error:
            _warn(name, error)
            return fallback(*args, **kwargs) if callable(fallback) else fallback

    method.__name__ = name
    return method


class ResilientRedisCache(_SharedClientCache):
    get = _degrading("get", lambda key, default=None, version=None: default)
    get_many = _degrading("get_many", {})
    set = _degrading("set", None)
    set_many = _degrading("set_many", [])
    add = _degrading("add", True)  # "added": a write-limit counter starts afresh, fails open
    incr = _degrading("incr", lambda key, delta=1, version=None: delta)
    decr = _degrading("decr", 0)
    delete = _degrading("delete", False)
    delete_many = _degrading("delete_many", None)
    has_key = _degrading("has_key", False)
    touch = _degrading("touch", False)
    clear = _degrading("clear", None)


def _failing_closed(name):
    def method(self, *args, **kwargs):
        try:
            return getattr(RedisCache, name)(self, *args, **kwargs)
        except FAILURES as error:
            logger.error("security cache unavailable (%s: %s): refusing", name, error)
            raise CacheUnavailable(str(error)) from error

    method.__name__ = name
    return method


class FailClosedRedisCache(_SharedClientCache):
    get = _failing_closed("get")
    get_many = _failing_closed("get_many")
    set = _failing_closed("set")
    set_many = _failing_closed("set_many")
    add = _failing_closed("add")
    incr = _failing_closed("incr")
    decr = _failing_closed("decr")
    delete = _failing_closed("delete")
    delete_many = _failing_closed("delete_many")
    has_key = _failing_closed("has_key")
    touch = _failing_closed("touch")
    clear = _failing_closed("clear")


class CacheOutageMiddleware:
    """Turn ``CacheUnavailable`` into a 503 the person can understand (JSON on the API)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, CacheUnavailable):
            return None
        message = _(
            "Signing in and other account security checks are paused for a moment: a "
            "service they rely on is not answering. Please try again in a minute."
        )
        response: HttpResponse
        if request.path_info.startswith("/api/"):
            response = JsonResponse({"code": "unavailable", "detail": message}, status=503)
        else:
            response = render(request, "503.html", {"message": message}, status=503)
        response["Retry-After"] = "60"
        return response
