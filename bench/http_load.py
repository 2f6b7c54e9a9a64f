"""The HTTP load client of bench/write_path.py and bench/read_path.py: closed-loop
keep-alive connections in one process of its own, on its own event loop (uvloop when
installed).

wrk is not assumed (it is not on every machine here); this is the same closed loop: each
of ``connections`` HTTP/1.1 keep-alive connections sends a request, reads the whole
answer, and sends the next, until the time is up. Requests are built per call from the
scenario (a random citizen, a random item, a random choice), so no two connections
replay one request. A minimal ``asyncio.Protocol`` keeps the client's own CPU small: on
two cores it shares the machine with the server under test.

Parent and client talk over a ``multiprocessing`` pipe:

    parent → client   ("run", scenario, port, connections, warmup_s, duration_s[, by_finish])
                      | ("stop",)
    client → parent   ("ready",) | ("done", {status: count}, [latency seconds], measured_s)

Every wait is bounded: a request unanswered for ``REQUEST_TIMEOUT`` counts as a timeout
and its connection is replaced; a client that hears nothing for ``IDLE_LIMIT`` exits.
"""

import asyncio
import contextlib
import json
import os
import random
import time
from collections import Counter

HOST = "127.0.0.1"
REQUEST_TIMEOUT = 30.0
IDLE_LIMIT = 900.0


class Scenarios:
    """Builds one request of a scenario at a time, from what the bench seeded."""

    def __init__(self, seeded: dict):
        self.citizens = seeded["citizens"]  # [{"token", "session", "csrf"}]
        self.items = seeded["items"]
        self.slug = seeded["slug"]
        self.ranking_size = seeded.get("ranking_size", 0)
        self.grade_scale = seeded.get("grade_scale", 0)
        # bench/read_path.py: scenario → {"path", "signed_in"}: a GET of the page, by an
        # anonymous visitor or a random citizen's session.
        self.pages = seeded.get("pages", {})
        self.rng = random.Random(20261203)

    def build(self, scenario: str, port: int, citizen: dict | None = None) -> bytes:
        rng = self.rng
        citizen = citizen or rng.choice(self.citizens)
        host = f"Host: {HOST}:{port}\r\n"
        if scenario in self.pages:
            page = self.pages[scenario]
            cookie = f"Cookie: sessionid={citizen['session']}\r\n" if page["signed_in"] else ""
            return f"GET {page['path']} HTTP/1.1\r\n{host}{cookie}\r\n".encode()
        if scenario == "form":
            item = rng.choice(self.items)
            choice = rng.choice(("for", "against", "abstain"))
            body = f"csrfmiddlewaretoken={citizen['csrf']}&choice={choice}"
            return (
                f"POST /consultations/{self.slug}/mesures/{item}/vote/ HTTP/1.1\r\n{host}"
                f"Cookie: sessionid={citizen['session']}; csrftoken={citizen['csrf']}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n{body}"
            ).encode()
        if scenario == "vote":
            item = rng.choice(self.items)
            path = f"/api/v1/items/{item}/vote"
            body = json.dumps({"choice": rng.choice(("for", "against", "abstain"))})
        elif scenario == "grade":
            item = rng.choice(self.items)
            path = f"/api/v1/items/{item}/grade"
            body = json.dumps({"grade": rng.randrange(self.grade_scale)})
        elif scenario == "ballot":
            path = f"/api/v1/consultations/{self.slug}/ballot"
            ranked = rng.sample(self.items, self.ranking_size)
            body = json.dumps({"items": ranked})
        else:
            raise ValueError(scenario)
        return (
            f"PUT {path} HTTP/1.1\r\n{host}Authorization: Bearer {citizen['token']}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}"
        ).encode()


class Connection(asyncio.Protocol):
    """One keep-alive connection: one request in flight, its answer read whole."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.answer: asyncio.Future | None = None
        self.closed = False

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
        status = self.parse()
        if status is not None:
            self.answer.set_result(status)

    def parse(self) -> int | None:
        """The status of a complete answer at the head of the buffer (consumed), or None."""
        buffer = self.buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(buffer[:end]).decode("latin-1").lower()
        status = int(head[9:12])
        start = end + 4
        if "transfer-encoding: chunked" in head:
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
                    return status
        length = 0
        for line in head.split("\r\n"):
            if line.startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        if len(buffer) < start + length:
            return None
        del buffer[: start + length]
        return status

    async def request(self, payload: bytes) -> int:
        self.answer = asyncio.get_running_loop().create_future()
        self.transport.write(payload)
        return await self.answer


async def run_trial(scenarios, scenario, port, connections, warmup, duration, by_finish=False):
    """``by_finish``: an answer counts when it arrives within the measured window, even
    if it was asked for before (pages slower than the window: bench/read_path.py)."""
    loop = asyncio.get_running_loop()
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    started = time.monotonic()
    measure_from = started + warmup
    stop_at = measure_from + duration

    async def one_connection() -> None:
        connection: Connection | None = None
        while time.monotonic() < stop_at:
            if connection is None or connection.closed:
                _transport, connection = await loop.create_connection(Connection, HOST, port)
            payload = scenarios.build(scenario, port)
            sent = time.monotonic()
            try:
                status = await asyncio.wait_for(connection.request(payload), REQUEST_TIMEOUT)
            except (TimeoutError, ConnectionError) as error:
                if sent >= measure_from:
                    statuses[type(error).__name__] += 1
                connection.transport.abort()
                connection = None
                continue
            now = time.monotonic()
            if (sent >= measure_from or (by_finish and now >= measure_from)) and now <= stop_at:
                statuses[str(status)] += 1
                latencies.append(now - sent)
        if connection is not None:
            connection.transport.close()

    await asyncio.gather(*(one_connection() for _ in range(connections)))
    return dict(statuses), latencies, duration


async def serve(pipe, seeded: dict) -> None:
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue = asyncio.Queue()
    scenarios = Scenarios(seeded)

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
        _run, scenario, port, connections, warmup, duration, *by_finish = command
        statuses, latencies, measured = await run_trial(
            scenarios, scenario, port, connections, warmup, duration, *by_finish
        )
        # The event loop watching the pipe made it non-blocking; the answer (every latency)
        # is larger than the pipe's buffer: send it blocking, the parent is reading.
        os.set_blocking(pipe.fileno(), True)
        pipe.send(("done", statuses, latencies, measured))


def client_main(pipe, seeded: dict) -> None:
    """Entry point of the client process (``multiprocessing`` target)."""
    try:
        import uvloop
    except ImportError:
        run = asyncio.run
    else:
        run = uvloop.run
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C: the parent cleans up
        run(serve(pipe, seeded))
