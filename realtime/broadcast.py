"""The one publishing function: ``publish(topic, frame)``, called after commit.

With ``REDIS_URL`` a Lua script numbers the frame and PUBLISHes it in one atomic
step, so every server process sees a topic's frames in ``seq`` order whoever
published them. On the embedded default the process-local hub does the same.
Publishing never raises: with Redis down the frame is dropped and logged (the
database already holds the truth; clients resync when Redis is back).
"""

import itertools
import json
import logging
import threading

from realtime import redis as link
from realtime.hub import hub

logger = logging.getLogger(__name__)
PERSONAL_ORDER_KEY = link.SEQ_PREFIX + "personal-order"
_local_order = itertools.count(1)
_local_order_lock = threading.Lock()


def publish(topic: str, frame: dict) -> int | None:
    """Number ``frame`` within ``topic`` and deliver it to every subscribed socket."""
    body = json.dumps(frame, ensure_ascii=False, separators=(", ", ": "))
    if not link.uses_redis():
        return hub.publish_local(topic, body)
    if not link.redis_ok():
        return None
    try:
        script = link.publish_script()
        return int(script(keys=[link.SEQ_PREFIX + topic, link.CHANNEL_PREFIX + topic], args=[body]))
    except Exception as error:  # Redis down: the vote stands, live updates pause
        link.mark_down(error)
        return None


def current_seq(topic: str) -> int:
    """The number of the last frame published on ``topic`` (0 before the first)."""
    if not link.uses_redis():
        return hub.local_seq(topic)
    try:
        return int(link.redis_client().get(link.SEQ_PREFIX + topic) or 0)
    except Exception as error:
        link.mark_down(error)
        return 0


def take_order() -> int | None:
    """A number for a personal frame, taken *before* its contents are read from the
    database: larger than every number taken before it, in every process (one Redis
    counter; this process's own on the embedded default, whose one process sends them all).

    Personal frames of two writes committed close together can cross on their way (each
    is read after its own commit, by whichever process, and published when that read
    ends): the one holding the newer content is the one with the larger number, which is
    what a client keeps. None when Redis is down (the frame goes unnumbered: it would not
    reach anyone anyway)."""
    if not link.uses_redis():
        with _local_order_lock:
            return next(_local_order)
    if not link.redis_ok():
        return None
    try:
        return int(link.redis_client().incr(PERSONAL_ORDER_KEY))
    except Exception as error:
        link.mark_down(error)
        return None


def tell_user(user_id: int, frame: dict) -> None:
    """Write ``frame`` (personal, unnumbered) to every open socket of this account, in
    every server process: what concerns one person on whatever page they have open."""
    _control({"tell_user": user_id, "frame": frame}, f"tell user {user_id}")


def disconnect_user(user_id: int, code: int = 4408) -> None:
    """Close every open socket of this account, in every server process."""
    _control({"disconnect_user": user_id, "code": code}, f"disconnect user {user_id}")


def _control(order: dict, what: str) -> None:
    message = json.dumps(order)
    if not link.uses_redis():
        hub.control_local(message)
        return
    try:
        link.redis_client().publish(link.CONTROL_CHANNEL, message)
    except Exception as error:
        logger.warning("could not %s: %s", what, error)
