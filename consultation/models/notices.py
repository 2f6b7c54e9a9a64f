"""Notices: what the site tells one person (a decision about their comment, an appeal's
outcome, what became of a report). Written only through ``consultation.notices``.

A notice keeps its facts (``data``), not its sentence: it is worded when shown or mailed,
in the reader's language.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from consultation.models.consultations import Consultation


class Notice(models.Model):
    class Kind(models.TextChoices):
        MODERATION = "moderation", "moderation"  # a decision about me or my comment
        APPEAL = "appeal", "appeal"  # the outcome of my appeal, or of one on my report
        REPORT = "report", "report"  # what became of my report

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    consultation = models.ForeignKey(
        Consultation, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    data = models.JSONField(default=dict)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notice_unread_by_user")]

    def __str__(self):
        return f"{self.kind} notice for {self.user_id}"
