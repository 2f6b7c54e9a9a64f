"""Client worker processes for bench/fanout.py: each holds a share of the N websockets.

A worker runs its own event loop (uvloop when installed), opens its share of the
connections when told to, waits for each one's first frame (the ``snapshot``), then
counts, per frame ``seq``, how many of its clients received it and the latest
receive time (``time.time()``, comparable across processes). Clients behave like
the browser client: they offer permessage-deflate, answer pings, keep the last
``seq`` and drop stale frames; they send nothing else. A client given a cookie
(``--signed-in``) sends it with its handshake, as a signed-in visitor's browser does.

On two cores the clients share the CPU with the server under test, so their own
cost per frame inflates every latency. The default client, ``LightClient``, is a
minimal RFC 6455 client on an ``asyncio.Protocol``: it timestamps a frame as soon as
its bytes are parsed and reads ``seq`` without parsing the JSON (both servers put
it first). ``--client websockets`` uses the ``websockets`` library instead, as a
cross-check of the light client's counts.

Worker and parent talk over a ``multiprocessing`` pipe:

    parent → worker   ("connect",) | ("report",) | ("stop",)
    worker → parent   ("ready",)
                      ("connected", opened, {error name: count})
                      ("complete", seq)          every client of this worker has seq
                      ("report", {seq: (count, latest)}, {counter: value})

Every wait is bounded: handshakes and snapshots by ``timeout``, and a worker that
hears nothing from its parent for ``IDLE_LIMIT`` seconds (or loses the pipe) exits.
"""

import asyncio
import base64
import contextlib
import json
import os
import re
import struct
import time
import zlib
from collections import Counter
from urllib.parse import urlsplit

IDLE_LIMIT = 600.0
SEQ_FIRST = '{"seq": '


def seq_of(text: str) -> int | None:
    if text.startswith(SEQ_FIRST):  # how both servers serialise stream frames
        return int(text[len(SEQ_FIRST) : text.index(",")])
    return json.loads(text).get("seq")


class Worker:
    def __init__(self, pipe, url, origin, count, concurrency, timeout, client, deflate, cookies):
        self.pipe = pipe
        self.url = url
        self.origin = origin
        self.count = count
        self.concurrency = concurrency
        self.timeout = timeout
        self.client_class = LightClient if client == "light" else LibraryClient
        self.deflate = deflate
        self.cookies = list(cookies)  # one per client while they last; the rest anonymous
        self.clients: list = []
        self.failures: Counter[str] = Counter()
        self.received: dict[int, list] = {}  # seq -> [clients that got it, latest time]
        self.counters: Counter[str] = Counter()
        self.stopping = False

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        commands: asyncio.Queue = asyncio.Queue()

        def on_command() -> None:
            try:
                commands.put_nowait(self.pipe.recv())
            except (EOFError, OSError):  # the parent is gone
                loop.remove_reader(self.pipe.fileno())
                commands.put_nowait(("stop",))

        loop.add_reader(self.pipe.fileno(), on_command)
        self.pipe.send(("ready",))
        while True:
            try:
                command = await asyncio.wait_for(commands.get(), IDLE_LIMIT)
            except TimeoutError:
                command = ("stop",)
            if command[0] == "connect":
                await self.open_all()
                self.pipe.send(("connected", len(self.clients), dict(self.failures)))
            elif command[0] == "drop":  # close every socket: the next storm starts afresh
                self.stopping = True
                dropped = len(self.clients)
                for client in self.clients:
                    client.abort()
                self.clients, self.failures = [], Counter()
                await asyncio.sleep(0)
                self.stopping = False
                self.pipe.send(("dropped", dropped))
            elif command[0] == "report":
                report = {seq: tuple(entry) for seq, entry in self.received.items()}
                self.pipe.send(("report", report, dict(self.counters)))
            elif command[0] == "stop":
                self.stopping = True
                for client in self.clients:
                    client.abort()
                return

    async def open_all(self) -> None:
        gate = asyncio.Semaphore(self.concurrency)
        cookies = self.cookies + [None] * (self.count - len(self.cookies))
        await asyncio.gather(*(self.open_one(gate, cookie) for cookie in cookies[: self.count]))

    async def open_one(self, gate: asyncio.Semaphore, cookie: str | None) -> None:
        async with gate:
            client = self.client_class(self)
            try:
                async with asyncio.timeout(self.timeout):
                    await client.open(self.url, self.origin, self.deflate, cookie)
            except Exception as error:
                self.failures[type(error).__name__] += 1
                client.abort()
                return
        self.clients.append(client)

    def received_frame(self, seq: int, text: str, now: float) -> None:
        entry = self.received.get(seq)
        if entry is None:
            entry = self.received[seq] = [0, now]
            self.counters["frame_bytes"] = len(text.encode())
        entry[0] += 1
        if now > entry[1]:
            entry[1] = now
        if entry[0] == len(self.clients):
            self.pipe.send(("complete", seq))

    def lost_connection(self) -> None:
        if not self.stopping:
            self.counters["dropped"] += 1


class BaseClient:
    """What both clients do with a message: snapshot first, then frames in seq order."""

    def __init__(self, worker: Worker):
        self.worker = worker
        self.last: int | None = None  # None until the snapshot
        self.snapshot: asyncio.Future = asyncio.get_running_loop().create_future()

    def on_message(self, text: str, now: float) -> None:
        if self.last is None:
            frame = json.loads(text)
            if frame.get("type") != "snapshot":
                error = RuntimeError(f"first frame is {frame.get('type')!r}, not a snapshot")
                self.snapshot.set_exception(error)
                return
            self.last = frame["seq"]
            self.snapshot.set_result(None)
            return
        seq = seq_of(text)
        counters = self.worker.counters
        if seq is None or seq <= self.last:
            counters["stale"] += 1
            return
        if seq > self.last + 1:
            counters["gaps"] += 1
        self.last = seq
        self.worker.received_frame(seq, text, now)


class LightClient(BaseClient, asyncio.Protocol):
    """A minimal websocket client: handshake, unmasked server frames, deflate, pong."""

    def __init__(self, worker: Worker):
        super().__init__(worker)
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.handshake: asyncio.Future = asyncio.get_running_loop().create_future()
        self.inflater = None
        self.fragments: list[bytes] = []
        self.compressed = False

    async def open(self, url: str, origin: str, deflate: bool, cookie: str | None) -> None:
        parts = urlsplit(url)
        loop = asyncio.get_running_loop()
        await loop.create_connection(lambda: self, parts.hostname, parts.port)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {origin}\r\n"
        )
        if cookie:
            request += f"Cookie: {cookie}\r\n"
        if deflate:
            request += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        request += "\r\n"
        self.transport.write(request.encode())
        await self.handshake
        await self.snapshot

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        waiting = self.handshake if not self.handshake.done() else self.snapshot
        if not waiting.done():
            waiting.set_exception(ConnectionError("closed before the snapshot"))
        elif self.last is not None:
            self.worker.lost_connection()

    def abort(self) -> None:
        for future in (self.handshake, self.snapshot):
            future.cancel()  # a no-op once done; spares "exception never retrieved"
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        if not self.handshake.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            del self.buffer[: end + 4]
            if not head.startswith("HTTP/1.1 101"):
                self.handshake.set_exception(ConnectionError(head.split("\r\n", 1)[0]))
                return
            if re.search(r"(?im)^sec-websocket-extensions:.*permessage-deflate", head):
                self.inflater = zlib.decompressobj(wbits=-15)
            self.handshake.set_result(None)
        self.read_frames(now)

    def read_frames(self, now: float) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            length, start = second & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, start = struct.unpack_from("!H", buffer, 2)[0], 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, start = struct.unpack_from("!Q", buffer, 2)[0], 10
            if len(buffer) < start + length:
                return
            payload = bytes(buffer[start : start + length])
            del buffer[: start + length]
            self.on_frame(first & 0x80, first & 0x40, first & 0x0F, payload, now)

    def on_frame(self, fin: int, rsv1: int, opcode: int, payload: bytes, now: float) -> None:
        if opcode in (0x1, 0x2):  # first (or only) fragment of a message
            self.fragments, self.compressed = [payload], bool(rsv1)
        elif opcode == 0x0:
            self.fragments.append(payload)
        elif opcode == 0x9:  # ping: a pong with the same payload, masked as clients must
            mask = os.urandom(4)
            masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            self.transport.write(bytes((0x8A, 0x80 | len(payload))) + mask + masked)
            return
        elif opcode == 0x8:
            self.transport.close()
            return
        else:
            return
        if not fin:
            return
        message = b"".join(self.fragments)
        if self.compressed:
            message = self.inflater.decompress(message + b"\x00\x00\xff\xff")
        self.on_message(message.decode(), now)


class LibraryClient(BaseClient):
    """The same client on the ``websockets`` library (slower; a cross-check)."""

    def __init__(self, worker: Worker):
        super().__init__(worker)
        self.websocket = None
        self.listener: asyncio.Task | None = None

    async def open(self, url: str, origin: str, deflate: bool, cookie: str | None) -> None:
        from websockets.asyncio.client import connect

        self.websocket = await connect(
            url,
            origin=origin,
            additional_headers={"Cookie": cookie} if cookie else None,
            compression="deflate" if deflate else None,
            ping_interval=None,
            max_size=2**20,
        )
        self.listener = asyncio.create_task(self.listen())
        await self.snapshot

    async def listen(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for message in self.websocket:
                self.on_message(message, time.time())
        except ConnectionClosed:
            pass
        if not self.snapshot.done():
            self.snapshot.set_exception(ConnectionError("closed before the snapshot"))
        elif self.last is not None:
            self.worker.lost_connection()

    def abort(self) -> None:
        self.snapshot.cancel()
        if self.websocket is not None:
            self.websocket.transport.abort()
        if self.listener is not None:
            self.listener.cancel()


def worker_main(pipe, url, origin, count, concurrency, timeout, client, deflate, cookies) -> None:
    """Entry point of a client process (``multiprocessing`` target)."""
    try:
        import uvloop
    except ImportError:
        run = asyncio.run
    else:
        run = uvloop.run
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C: the parent cleans up
        worker = Worker(pipe, url, origin, count, concurrency, timeout, client, deflate, cookies)
        run(worker.run())
