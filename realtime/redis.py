"""The process's link to Redis for the live streams: channel names, one synchronous
client with its publishing script, and a circuit breaker. Shared by ``broadcast`` (which
publishes) and ``hub`` (which subscribes); imports neither.
"""

import logging
import threading
import time

from django.conf import settings

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "agora:rt:"
SEQ_PREFIX = "agora:rt:seq:"
CONTROL_CHANNEL = "agora:rt:control"

# KEYS[1] = seq key, KEYS[2] = channel; ARGV[1] = frame JSON without seq.
# The message is "<seq>|<json>": receivers splice the number in without re-serialising.
_PUBLISH_LUA = """
local seq = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', KEYS[2], seq .. '|' .. ARGV[1])
return seq
"""

_lock = threading.Lock()
_client = None
_script = None

# Circuit breaker: after a failure, skip Redis for a moment instead of making every
# request wait on a dead server. The hub's own connection notices the return.
COOL_DOWN_SECONDS = 1.0
_down_until = 0.0


def redis_ok() -> bool:
    return time.monotonic() >= _down_until


def mark_up() -> None:
    """A live connection to Redis was just made: stop skipping it."""
    global _down_until
    _down_until = 0.0


def mark_down(error: Exception) -> None:
    global _down_until
    if redis_ok():
        logger.warning("redis unavailable (%s): live updates paused", error)
    _down_until = time.monotonic() + COOL_DOWN_SECONDS


def uses_redis() -> bool:
    return bool(settings.REDIS_URL)


def redis_client():
    """A process-wide synchronous client with an explicitly sized pool."""
    global _client, _script
    with _lock:
        if _client is None:
            import redis

            pool = redis.BlockingConnectionPool.from_url(
                settings.REDIS_URL,
                max_connections=settings.REDIS_MAX_CONNECTIONS,
                timeout=5,
                socket_connect_timeout=2,
                socket_timeout=5,
            )
            _client = redis.Redis(connection_pool=pool)
            _script = _client.register_script(_PUBLISH_LUA)
        return _client


def splice_seq(seq: int, body: str) -> str:
    """``{"type": …}`` + seq → ``{"seq": N, "type": …}``, without parsing the body."""
    return f'{{"seq": {seq}, {body[1:]}' if body != "{}" else f'{{"seq": {seq}}}'


def publish_script():
    """The registered Lua script that numbers and publishes a frame (see ``_PUBLISH_LUA``)."""
    redis_client()
    return _script
