"""The first answer to an API write sent with an ``Idempotency-Key`` header.

Written only by ``consultation.api.idempotency``, in the transaction of the write itself:
a committed row always holds the answer of a committed write (see that module for the
races). Rows older than ``KEPT_FOR`` are ignored and purged by the worker.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

# How long a key is remembered: a retry within a day gets the first answer back.
KEPT_FOR = timedelta(hours=24)


class IdempotencyKeyQuerySet(models.QuerySet):
    def expired(self) -> "IdempotencyKeyQuerySet":
        return self.filter(created_at__lte=timezone.now() - KEPT_FOR)


class IdempotencyKey(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(max_length=255)
    # SHA-256 of the method, the path with its query and the body: "the same request".
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)

    objects = IdempotencyKeyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_idempotency_key_per_person")
        ]

    def __str__(self) -> str:
        return f"idempotency key {self.key!r} of user {self.user_id}"


def export_keys(user: Any) -> list[dict[str, Any]]:
    """The personal-data export's section: the answers kept for the person's retries."""
    return [
        {
            "key": row.key,
            "status": row.status,
            "answer": row.body,
            "created_at": row.created_at.isoformat(),
        }
        for row in IdempotencyKey.objects.filter(user=user).order_by("created_at", "pk")
    ]


def erase_keys(user: Any) -> None:
    IdempotencyKey.objects.filter(user=user).delete()
