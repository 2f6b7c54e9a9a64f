"""A test mailbox that works across processes.

E-mail delivery is the outside world, so tests replace it: this backend writes
each message as a JSON file in a directory shared with the Celery worker (a
thread on the embedded default, a separate process on the production shape).
Delivery is instant unless a test asks for a slow SMTP server (``slow_down``, the
``slow_mail`` fixture): the delay is a file in that directory, so the worker process
of the production pass reads it as well as the embedded worker thread.
"""

import json
import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend

MAIL_DIR_ENV = "AGORA_TEST_MAIL_DIR"
DELAY_FILE = "delivery-delay"


def slow_down(directory, seconds: float) -> None:
    """From now on, delivering a mail into ``directory`` takes ``seconds`` (0: instant)."""
    path = Path(directory) / DELAY_FILE
    if seconds:
        path.write_text(str(seconds))
    else:
        path.unlink(missing_ok=True)


def delivery_delay(directory) -> float:
    try:
        return float((Path(directory) / DELAY_FILE).read_text())
    except FileNotFoundError:
        return 0.0


class CapturingBackend(BaseEmailBackend):
    def __init__(self, *, directory=None, **kwargs):
        super().__init__(**kwargs)
        self.directory = Path(directory or os.environ[MAIL_DIR_ENV])

    def send_messages(self, email_messages):
        if delay := delivery_delay(self.directory):
            time.sleep(delay)  # a slow SMTP server, on purpose: see slow_down
        for message in email_messages:
            html = next(
                (
                    c
                    for c, mimetype in getattr(message, "alternatives", [])
                    if mimetype == "text/html"
                ),
                None,
            )
            record = {
                "to": list(message.to),
                "subject": str(message.subject),
                "body": message.body,
                "html": html,
                "sent_at": time.time(),
            }
            target = self.directory / f"{time.time_ns()}-{uuid.uuid4().hex}.json"
            tmp = target.with_suffix(".tmp")
            tmp.write_text(json.dumps(record))
            tmp.rename(target)  # atomic: readers never see half a message
        return len(email_messages)


def messages(directory, to=None) -> list[dict]:
    found = []
    for path in sorted(Path(directory).glob("*.json")):
        record = json.loads(path.read_text())
        if to is None or to in record["to"]:
            found.append(record)
    return found


def wait_for_mail(directory, to, *, timeout=15.0, count=1) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = messages(directory, to)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no e-mail to {to} within {timeout}s (got {messages(directory, to)})")


class Mailbox:
    """The ``mailbox`` fixture: what was delivered, and waiting for a delivery."""

    def __init__(self, directory):
        self.directory = directory

    def messages(self, to=None):
        return messages(self.directory, to)

    def wait_for(self, to, *, timeout=20.0, count=1):
        return wait_for_mail(self.directory, to, timeout=timeout, count=count)
