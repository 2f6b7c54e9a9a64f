"""A test mailbox that works across processes.

E-mail delivery is the outside world, so tests replace it: this backend writes
each message as a JSON file in a directory shared with the Celery worker (a
thread on the embedded default, a separate process on the production shape),
after an optional delay that stands for a slow SMTP server.
"""

import json
import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend

MAIL_DIR_ENV = "AGORA_TEST_MAIL_DIR"


class CapturingBackend(BaseEmailBackend):
    def __init__(self, *, directory=None, delay=0.0, **kwargs):
        super().__init__(**kwargs)
        self.directory = Path(directory or os.environ[MAIL_DIR_ENV])
        self.delay = float(delay)

    def send_messages(self, email_messages):
        time.sleep(self.delay)
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
