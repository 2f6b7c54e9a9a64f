"""One hub per server process: which local sockets follow which topic.

With Redis, the hub holds ONE pub/sub connection for the whole process and
subscribes once per topic that has at least one local socket; each message is
spliced into its final text once and written to every local socket of the topic.
That is what keeps fan-out close to a bare websockets server: no per-socket
channel-layer message, no per-socket serialisation.

When the Redis connection drops, the hub retries every second; once it is back
it resubscribes and calls each topic's ``on_resync`` hook (the provider rebuilds
its counters) and sends every local socket a fresh snapshot.
"""

import asyncio
import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings

from realtime import redis as link
from realtime import topics

if TYPE_CHECKING:
    from redis.asyncio.client import PubSub  # imported when first used (_connect)

logger = logging.getLogger(__name__)
RECONNECT_SECONDS = 1.0
SNAPSHOT_TTL_SECONDS = 1.0


class Socket(Protocol):
    """What the hub asks of a local socket (``realtime.consumers.LiveConsumer``)."""

    ready: bool
    writable: asyncio.Event | None

    def hold(self, text: str) -> None: ...
    def fell_behind(self) -> None: ...
    async def base_send(self, message: dict[str, Any]) -> None: ...
    async def close(self, code: int | None = None) -> None: ...
    async def send_snapshot(self) -> None: ...


class Hub:
    def __init__(self) -> None:
        self.sockets: dict[str, set[Socket]] = defaultdict(set)
        self.by_user: dict[int, set[Socket]] = defaultdict(set)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._seq: dict[str, int] = defaultdict(int)
        self._seq_lock = threading.Lock()
        self._listener: asyncio.Task | None = None
        self._pubsub: PubSub | None = None
        self._subscribed: set[str] = set()
        self.redis_up = True
        # topic -> (expiry, (seq, text)); see snapshot()
        self._snapshots: dict[str, tuple[float, tuple[int, str]]] = {}
        self._building: dict[str, asyncio.Task] = {}
        self._generation: dict[str, int] = defaultdict(int)
        # Tasks started and not awaited, held until they end: the event loop keeps only
        # a weak reference to a task, which may otherwise vanish mid-way.
        self._background: set[asyncio.Task[None]] = set()
        # Told that a topic changed (a frame, its last local socket gone; None: every
        # topic, between tests): realtime.doorway forgets who may follow it.
        self.on_change: list[Callable[[str | None], None]] = []

    # --- sockets ---------------------------------------------------------------------

    async def join(self, topic: str, socket: Socket, user_id: int | None) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            self._adopt(loop)
        self.sockets[topic].add(socket)
        if user_id:
            self.by_user[user_id].add(socket)
        if link.uses_redis():
            self._ensure_listener()
            await self._subscribe(topic)

    def _adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        """A new event loop (a restarted server, or the next test): nothing from the old
        one survives, neither its sockets nor its Redis connection."""
        self.loop = loop
        self.sockets.clear()
        self.by_user.clear()
        self._listener = None
        self._pubsub = None
        self._subscribed = set()
        self._snapshots.clear()
        self._building.clear()

    async def leave(self, topic: str, socket: Socket, user_id: int | None) -> None:
        self.sockets[topic].discard(socket)
        if user_id:
            self.by_user[user_id].discard(socket)
            if not self.by_user[user_id]:
                del self.by_user[user_id]
        if not self.sockets[topic]:
            del self.sockets[topic]
            self._snapshots.pop(topic, None)
            self._generation.pop(topic, None)
            self._changed(topic)  # its frames stop reaching this process
            if link.uses_redis():
                await self._unsubscribe(topic)

    async def deliver(self, topic: str, text: str) -> None:
        """Write one pre-serialised frame to every local socket of ``topic``.

        The hot loop of the fan-out: no per-socket serialisation, no middleware,
        and no waiting on a socket whose client stopped reading (it is skipped and
        resynchronised once it drains), so one slow client never delays the rest.
        """
        sockets = self.sockets.get(topic)
        if not sockets:
            return
        self._invalidate(topic)
        message = {"type": "websocket.send", "text": text}
        for socket in list(sockets):
            if not socket.ready:
                socket.hold(text)
            elif socket.writable is not None and not socket.writable.is_set():
                socket.fell_behind()
            else:
                try:
                    await socket.base_send(message)
                except Exception:  # closing under us: its disconnect() cleans up
                    socket.ready = False

    async def snapshot(self, topic: str) -> tuple[int, str]:
        """The topic's current snapshot as ``(seq, text)``, shared by every socket.

        Snapshots are the same for every socket allowed on a topic, so a connect
        storm builds one, not thousands: concurrent callers wait for the build in
        flight, and the result serves until the topic's next frame (or for
        ``SNAPSHOT_TTL_SECONDS``). A build that saw a frame arrive meanwhile is
        still correct for its callers (they drop held frames up to its seq) but is
        not kept.
        """
        cached = self._snapshots.get(topic)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        building = self._building.get(topic)
        if building is None:
            building = asyncio.get_running_loop().create_task(self._build_snapshot(topic))
            self._building[topic] = building
            building.add_done_callback(lambda _task: self._building.pop(topic, None))
        return await asyncio.shield(building)

    async def _build_snapshot(self, topic: str) -> tuple[int, str]:
        from channels.db import database_sync_to_async

        generation = self._generation[topic]
        frame = await database_sync_to_async(topics.snapshot)(topic)
        result = frame["seq"], json.dumps(frame, ensure_ascii=False)
        if self._generation[topic] == generation and topic in self.sockets:
            self._snapshots[topic] = (time.monotonic() + SNAPSHOT_TTL_SECONDS, result)
        return result

    def _invalidate(self, topic: str) -> None:
        """The topic changed: its shared snapshot, any build in flight, and the shared
        answers of who may follow it (a status change is a frame) are stale."""
        self._snapshots.pop(topic, None)
        self._generation[topic] += 1
        self._changed(topic)

    def _changed(self, topic: str | None) -> None:
        for hook in self.on_change:
            hook(topic)

    def reset_for_tests(self) -> None:
        """Forget frame numbers (here and in Redis) and shared snapshots.

        For the test suite, between tests: consultation ids, hence topics, come back
        after a rollback, and must start again from seq 0 with no snapshot of the old
        consultation. A live site never calls it: clients would see numbers go back.
        """
        with self._seq_lock:
            self._seq.clear()
        for topic in list(self._generation):
            self._invalidate(topic)
        self._snapshots.clear()
        self._changed(None)
        if link.uses_redis():
            client = link.redis_client()
            keys = list(client.scan_iter(link.SEQ_PREFIX + "*"))
            if keys:
                client.delete(*keys)

    # --- the embedded default: publishing within this process ---------------------------

    def publish_local(self, topic: str, body: str) -> int:
        with self._seq_lock:
            self._seq[topic] += 1
            seq = self._seq[topic]
        text = link.splice_seq(seq, body)
        self._from_any_thread(self.deliver(topic, text))
        return seq

    def local_seq(self, topic: str) -> int:
        with self._seq_lock:
            return self._seq[topic]

    def control_local(self, message: str) -> None:
        self._from_any_thread(self._control(message))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` as a task of the running loop, held until it ends."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _from_any_thread(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` on the server's event loop, from a request thread or the loop."""
        loop = self.loop
        if loop is None or loop.is_closed():
            coroutine.close()  # no socket has ever joined in this process: nobody to tell
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._spawn(coroutine)
        else:
            asyncio.run_coroutine_threadsafe(coroutine, loop)

    async def _control(self, message: str) -> None:
        try:
            order = json.loads(message)
        except ValueError:
            return
        if not isinstance(order, dict):
            return
        if isinstance(order.get("tell_user"), int):
            send = {"type": "websocket.send", "text": json.dumps(order.get("frame"))}
            for socket in list(self.by_user.get(order["tell_user"], ())):
                if socket.ready:
                    try:
                        await socket.base_send(send)
                    except Exception:  # closing under us: its disconnect() cleans up
                        socket.ready = False
            return
        user_id = order.get("disconnect_user")
        if not isinstance(user_id, int):
            return
        for socket in list(self.by_user.get(user_id, ())):
            await socket.close(code=order.get("code", 4408))

    # --- Redis ---------------------------------------------------------------------------

    def _ensure_listener(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(self._listen())

    async def _connect(self):
        import redis.asyncio as aioredis

        client = aioredis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2, health_check_interval=10
        )
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(link.CONTROL_CHANNEL)
        return client, pubsub

    async def _subscribe(self, topic: str) -> None:
        if topic in self._subscribed:
            return
        self._subscribed.add(topic)
        if self._pubsub is not None:
            try:
                await self._pubsub.subscribe(link.CHANNEL_PREFIX + topic)
            except Exception as error:
                logger.warning("subscribe %s failed (will retry): %s", topic, error)

    async def _unsubscribe(self, topic: str) -> None:
        self._subscribed.discard(topic)
        if self._pubsub is not None:
            try:
                await self._pubsub.unsubscribe(link.CHANNEL_PREFIX + topic)
            except Exception as error:
                logger.warning("unsubscribe %s failed: %s", topic, error)

    async def _listen(self) -> None:
        prefix = link.CHANNEL_PREFIX
        reconnecting = False
        while True:
            client = None
            try:
                client, self._pubsub = await self._connect()
                # redis-py may also reconnect (and resubscribe) on its own without
                # raising here: this callback makes sure such a return resyncs too.
                connection = self._pubsub.connection  # (made by the subscription in _connect)
                if connection is not None:
                    connection.register_connect_callback(self._on_reconnect)
                for topic in list(self._subscribed):
                    await self._pubsub.subscribe(prefix + topic)
                if reconnecting:
                    logger.info("redis is back: resynchronising %d topics", len(self._subscribed))
                    link.mark_up()
                    self._spawn(self._resync_all())
                self.redis_up = True
                reconnecting = False
                async for message in self._pubsub.listen():
                    if message["type"] != "message":
                        continue
                    channel = message["channel"].decode()
                    data = message["data"].decode()
                    if channel == link.CONTROL_CHANNEL:
                        await self._control(data)
                        continue
                    seq, _, body = data.partition("|")
                    await self.deliver(channel[len(prefix) :], link.splice_seq(int(seq), body))
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self.redis_up:
                    logger.warning("redis pub/sub lost (%s): live updates paused", error)
                self.redis_up = False
                reconnecting = True
                self._pubsub = None
                await asyncio.sleep(RECONNECT_SECONDS)
            finally:
                if client is not None:
                    try:
                        await client.aclose()
                    except Exception:
                        logger.debug("closing a dead redis client failed", exc_info=True)

    async def _on_reconnect(self, connection: object) -> None:
        logger.info("redis pub/sub reconnected: resynchronising")
        self.redis_up = True
        link.mark_up()
        self._spawn(self._resync_all(delay=0.2))

    async def _resync_all(self, delay: float = 0.0) -> None:
        if delay:
            await asyncio.sleep(delay)  # let the resubscription finish first
        for topic in list(self.sockets):
            await self.resync(topic)

    async def resync(self, topic: str, attempts: int = 5) -> None:
        """Rebuild the topic's derived state once, then send each local socket a snapshot."""
        from channels.db import database_sync_to_async

        for attempt in range(attempts):
            try:
                await database_sync_to_async(topics.on_resync)(topic)
                break
            except Exception:
                if attempt == attempts - 1:
                    logger.exception("resync of %s failed", topic)
                    return
                await asyncio.sleep(0.5)
        self._invalidate(topic)
        for socket in list(self.sockets.get(topic, ())):
            # A socket whose client left meanwhile must not cost the others their snapshot,
            # nor the next topics theirs (tests/faults/test_redis_outage.py).
            try:
                await socket.send_snapshot()
            except Exception:
                logger.info("resync of %s: a socket had gone", topic, exc_info=True)


hub = Hub()
