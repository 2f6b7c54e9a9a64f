"""A Redis cache that degrades to misses when Redis is down.

Pages, votes and logins must keep working through a Redis outage. Django's
RedisCache raises on a lost connection; this one logs (at most every 10 s) and
answers like an empty cache, so rate limits fail open and nothing 500s.
"""

import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)
_last_warning = 0.0


def _warn(operation, error):
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 10:
        _last_warning = now
        logger.warning("cache unavailable (%s: %s): answering as a miss", operation, error)


def _degrading(name, fallback):
    def method(self, *args, **kwargs):
        try:
            return getattr(RedisCache, name)(self, *args, **kwargs)
        except FAILURES as error:
            _warn(name, error)
            return fallback(*args, **kwargs) if callable(fallback) else fallback

    method.__name__ = name
    return method


class ResilientRedisCache(RedisCache):
    get = _degrading("get", lambda key, default=None, version=None: default)
    get_many = _degrading("get_many", {})
    set = _degrading("set", None)
    set_many = _degrading("set_many", [])
    add = _degrading("add", True)  # "added": a rate-limit counter starts afresh, fails open
    incr = _degrading("incr", lambda key, delta=1, version=None: delta)
    decr = _degrading("decr", 0)
    delete = _degrading("delete", False)
    delete_many = _degrading("delete_many", None)
    has_key = _degrading("has_key", False)
    touch = _degrading("touch", False)
    clear = _degrading("clear", None)
