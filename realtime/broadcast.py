"""The one publishing function: ``publish(topic, frame)``, called after commit.

With ``REDIS_URL`` a Lua script numbers the frame and PUBLISHes it in one atomic
step, so every server process sees a topic's frames in ``seq`` order whoever
published them. On the embedded default the process-local hub does the same.
Publishing never raises: with Redis down the frame is dropped and logged (the
database already holds the truth; clients resync when Redis is back).
"""

import json
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


def mark_down(error) -> None:
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


def publish(topic: str, frame: dict) -> int | None:
    """Number ``frame`` within ``topic`` and deliver it to every subscribed socket."""
    body = json.dumps(frame, ensure_ascii=False, separators=(", ", ": "))
    if not uses_redis():
        from realtime.hub import hub

        return hub.publish_local(topic, body)
    if not redis_ok():
        return None
    try:
        redis_client()
        return int(_script(keys=[SEQ_PREFIX + topic, CHANNEL_PREFIX + topic], args=[body]))
    except Exception as error:  # Redis down: the vote stands, live updates pause
        mark_down(error)
        return None


def current_seq(topic: str) -> int:
    """The number of the last frame published on ``topic`` (0 before the first)."""
    if not uses_redis():
        from realtime.hub import hub

        return hub.local_seq(topic)
    try:
        return int(redis_client().get(SEQ_PREFIX + topic) or 0)
    except Exception as error:
        mark_down(error)
        return 0


def disconnect_user(user_id: int, code: int = 4408) -> None:
    """Close every open socket of this account, in every server process."""
    message = json.dumps({"disconnect_user": user_id, "code": code})
    if not uses_redis():
        from realtime.hub import hub

        hub.control_local(message)
        return
    try:
        redis_client().publish(CONTROL_CHANNEL, message)
    except Exception as error:
        logger.warning("could not disconnect user %s: %s", user_id, error)
