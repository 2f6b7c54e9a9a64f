"""The websocket viewers of bench/load.py: a share of the N viewers per process.

Each viewer follows a consultation's public stream as the browser does (docs/realtime.md,
"Client rules"): it offers permessage-deflate, answers pings, keeps the last ``seq``,
ignores stale frames, sends ``resync`` on a gap and takes the ``snapshot`` that answers
it. It records every frame: how many of each type, the gaps, and its current state, the
tally (``participation`` and ``items``) of the last ``tally`` or ``snapshot`` frame, kept
as text and parsed only when the parent asks. The protocol is bench/clients.py's light
client; only what is done with a message differs.

Parent and viewer process talk over a ``multiprocessing`` pipe:

    parent → viewers   ("connect",) | ("report",) | ("stop",)
    viewers → parent   ("ready",)
                       ("connected", opened, {error name: count})
                       ("report", {...})   see ``Viewers.report``
"""

import asyncio
import base64
import contextlib
import faulthandler
import json
import os
import re
import struct
import zlib
from collections import Counter
from urllib.parse import urlsplit

IDLE_LIMIT = 1800.0
SEQ_AND_TYPE = re.compile(r'^\{"seq": (\d+), "type": "([a-z._]+)"')


class Viewer(asyncio.Protocol):
    """One viewer: a minimal RFC 6455 client (handshake, unmasked server frames,
    permessage-deflate, pong) that follows the stream as static/js/live.js does."""

    def __init__(self, worker: "Viewers"):
        loop = asyncio.get_running_loop()
        self.worker = worker
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.handshake: asyncio.Future = loop.create_future()
        self.snapshot: asyncio.Future = loop.create_future()
        self.inflater = None
        self.fragments: list[bytes] = []
        self.compressed = False
        self.last: int | None = None  # None until the first snapshot
        self.state_seq = -1
        self.state: str | dict | None = None  # a tally frame's text, or a snapshot's body

    async def open(self, url: str, origin: str) -> None:
        parts = urlsplit(url)
        loop = asyncio.get_running_loop()
        await loop.create_connection(lambda: self, parts.hostname, parts.port)
        key = base64.b64encode(os.urandom(16)).decode()
        self.transport.write(
            (
                f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Origin: {origin}\r\n"
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
            ).encode()
        )
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
            future.cancel()  # a no-op once done
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
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
        buffer = self.buffer
        while len(buffer) >= 2:
            first, length, start = buffer[0], buffer[1] & 0x7F, 2
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
            self.on_frame(first & 0x80, first & 0x40, first & 0x0F, payload)

    def on_frame(self, fin: int, rsv1: int, opcode: int, payload: bytes) -> None:
        if opcode in (0x1, 0x2):
            self.fragments, self.compressed = [payload], bool(rsv1)
        elif opcode == 0x0:
            self.fragments.append(payload)
        elif opcode == 0x9:  # ping: a pong with the same payload
            self.send(0x8A, payload)
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
        self.on_message(message.decode())

    def send(self, first: int, payload: bytes) -> None:
        """A masked frame (clients must mask), short enough for a 7-bit length."""
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.transport.write(bytes((first, 0x80 | len(payload))) + mask + masked)

    def on_message(self, text: str) -> None:
        counters = self.worker.counters
        found = SEQ_AND_TYPE.match(text)
        if found:
            seq, kind = int(found.group(1)), found.group(2)
        else:  # a snapshot (type first), an error or a pong
            frame = json.loads(text)
            seq, kind = frame.get("seq"), frame.get("type")
            if kind == "snapshot":
                counters["snapshot"] += 1
                self.last = seq
                if seq >= self.state_seq:
                    self.state_seq, self.state = seq, frame["consultation"]
                if not self.snapshot.done():
                    self.snapshot.set_result(None)
                return
        if self.last is None:
            if not self.snapshot.done():
                self.snapshot.set_exception(RuntimeError(f"first frame is {kind!r}"))
            return
        counters[kind or "unnumbered"] += 1
        if seq is None:
            return
        if seq <= self.last:
            counters["stale"] += 1
            return
        if seq > self.last + 1:
            counters["gaps"] += 1
            self.send(0x81, b'{"type": "resync"}')
        self.last = seq
        if kind == "tally":
            self.state_seq, self.state = seq, text

    def tally(self) -> dict | None:
        if isinstance(self.state, str):
            frame = json.loads(self.state)
            return {"participation": frame["participation"], "items": frame["items"]}
        if isinstance(self.state, dict):
            return {"participation": self.state["participation"], "items": self.state["items"]}
        return None


class Viewers:
    """A process's share of the viewers."""

    def __init__(self, pipe, url: str, origin: str, count: int, concurrency: int, timeout: float):
        self.pipe = pipe
        self.url = url
        self.origin = origin
        self.count = count
        self.concurrency = concurrency
        self.timeout = timeout
        self.clients: list[Viewer] = []
        self.failures: Counter[str] = Counter()
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
                gate = asyncio.Semaphore(self.concurrency)
                await asyncio.gather(*(self.open_one(gate) for _ in range(self.count)))
                self.pipe.send(("connected", len(self.clients), dict(self.failures)))
            elif command[0] == "report":
                self.pipe.send(("report", self.report()))
            elif command[0] == "stop":
                self.stopping = True
                for client in self.clients:
                    client.abort()
                return

    async def open_one(self, gate: asyncio.Semaphore) -> None:
        async with gate:
            client = Viewer(self)
            try:
                async with asyncio.timeout(self.timeout):
                    await client.open(self.url, self.origin)
            except Exception as error:
                self.failures[type(error).__name__] += 1
                client.abort()
                return
        self.clients.append(client)

    def report(self) -> dict:
        """Every viewer's last seq and state seq, and the state of the most recent one
        (all viewers of a stream hold the same frame once they are up to date)."""
        newest = max(self.clients, key=lambda c: c.state_seq, default=None)
        return {
            "viewers": len(self.clients),
            "last_seqs": dict(Counter(c.last for c in self.clients)),
            "state_seqs": dict(Counter(c.state_seq for c in self.clients)),
            "newest_seq": newest.state_seq if newest else None,
            "newest": newest.tally() if newest else None,
            "counters": dict(self.counters),
        }

    def lost_connection(self) -> None:
        if not self.stopping:
            self.counters["dropped"] += 1


def viewers_main(pipe, url, origin, count, concurrency, timeout) -> None:
    """Entry point of a viewer process (``multiprocessing`` target)."""
    faulthandler.enable()  # a crash in the event loop's C code still says where
    try:
        import uvloop
    except ImportError:
        run = asyncio.run
    else:
        run = uvloop.run
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C: the parent cleans up
        run(Viewers(pipe, url, origin, count, concurrency, timeout).run())
