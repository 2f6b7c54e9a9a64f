"""The websocket doorway: thin consumers that join a topic and relay frames.

Async consumers (an exception to our sync-by-default rule): thousands of idle
sockets must cost a coroutine each, not a thread. They use no channel layer:
the process hub fans frames out (see hub.py), and every database read runs off
the event loop through ``database_sync_to_async``: at most one per connect
(doorway.py), and snapshots shared per topic (hub.py).
"""

import asyncio
import json
import time
from collections import deque

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer

from config.json_input import InvalidJson, load_json
from realtime import topics
from realtime.doorway import doorway
from realtime.hub import hub

MAX_FRAME_BYTES = 4096
FLOOD_MESSAGES, FLOOD_SECONDS = 20, 10.0
MAX_PENDING = 200  # frames held while a snapshot is being built


def _flow_control(send: object) -> asyncio.Event | None:
    """The server's "may write" event for this socket, when it exposes one.

    uvicorn's websocket protocols clear ``writable`` while the socket's write
    buffer is above its high-water mark (a client that stopped reading). The hub
    checks it so that one stalled socket never holds up the fan-out to the rest.
    """
    event = getattr(getattr(send, "__self__", None), "writable", None)
    return event if isinstance(event, asyncio.Event) else None


def _seq_of(text: str) -> int:
    # Frames from the hub start with '{"seq": N, ' (see realtime.redis.splice_seq).
    return int(text[8 : text.index(",")])


class DoorwayConsumer(AsyncWebsocketConsumer):
    """Channels' websocket consumer, minus its database hop for every message.

    Channels 4.2+ awaits ``aclose_old_connections()`` before each message it dispatches
    and again on disconnect: a hop to the database thread, which every socket of the
    process shares, three times per socket's life. In a reconnect storm those hops
    queued behind one another and cost most of a connect's CPU (docs/performance.md).
    Our consumers read the database only through ``database_sync_to_async``, which
    closes stale connections itself before and after each read, so these hops guard
    nothing here.
    """

    channel_layer_alias = None  # the hub fans out; no per-socket channel-layer traffic

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message):
        await self.disconnect(message["code"])
        raise StopConsumer()


class LiveConsumer(DoorwayConsumer):
    kind = "consultation"
    stream = "public"

    async def __call__(self, scope, receive, send):
        """Channels' own loop, minus its per-socket Task and ``asyncio.wait``.

        With no channel layer there is a single source of messages, the client, so
        a plain receive-dispatch loop does the same job as ``await_many_dispatch``
        for about 2 KiB less per open socket (docs/performance.md).
        """
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def connect(self):
        self.topic = None
        self.ready = False
        self.pending: list[str] | None = None  # frames that arrive while a snapshot is built
        self.recent: deque | None = None  # created on the first client message
        self.resyncing: asyncio.Task | None = None
        # No layer of ours wraps ``send`` (see realtime/middleware.py): the hub writes
        # frames straight to the server's send, and watches its flow control.
        self.writable = _flow_control(self.base_send)
        # At most one database hop: the session's user and the stream's access together,
        # shared with the other connects of a storm where it can be (realtime/doorway.py).
        user, access = await doorway.admit(self.kind, self.scope)
        self.user_id = user.pk if user.is_authenticated else None
        await self.accept()
        if access.topic is None:
            await self.close(code=access.close_code)
            return
        self.topic = access.topic
        await hub.join(self.topic, self, self.user_id)
        await self.send_snapshot()

    async def disconnect(self, code):
        if self.resyncing is not None:
            self.resyncing.cancel()
        if self.topic is not None:
            await hub.leave(self.topic, self, self.user_id)
            self.topic = None

    async def send_snapshot(self):
        """Send a snapshot, then whatever arrived meanwhile and is newer than it."""
        if self.topic is None:
            return  # refused at connect: no stream, so no snapshot
        self.ready = False
        self.pending = []
        seq, text = await hub.snapshot(self.topic)
        await self.send(text_data=text)
        pending, self.pending = self.pending, None
        self.ready = True
        for frame in pending:
            if _seq_of(frame) > seq:
                await self.send(text_data=frame)

    def hold(self, text: str) -> None:
        """The hub has a frame for us while we are not ready for it."""
        if self.pending is not None and len(self.pending) < MAX_PENDING:
            self.pending.append(text)

    def fell_behind(self) -> None:
        """Our client stopped reading: skip frames until it drains, then resync it."""
        self.ready = False
        if self.resyncing is None or self.resyncing.done():
            self.resyncing = asyncio.get_running_loop().create_task(self._catch_up())

    async def _catch_up(self) -> None:
        if self.writable is None:
            return  # (the hub only finds a socket with flow control behind)
        try:
            await self.writable.wait()  # set again when it drains, or when it is lost
            if self.topic is not None:
                await self.send_snapshot()
        except Exception:  # closed meanwhile: disconnect() cleans up
            self.ready = False

    async def receive(self, text_data=None, bytes_data=None):
        if self._flooding():
            await self.error("rate_limited", "Too many messages: slow down.")
            await self.close(code=4429)
            return
        if text_data is None:
            await self.error("bad_frame", "Frames must be JSON text.")
            return
        # surrogatepass: a lone surrogate is measured here and refused as bad JSON below.
        if len(text_data.encode(errors="surrogatepass")) > MAX_FRAME_BYTES:
            await self.error("too_large", "Frames are limited to 4 KiB.")
            return
        try:
            message = load_json(text_data)
        except InvalidJson:
            await self.error("bad_frame", "Malformed JSON.")
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "resync":
            await self.send_snapshot()
        elif kind == "ping":
            await self.send(text_data=json.dumps({"type": "pong", "stream": self.stream}))
        else:
            await self.error("unknown_type", "Known message types: resync, ping.")

    async def error(self, code: str, detail: str) -> None:
        frame = {"type": "error", "stream": self.stream, "code": code, "detail": detail}
        await self.send(text_data=json.dumps(frame))

    def _flooding(self) -> bool:
        now = time.monotonic()
        if self.recent is None:
            self.recent = deque()
        self.recent.append(now)
        while self.recent and now - self.recent[0] > FLOOD_SECONDS:
            self.recent.popleft()
        return len(self.recent) > FLOOD_MESSAGES


class ModerationConsumer(LiveConsumer):
    kind = "moderation"
    stream = "moderation"


class PersonalConsumer(LiveConsumer):
    """``ws/me/``: what concerns the signed-in person on any page (the menu's unread count).

    Its provider (kind ``personal``) gives each account its own topic and a snapshot read
    afresh for every socket, never shared. What follows is personal frames
    (``broadcast.tell_user``): unnumbered, written by the hub to the account's sockets that
    are ready, and dropped for the others. So this socket is ready before it reads its
    snapshot (a frame that comes meanwhile is not lost), and a frame that crosses the read
    is followed by a fresh one: the last word the client hears is never the older one.
    """

    kind = "personal"
    stream = "personal"
    SNAPSHOT_ATTEMPTS = 5

    async def connect(self):
        self.reading = False
        self.crossed = False
        # Watch what the hub writes: it writes to ``base_send`` directly. The server's flow
        # control is read from the server's own send first (see _flow_control).
        self.server_send = self.base_send
        self.writable = _flow_control(self.server_send)
        self.base_send = self._relay
        await super().connect()

    async def _relay(self, message):
        if self.reading and message.get("type") == "websocket.send":
            self.crossed = True
        await self.server_send(message)

    async def send_snapshot(self):
        if self.topic is None:
            return
        self.ready = True
        for _attempt in range(self.SNAPSHOT_ATTEMPTS):
            self.reading, self.crossed = True, False
            try:
                frame = await database_sync_to_async(topics.snapshot)(self.topic)
            finally:
                self.reading = False
            await self.send(text_data=json.dumps(frame, ensure_ascii=False))
            if not self.crossed:
                return


class PingConsumer(DoorwayConsumer):
    """Liveness of the websocket doorway: answers ``{"type": "ping"}`` with a pong."""

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None or len(text_data) > MAX_FRAME_BYTES:
            return await self.reply(
                {"type": "error", "reason": "frame must be JSON text under 4 KiB"}
            )
        try:
            message = load_json(text_data)
        except InvalidJson:
            return await self.reply({"type": "error", "reason": "malformed JSON"})
        if not isinstance(message, dict) or message.get("type") != "ping":
            return await self.reply({"type": "error", "reason": "unknown message type"})
        return await self.reply({"type": "pong"})

    async def reply(self, frame: dict) -> None:
        await self.send(text_data=json.dumps(frame))
