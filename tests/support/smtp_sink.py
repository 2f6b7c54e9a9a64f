"""A local SMTP server to send real e-mails to: aiosmtpd on 127.0.0.1 (decision 0029).

The mail server is the outside world; this one stands in for it over a real SMTP
connection, so that what is tested (and measured in bench/mass_mail.py) is the SMTP path
itself: one connection per batch, a refused address, a server that puts an address off,
a worker killed while the server still holds a message. It accepts every message unless
told otherwise and records, for each one accepted, its recipients, its ``Message-ID`` and
when; a message is accepted when the server answers 250 to its DATA, as a real server
would, and a connection lost before that answer records nothing.

    with Sink(refuse={"nobody@example.org"}) as sink:
        settings.MAILERS = sink.mailers()
        ...
        assert sink.count_by_recipient() == {...}
"""

import asyncio
import itertools
import logging
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass

from aiosmtpd.controller import Controller

# aiosmtpd logs every SMTP command at INFO: thousands of lines a second under load.
logging.getLogger("mail.log").setLevel(logging.WARNING)
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Accepted:
    recipients: tuple[str, ...]
    message_id: str
    at: float  # time.monotonic() when the server answered 250
    session: int
    sender: str = ""
    content: bytes = b""  # kept only with Sink(keep=True): the bench replays it


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Handler:
    def __init__(self, sink: "Sink"):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.sink.refuse:
            return "550 5.1.1 No such user here"
        if address in self.sink.put_off:
            return "450 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        sink = self.sink
        if sink.delay:
            await asyncio.sleep(sink.delay)
        if sink.hold_from is not None and len(sink.accepted) >= sink.hold_from:
            with sink.lock:
                sink.held += 1
            try:
                while not sink.released.is_set():
                    await asyncio.sleep(0.005)
            finally:
                with sink.lock:
                    sink.held -= 1
            if server.transport is None or server.transport.is_closing():
                return "421 4.3.0 Gone"  # the client left: never accepted
        found = MESSAGE_ID.search(envelope.original_content or envelope.content or b"")
        message_id = found.group(1).decode() if found else ""
        with sink.lock:
            if not hasattr(session, "number"):
                session.number = next(sink.numbers)  # one per SMTP connection
            sink.accepted.append(
                Accepted(
                    tuple(envelope.rcpt_tos),
                    message_id,
                    time.monotonic(),
                    session.number,
                    envelope.mail_from or "",
                    envelope.original_content if sink.keep else b"",
                )
            )
        return "250 2.0.0 Accepted"


class Sink:
    """An SMTP server in a thread of this process; ``port`` is where it listens."""

    def __init__(
        self,
        *,
        refuse=(),
        put_off=(),
        delay: float = 0.0,
        port: int | None = None,
        keep: bool = False,
    ):
        self.keep = keep
        self.refuse = set(refuse)
        self.put_off = set(put_off)
        self.delay = delay
        self.port = port or free_port()
        self.accepted: list[Accepted] = []
        self.lock = threading.Lock()
        self.numbers = itertools.count(1)
        self.hold_from: int | None = None
        self.held = 0
        self.released = threading.Event()
        self.controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, data_size_limit=10_000_000
        )

    def __enter__(self) -> "Sink":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.released.set()
        self.controller.stop()

    def mailers(self, timeout: int = 20) -> dict:
        """``settings.MAILERS`` sending to this server."""
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": self.port, "timeout": timeout},
            }
        }

    def hold(self, after: int) -> None:
        """From the ``after``-th accepted message on, keep each DATA unanswered until
        ``release()``: the client waits for the 250, and a client killed meanwhile has
        sent nothing."""
        self.released.clear()
        self.hold_from = after

    def release(self) -> None:
        self.hold_from = None
        self.released.set()

    def count_by_recipient(self) -> Counter:
        with self.lock:
            return Counter(r for message in self.accepted for r in message.recipients)

    def count_by_message_id(self) -> Counter:
        with self.lock:
            return Counter(message.message_id for message in self.accepted)

    def sessions(self) -> int:
        """How many SMTP connections delivered at least one message."""
        with self.lock:
            return len({message.session for message in self.accepted})

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.accepted) >= count:
                    return
            time.sleep(0.02)
        raise AssertionError(f"{len(self.accepted)} messages accepted, {count} awaited")

    def wait_held(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.held:
                return
            time.sleep(0.01)
        raise AssertionError(f"no message held ({len(self.accepted)} accepted)")
