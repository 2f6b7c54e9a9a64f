"""Who may follow a stream, asked once per burst of connects rather than once per socket.

When a server process dies or is redeployed, its sockets all reconnect to the other
processes within seconds: thousands of connects asking the same question, "may this
visitor follow the stream at this address?". Asking the database each time (a thread
hop, a connection, the consultation and its permission) made a 5,000-socket storm cost
about ten times what a bare server needs (docs/performance.md, "Reconnect storms").

So a connect makes at most ONE database hop, and often none:

- a visitor without a session: anonymous visitors all get the same answer, so
  concurrent connects to one address share one question in flight; an answer its
  provider marks ``shared`` (it holds for every visitor, signed in or not, like a public
  stream of a published consultation) serves the next connects for up to
  ``ANSWER_TTL_SECONDS``, or until the topic's next frame (``forget``), whichever
  comes first. A status change publishes a frame, so a consultation taken back to draft
  is asked about afresh from then on;
- a signed-in visitor: the session, the user (``realtime.middleware.load_user``) and,
  unless a shared answer is at hand, the provider's answer, in one hop, which the connects
  queued behind one another share (one trip to the thread and one database connection
  for up to ``MAX_BATCH`` of them; each still reads its own session). The user is
  always read: the hub files the socket under its account, so that a deactivation or a
  password change closes it (``broadcast.disconnect_user``).

Refusals are never kept beyond their question in flight (a stream of unknown addresses
must not fill memory), nor are answers that depend on who asks (a draft's, a moderation
stream's, a personal stream's).
"""

import asyncio
import threading
import time
from typing import Any

from channels.db import database_sync_to_async

from realtime import topics
from realtime.hub import hub
from realtime.middleware import load_user, user_is_read

ANSWER_TTL_SECONDS = 1.0
MAX_ANSWERS = 1024
MAX_BATCH = 200  # connects whose reads share one hop (one trip, one database connection)

type Key = tuple[str, tuple[tuple[str, Any], ...]]


class Doorway:
    def __init__(self) -> None:
        # (kind, url kwargs) -> (expiry, access), for shared answers only. Read and
        # written on the event loop and in the hops' thread, hence the lock.
        self._answers: dict[Key, tuple[float, topics.Access]] = {}
        self._lock = threading.Lock()
        # (kind, url kwargs) -> the anonymous question in flight (event loop only)
        self._asking: dict[Key, asyncio.Task[topics.Access]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        # Signed-in connects waiting for their hop, and the task that makes those hops.
        self._queued: list[tuple[dict[str, Any], str, Key, asyncio.Future[Any]]] = []
        self._draining: asyncio.Task[None] | None = None
        # Counts forget() calls: an answer read while a frame went out may predate it
        # (a status change committed during the read), so it is used but not kept.
        self._changes = 0

    async def admit(self, kind: str, scope: dict[str, Any]) -> tuple[Any, topics.Access]:
        """The socket's user and its access to the stream of ``kind`` at this address."""
        kwargs = scope["url_route"]["kwargs"]
        key: Key = (kind, tuple(sorted(kwargs.items())))
        access = self._fresh(key)
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a restarted server, or the next test: tasks of the
            self._loop, self._asking = loop, {}  # old loop can no longer be awaited
            self._queued, self._draining = [], None
        if not user_is_read(scope) or (access is None and scope["user"].is_authenticated):
            return await self._in_next_hop(loop, scope, kind, key)
        user = scope["user"]
        if access is not None:
            return user, access
        asking = self._asking.get(key)
        if asking is None:
            asking = loop.create_task(self._ask(key, kind, user, kwargs))
            self._asking[key] = asking
            asking.add_done_callback(lambda task: self._done_asking(key, task))
        return user, await asyncio.shield(asking)

    def _done_asking(self, key: Key, task: asyncio.Task[topics.Access]) -> None:
        if self._asking.get(key) is task:
            del self._asking[key]

    async def _in_next_hop(
        self, loop: asyncio.AbstractEventLoop, scope: dict[str, Any], kind: str, key: Key
    ) -> tuple[Any, topics.Access]:
        """Wait for a hop that reads this connect's session (and maybe its answer).

        In a storm, connects arrive faster than the database thread serves them: those
        that queue up behind a hop in progress share the next one, so a hop's trip and
        database connection are paid once per batch, not once per socket. Each socket
        still reads its own session and user.
        """
        future: asyncio.Future[Any] = loop.create_future()
        self._queued.append((scope, kind, key, future))
        if self._draining is None or self._draining.done():
            self._draining = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._queued:
            batch, self._queued = self._queued[:MAX_BATCH], self._queued[MAX_BATCH:]
            try:
                outcomes = await database_sync_to_async(self._hops)(batch)
            except BaseException as error:  # (cancelled: the loop is going away)
                outcomes = [(False, error)] * len(batch)
                if not isinstance(error, Exception):
                    for *_, future in batch:
                        future.cancel()
                    raise
            for (*_, future), (done, value) in zip(batch, outcomes, strict=True):
                if future.done():  # its client left meanwhile
                    continue
                if done:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    def _hops(self, batch: list[tuple[dict[str, Any], str, Key, Any]]) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        for scope, kind, key, _future in batch:
            try:
                outcomes.append((True, self._hop(scope, kind, key)))
            except Exception as error:  # that connect fails alone, as it did on its own
                outcomes.append((False, error))
        return outcomes

    def _hop(self, scope: dict[str, Any], kind: str, key: Key) -> tuple[Any, topics.Access]:
        """A connect's one hop: the session's user, then the answer unless one is at hand.

        The answer is looked for again here, not only before the hop: in a storm the hops
        queue for the database thread, and the first one's answer serves those behind it.
        """
        user = load_user(scope)
        access = self._fresh(key)
        if access is None:
            changes = self._changes
            access = topics.provider(kind).resolve(user, **scope["url_route"]["kwargs"])
            self.keep(key, access, changes)
        return user, access

    async def _ask(self, key: Key, kind: str, user: Any, kwargs: dict[str, Any]) -> topics.Access:
        changes = self._changes
        access = await database_sync_to_async(topics.provider(kind).resolve)(user, **kwargs)
        self.keep(key, access, changes)
        return access

    def keep(self, key: Key, access: topics.Access, changes: int) -> None:
        """Keep a shared answer for the next connects, unless a frame went out since
        ``changes`` (the count of forget() calls when its question was asked)."""
        if not (access.shared and access.topic is not None):
            return
        now = time.monotonic()
        with self._lock:
            if changes != self._changes:
                return
            if len(self._answers) >= MAX_ANSWERS:
                self._answers = {k: v for k, v in self._answers.items() if v[0] > now}
                if len(self._answers) >= MAX_ANSWERS:
                    return
            self._answers[key] = (now + ANSWER_TTL_SECONDS, access)

    def _fresh(self, key: Key) -> topics.Access | None:
        with self._lock:
            kept = self._answers.get(key)
        if kept is None or kept[0] <= time.monotonic():
            return None
        return kept[1]

    def forget(self, topic: str | None) -> None:
        """The topic changed (the hub saw a frame go out): ask again about the addresses
        leading to it. None: forget everything (``hub.reset_for_tests``)."""
        with self._lock:
            self._changes += 1
            if topic is None:
                self._answers.clear()
                return
            for key in [k for k, (_, access) in self._answers.items() if access.topic == topic]:
                del self._answers[key]


doorway = Doorway()
hub.on_change.append(doorway.forget)
