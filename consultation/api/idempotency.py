"""``Idempotency-Key`` on the API's writes: a retried write gets the first answer back.

A script that sent a write and lost the answer (a timeout, a dropped connection) cannot
tell whether it was done. Sent again with the same ``Idempotency-Key`` header, by the same
person, with the same method, path and body, within ``KEPT_FOR`` (24 hours), the write is
not done again: the first answer comes back, status and body, with the header
``Idempotent-Replayed: true``. The same key with another method, path or body is a 422
(``idempotency_key_reused``). Every unsafe operation under /api/v1/ takes the header; the
browser's forms do not (they have the unique constraints and post-redirect-get).

The key is a row (``IdempotencyKey``, unique per person and key) inserted in the
transaction of the write, before it, and given the answer before the commit
(docs/decisions/0034-idempotency-keys.md). So:

- a committed key always holds the answer of a committed write, and no answer is ever
  kept for a write that was rolled back;
- two requests with one key at once: the second one's insert waits on the unique index
  (PostgreSQL) or for the write lock at BEGIN (SQLite) until the first one ends. If the
  first committed, the second finds its row and answers with it; if it rolled back, the
  second does the write itself. Never two writes, and nobody is told "try later";
- an answer other than 2xx is not kept: nothing was written, the key is rolled back with
  the rest, and a retry is tried afresh (after a 429 or a 503, that is what the caller
  wants).

A key whose owner the operation will refuse (no token, a wrong token, a session without
its CSRF token) is ignored: the operation answers its 401 or 403 as without a key.
"""

import hashlib
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from consultation.api.auth import writer
from consultation.api.errors import error_response
from consultation.models import IdempotencyKey
from consultation.models.idempotency import KEPT_FOR

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Visible ASCII, 1 to 255 characters: a UUID, a ULID, a counter, a hash.
VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def idempotent(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wraps an API path's view (ninja's, all its methods): unsafe requests carrying the
    header are done once per person and key."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method not in UNSAFE:
            return view(request, *args, **kwargs)
        if not VALID_KEY.fullmatch(key):
            return error_response(
                400,
                "invalid_idempotency_key",
                _("An Idempotency-Key is 1 to 255 visible ASCII characters, without spaces."),
            )
        try:
            fingerprint = _fingerprint(request)
        except RequestDataTooBig:
            return view(request, *args, **kwargs)  # answered 413, as without a key
        person = writer(request)
        if person is None:
            return view(request, *args, **kwargs)
        with transaction.atomic():
            claimed = _claim(person, key, fingerprint)
            if claimed.status is not None:
                return _replay(claimed, fingerprint)
            response = view(request, *args, **kwargs)
            if not 200 <= response.status_code < 300 or response.streaming:
                transaction.set_rollback(True)  # the key too: nothing was written
                return response
            claimed.status = response.status_code
            claimed.content_type = response.get("Content-Type", "")
            claimed.body = response.content.decode()
            claimed.save(update_fields=["status", "content_type", "body"])
        return response

    return wrapper


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.get_full_path()):
        digest.update(part.encode() + b"\n")
    digest.update(request.body)
    return digest.hexdigest()


def _claim(person: User, key: str, fingerprint: str) -> IdempotencyKey:
    """This request's new key (no answer yet), or the committed one of an earlier request.

    Called in the write's transaction. The insert is in a savepoint of its own, so losing
    it to the unique constraint leaves the transaction usable for reading the winner."""
    for _attempt in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    user=person, key=key, fingerprint=fingerprint, created_at=now
                )
        except IntegrityError:
            pass
        found = IdempotencyKey.objects.filter(user=person, key=key).first()
        if found is not None and found.created_at > now - KEPT_FOR:
            return found
        if found is not None:  # expired: the key is free again
            IdempotencyKey.objects.filter(pk=found.pk).delete()
    raise IntegrityError(f"could not claim idempotency key {key!r}")


def _replay(found: IdempotencyKey, fingerprint: str) -> HttpResponse:
    if found.fingerprint != fingerprint:
        return error_response(
            422,
            "idempotency_key_reused",
            _(
                "This Idempotency-Key was already used for another request (another method, "
                "path or body): use a new key for a new request."
            ),
        )
    response = HttpResponse(found.body, status=found.status, content_type=found.content_type)
    response[REPLAYED] = "true"
    return response
