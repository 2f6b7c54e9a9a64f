"""The write traffic of bench/load.py: an open-loop HTTP generator in a process of its own.

Open loop: request *i* of a phase is due at ``start + i / rate`` and is sent then, whether
or not earlier requests were answered, so a slow server meets more requests in flight, as
it would from real people, and latency is counted from the moment a request was due (a
request that waited on the client's side for a free connection waited as a person would).
A closed loop (send the next once the last is answered) slows down with the server and
hides its queue.

Each request is a write of one random verified citizen with a personal token: a vote, a
grade, a top-K ballot or a comment, drawn by weight. A citizen has at most one write in
flight: their writes reach the server in the order they were sent, so the last one
acknowledged is what the database must hold. A write whose outcome is unknown (no answer in
time, the connection lost, a 5xx) may still be applied later: that citizen sends nothing
more for the same row (their vote or grade on that item, their ballot), so it stays their
last for it. With ``retries`` > 0 such a write, and one shed
with 429/503, is sent again after ``Retry-After`` (or a short back-off) with the same
``Idempotency-Key``, as a careful client would.

Every write is logged, one JSON line each, to ``log`` (bench/load.py checks the database
against it): ``{"i", "phase", "kind", "user", "target", "value", "status", "outcome",
"attempts", "latency"}``; ``outcome`` is ``ack`` (2xx), ``refused`` (answered 4xx or 503:
not applied), or ``unknown``.

Parent and generator talk over a ``multiprocessing`` pipe:

    parent → generator   ("run", path of the plan, JSON) | ("stop",)
    generator → parent   ("ready",) | ("phase", {"name"}) … | ("done", path of the results)

Every wait is bounded: a request unanswered ``timeout`` seconds after it was due counts as a
timeout (its connection is dropped); a generator that hears nothing for ``IDLE_LIMIT``
seconds exits.
"""

import asyncio
import contextlib
import faulthandler
import json
import os
import random
import time
from collections import Counter, deque
from pathlib import Path

IDLE_LIMIT = 1800.0
# Idle keep-alive connections are not reused past this (uvicorn closes them after 5 s).
KEEP_ALIVE = 3.0
TICK = 0.002  # the scheduler wakes at most this late; requests due meanwhile go out together


class Answer:
    __slots__ = ("retry_after", "status")

    def __init__(self, status: int, retry_after: str | None):
        self.status = status
        self.retry_after = retry_after


class Connection(asyncio.Protocol):
    """One HTTP/1.1 keep-alive connection, one request at a time, its answer read whole."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.answer: asyncio.Future | None = None
        self.closed = False
        self.idle_since = 0.0

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(ConnectionError("closed by the server"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.answer is None or self.answer.done():
            return
        try:
            answer = self.parse()
        except ValueError as error:
            self.answer.set_exception(ConnectionError(f"unreadable answer: {error}"))
            return
        if answer is not None:
            self.answer.set_result(answer)

    def parse(self) -> Answer | None:
        buffer = self.buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(buffer[:end]).decode("latin-1")
        status = int(head[9:12])
        headers = {}
        for line in head.split("\r\n")[1:]:
            name, _colon, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        start = end + 4
        if headers.get("transfer-encoding", "").lower() == "chunked":
            position = start
            while True:
                line_end = buffer.find(b"\r\n", position)
                if line_end < 0:
                    return None
                size = int(bytes(buffer[position:line_end]).split(b";")[0], 16)
                position = line_end + 2 + size + 2
                if len(buffer) < position:
                    return None
                if size == 0:
                    del buffer[:position]
                    break
        else:
            length = int(headers.get("content-length", "0"))
            if len(buffer) < start + length:
                return None
            del buffer[: start + length]
        if headers.get("connection", "").lower() == "close":
            self.closed = True
        return Answer(status, headers.get("retry-after"))

    def send(self, payload: bytes) -> asyncio.Future:
        self.answer = asyncio.get_running_loop().create_future()
        self.transport.write(payload)
        return self.answer


class Pool:
    """Keep-alive connections to the targets (round-robin), at most ``limit`` open; a
    request finding none free waits its turn (its latency keeps counting)."""

    def __init__(self, targets: list[tuple[str, int]], limit: int):
        self.targets = targets
        self.limit = limit
        self.idle: list[Connection] = []
        self.waiting: deque[asyncio.Future] = deque()
        self.open = 0
        self.turn = 0
        self.peak = 0

    async def take(self) -> Connection:
        now = time.monotonic()
        while self.idle:
            connection = self.idle.pop()
            if not connection.closed and now - connection.idle_since < KEEP_ALIVE:
                return connection
            # Closed, or about to be closed by the server: a request sent on it then
            # would be lost in the race (an idempotent GET would be retried; a write not).
            self.drop(connection)
        if self.open < self.limit:
            self.open += 1
            self.peak = max(self.peak, self.open)
            host, port = self.targets[self.turn % len(self.targets)]
            self.turn += 1
            try:
                _transport, connection = await asyncio.get_running_loop().create_connection(
                    Connection, host, port
                )
            except OSError:
                self.open -= 1
                raise
            return connection
        waiter = asyncio.get_running_loop().create_future()
        self.waiting.append(waiter)
        return await waiter

    def give_back(self, connection: Connection) -> None:
        if connection.closed:
            self.drop(connection)
            return
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        connection.idle_since = time.monotonic()
        self.idle.append(connection)

    def drop(self, connection: Connection) -> None:
        if connection.transport is not None:
            connection.transport.abort()
        self.open -= 1
        # A request waiting for a connection may open one now.
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_exception(_Reopen())
                return

    def close(self) -> None:
        for connection in self.idle:
            connection.transport.close()
        self.idle.clear()


class _Reopen(Exception):
    """A connection was dropped: the waiter may open a new one."""


class Writes:
    """Draws the next write: kind by weight, a free citizen, a random target and value."""

    def __init__(self, plan: dict):
        self.rng = random.Random(plan["seed"])
        self.citizens = plan["citizens"]  # [[id, token], ...]
        self.free = list(range(len(self.citizens)))
        self.unknown: set[tuple] = set()
        self.items = plan["items"]
        self.slug = plan["slug"]
        self.ranking_size = plan["ranking_size"]
        self.grade_scale = plan["grade_scale"]
        self.run_id = plan["run_id"]
        kinds = [(kind, weight) for kind, weight in plan["mix"].items() if weight > 0]
        self.kinds = [kind for kind, _weight in kinds]
        self.weights = [weight for _kind, weight in kinds]

    def take_citizen(self) -> int | None:
        if not self.free:
            return None
        index = self.rng.randrange(len(self.free))
        self.free[index], self.free[-1] = self.free[-1], self.free[index]
        return self.free.pop()

    def release(self, citizen: int) -> None:
        self.free.append(citizen)

    def outcome_unknown(self, citizen: int, kind: str, target) -> None:
        """That write may still be applied later: nothing more for the same row from this
        citizen, so that it stays their last for it."""
        if kind != "comment":
            self.unknown.add((citizen, kind, target))

    def draw(self, i: int, citizen: int, host: str) -> dict:
        rng = self.rng
        user, token = self.citizens[citizen]
        for _try in range(20):  # not a vote, grade or ballot whose last outcome is unknown
            kind = rng.choices(self.kinds, self.weights)[0]
            target = self.slug if kind == "ballot" else rng.choice(self.items)
            if kind == "comment" or (citizen, kind, target) not in self.unknown:
                break
        else:
            kind = "comment"  # each comment stands alone: no earlier one to overtake
        if kind == "vote":
            value = rng.choice(("for", "against", "abstain"))
            method, path, body = "PUT", f"/api/v1/items/{target}/vote", {"choice": value}
        elif kind == "grade":
            value = rng.randrange(self.grade_scale)
            method, path, body = "PUT", f"/api/v1/items/{target}/grade", {"grade": value}
        elif kind == "ballot":
            value = rng.sample(self.items, self.ranking_size)
            method, path, body = "PUT", f"/api/v1/consultations/{target}/ballot", {"items": value}
        elif kind == "comment":
            # The tag ties the database's row to this request (bench/load.py's checks).
            value = f"[load {self.run_id}#{i}]"
            text = f"{value} Un avis de charge numéro {i}, écrit pour le banc d'essai."
            stance = rng.choice(("for", "neutral", "against"))
            method, path = "POST", f"/api/v1/items/{target}/comments"
            body = {"body": text, "stance": stance}
        else:
            raise ValueError(kind)
        data = json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Idempotency-Key: load-{self.run_id}-{i}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        ).encode()
        return {
            "i": i,
            "kind": kind,
            "user": user,
            "target": target,
            "value": value,
            "payload": head + data,
        }


class Phase:
    def __init__(self, name: str, rate: float, seconds: float):
        self.name = name
        self.rate = rate
        self.seconds = seconds
        self.statuses: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.send_lags: list[float] = []
        self.sent = 0
        self.skipped = 0  # due, but every citizen had a write in flight
        self.retries = 0
        self.retry_after_missing = 0  # a 429/503 without Retry-After
        self.last_answer = 0.0

    def summary(self, started: float) -> dict:
        ok = sum(n for status, n in self.statuses.items() if status.startswith("2"))
        return {
            "name": self.name,
            "rate": self.rate,
            "seconds": self.seconds,
            "sent": self.sent,
            "skipped": self.skipped,
            "retries": self.retries,
            "ok": ok,
            "statuses": dict(self.statuses),
            "latencies": self.latencies,
            "send_lags": self.send_lags,
            "retry_after_missing": self.retry_after_missing,
            "drained_after_s": max(0.0, self.last_answer - (started + self.seconds)),
        }


class Generator:
    def __init__(self, plan: dict):
        self.plan = plan
        self.writes = Writes(plan)
        self.targets = [tuple(t) for t in plan["targets"]]
        self.host = f"{self.targets[0][0]}:{self.targets[0][1]}"
        self.pool = Pool(self.targets, plan["max_connections"])
        self.timeout = plan["timeout"]
        self.retries = plan["retries"]
        self.log = open(plan["log"], "w", buffering=1 << 16)  # noqa: SIM115 (closed in run)
        self.in_flight = 0
        self.peak_in_flight = 0
        self.tasks: set[asyncio.Task] = set()
        self.next_i = 0

    async def run(self, pipe) -> dict:
        summaries = []
        try:
            for name, rate, seconds in self.plan["phases"]:
                phase = Phase(name, rate, seconds)
                started = await self.schedule(phase)
                # The phase is over when its last request is answered or timed out.
                pending = [t for t in self.tasks if not t.done()]
                if pending:
                    await asyncio.wait(pending, timeout=self.timeout * (self.retries + 1) + 30)
                summary = phase.summary(started)
                summary["peak_in_flight"] = self.peak_in_flight
                summary["peak_connections"] = self.pool.peak
                summaries.append(summary)
                pipe.send(("phase", {"name": phase.name}))  # small: the pipe is non-blocking
                self.peak_in_flight = 0
                self.pool.peak = self.pool.open
        finally:
            self.pool.close()
            self.log.close()
        return {"phases": summaries, "ended_at": time.time()}

    async def schedule(self, phase: Phase) -> float:
        """Send request k of the phase at start + k / rate, answered or not."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        total = int(phase.rate * phase.seconds)
        k = 0
        while k < total:
            now = loop.time()
            due = started + k / phase.rate
            if due > now:
                await asyncio.sleep(min(due - now, TICK))
                continue
            while k < total and started + k / phase.rate <= now:
                self.start_one(phase, started + k / phase.rate)
                k += 1
        return started

    def start_one(self, phase: Phase, due: float) -> None:
        citizen = self.writes.take_citizen()
        if citizen is None:
            phase.skipped += 1
            return
        i = self.next_i
        self.next_i += 1
        task = asyncio.get_running_loop().create_task(self.one_write(phase, due, i, citizen))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def one_write(self, phase: Phase, due: float, i: int, citizen: int) -> None:
        loop = asyncio.get_running_loop()
        write = self.writes.draw(i, citizen, self.host)
        payload = write.pop("payload")
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        phase.sent += 1
        statuses = []
        outcome, latency = "unknown", None
        attempt_due = due
        for attempt in range(self.retries + 1):
            if attempt:
                phase.retries += 1
            status, retry_after = await self.attempt(phase, payload, attempt_due)
            statuses.append(status)
            now = loop.time()
            if latency is None and status.isdigit():
                latency = now - due
            if status.isdigit() and status[0] == "2":
                outcome = "ack"
                break
            if status.isdigit() and (status[0] == "4" or status == "503"):
                outcome = "refused"
                if status in ("429", "503"):
                    if retry_after is None:
                        phase.retry_after_missing += 1
                    elif attempt < self.retries:
                        attempt_due = now + _seconds(retry_after)
                        await asyncio.sleep(attempt_due - now)
                        continue
                break
            # No answer, a lost connection or a 5xx: the write may or may not stand.
            outcome = "unknown"
            if attempt < self.retries:
                attempt_due = now + 0.5 * 2**attempt
                await asyncio.sleep(attempt_due - now)
        final = statuses[-1]
        phase.statuses[final] += 1
        if latency is not None and final.isdigit():
            phase.latencies.append(latency)
        phase.last_answer = loop.time()
        self.in_flight -= 1
        if outcome == "unknown":
            self.writes.outcome_unknown(citizen, write["kind"], write["target"])
        self.writes.release(citizen)
        record = {
            **write,
            "phase": phase.name,
            "status": final,
            "statuses": statuses,
            "outcome": outcome,
            "latency": latency,
        }
        self.log.write(json.dumps(record) + "\n")

    async def attempt(self, phase: Phase, payload: bytes, due: float) -> tuple[str, str | None]:
        """One try: a status ("200", …) or what went wrong ("timeout", "refused", …)."""
        loop = asyncio.get_running_loop()
        deadline = due + self.timeout
        connection = None
        try:
            async with asyncio.timeout_at(deadline):
                while connection is None:
                    try:
                        connection = await self.pool.take()
                    except _Reopen:
                        continue
                phase.send_lags.append(loop.time() - due)
                answer = await connection.send(payload)
        except TimeoutError:
            if connection is not None:
                self.pool.drop(connection)
            return "timeout", None
        except ConnectionRefusedError:
            return "connect_refused", None
        except OSError as error:  # ConnectionError included
            if connection is not None:
                self.pool.drop(connection)
            return type(error).__name__, None
        self.pool.give_back(connection)
        return str(answer.status), answer.retry_after


def _seconds(retry_after: str) -> float:
    try:
        return min(max(float(retry_after), 0.0), 60.0)
    except ValueError:  # an HTTP date: not sent by Agora; wait a second
        return 1.0


async def serve(pipe) -> None:
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue = asyncio.Queue()

    def on_command() -> None:
        try:
            commands.put_nowait(pipe.recv())
        except (EOFError, OSError):  # the parent is gone
            loop.remove_reader(pipe.fileno())
            commands.put_nowait(("stop",))

    loop.add_reader(pipe.fileno(), on_command)
    pipe.send(("ready",))
    while True:
        try:
            command = await asyncio.wait_for(commands.get(), IDLE_LIMIT)
        except TimeoutError:
            return
        if command[0] == "stop":
            return
        with open(command[1]) as plan:
            generator = Generator(json.load(plan))
        started_cpu = os.times()
        result = await generator.run(pipe)
        ended_cpu = os.times()
        result["cpu_s"] = (ended_cpu.user - started_cpu.user) + (
            ended_cpu.system - started_cpu.system
        )
        # By file, as the plan came: too large for one write on a non-blocking pipe.
        with open(Path(command[1]).with_name("traffic.json"), "w") as out:
            json.dump(result, out)
        pipe.send(("done", out.name))


def generator_main(pipe) -> None:
    """Entry point of the generator process (``multiprocessing`` target)."""
    faulthandler.enable()  # a crash in the event loop's C code still says where
    try:
        import uvloop
    except ImportError:
        run = asyncio.run
    else:
        run = uvloop.run
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C: the parent cleans up
        run(serve(pipe))
