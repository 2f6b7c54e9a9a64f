"""Outgoing e-mail leaves through the background worker, after the commit.

A slow or failing SMTP server must not slow down or break sign-up, so requests
only *queue* messages; ``accounts.tasks.send_email`` delivers them with retries.
"""

import logging

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction

from config.celery import app

logger = logging.getLogger(__name__)

SEND_EMAIL = "accounts.tasks.send_email"


def serialise(message: EmailMessage) -> dict:
    html = None
    for alternative in getattr(message, "alternatives", []) or []:
        content, mimetype = alternative[0], alternative[1]
        if mimetype == "text/html":
            html = content
    return {
        "subject": str(message.subject),
        "body": message.body,
        "html": html,
        "from_email": message.from_email,
        "to": list(message.to),
        "headers": dict(message.extra_headers or {}),
    }


def build(payload: dict) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        payload["subject"],
        payload["body"],
        payload["from_email"],
        payload["to"],
        headers=payload.get("headers") or None,
    )
    if payload.get("html"):
        message.attach_alternative(payload["html"], "text/html")
    return message


def send_later(message: EmailMessage) -> None:
    """Queue ``message`` for the worker once the current transaction commits. By the
    task's name: ``accounts.tasks`` imports this module, not the other way round.

    With the broker away, what the transaction wrote stands and the person is not shown a
    server error: the mail is logged as not queued (allauth's "send the link again" sends
    a new one once the broker is back)."""
    payload = serialise(message)

    def queue() -> None:
        try:
            app.send_task(SEND_EMAIL, args=[payload])
        except Exception:
            logger.exception("could not queue an e-mail (subject %r)", payload["subject"])

    transaction.on_commit(queue)
