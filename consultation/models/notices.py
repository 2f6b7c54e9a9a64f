"""Notices: what the site tells one person, what they follow, and how they want to hear.
Written only through ``consultation.notices``.

A notice keeps its facts (``data``), not its sentence: it is worded when shown or mailed,
in the reader's language. ``key`` makes a notice once-only per person (a publication's
results, a consultation's "closes in 48 hours"): a retried job finds it there and neither
writes nor sends it twice. ``email`` is where its e-mail stands, so that a worker killed
mid-way leaves the rest to be sent, and nothing sent twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consultation.models.consultations import Consultation, Item
from consultation.models.participation import Comment


class Channel(models.TextChoices):
    """How a person hears of one kind of notice."""

    SITE = "site", _("On the site only")
    EMAIL = "email", _("By e-mail at once")
    DAILY = "daily", _("In a daily e-mail digest")
    WEEKLY = "weekly", _("In a weekly e-mail digest")
    NEVER = "never", _("Never")


class Notice(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", _("Replies to my comments")
        USEFUL = "useful", _("My comments marked useful")
        MODERATION = "moderation", _("Moderation decisions about me or my comments")
        APPEAL = "appeal", _("Outcomes of appeals")
        REPORT = "report", _("What became of my reports")
        OPENED = "opened", _("A consultation I follow opens")
        CLOSING = "closing", _("A consultation I follow closes in 48 hours")
        CLOSED_EARLY = "closed_early", _("A consultation I follow closes early")
        RESULTS = "results", _("Results published, or a new version of them")
        PERSONAL_RESULTS = "personal_results", _("What became of my own votes, at publication")

    class Email(models.TextChoices):
        NONE = "none", "none"  # not to be mailed (on the site, or in no digest)
        PENDING = "pending", "pending"  # to be mailed at once
        SENDING = "sending", "sending"  # claimed by a worker (``email_claimed_at``)
        SENT = "sent", "sent"
        FAILED = "failed", "failed"  # the server refused the address for good
        DIGEST = "digest", "digest"  # waits for the person's next digest

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    consultation = models.ForeignKey(
        Consultation, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    data = models.JSONField(default=dict)
    url = models.CharField(max_length=500, blank=True)
    key = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email = models.CharField(max_length=8, choices=Email.choices, default=Email.NONE)
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notice_unread_by_user"),
            models.Index(fields=["email", "id"], name="notice_by_email_state"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], condition=~Q(key=""), name="notice_once_per_key"
            ),
        ]

    def __str__(self):
        return f"{self.kind} notice for {self.user_id}"


class Follow(models.Model):
    """A person follows a consultation, one of its items, or a comment's thread.

    Taking part follows the consultation (``reason="participation"``); unfollowing keeps
    the row, inactive, so that taking part again does not follow it again."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows"
    )
    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="follows")
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.CASCADE, related_name="follows"
    )
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="follows"
    )
    active = models.BooleanField(default=True)
    reason = models.CharField(max_length=16, default="explicit")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "consultation"],
                condition=Q(item__isnull=True, comment__isnull=True),
                name="follow_consultation_once",
            ),
            models.UniqueConstraint(
                fields=["user", "item"],
                condition=Q(item__isnull=False, comment__isnull=True),
                name="follow_item_once",
            ),
            models.UniqueConstraint(
                fields=["user", "comment"],
                condition=Q(comment__isnull=False),
                name="follow_thread_once",
            ),
        ]
        indexes = [models.Index(fields=["consultation", "active"], name="follow_by_consultation")]

    def __str__(self):
        return f"follow by {self.user_id}"


class NoticeSettings(models.Model):
    """A person's choices: a channel per kind of notice (``channels``; a kind left out
    takes its default, ``consultation.notices.preferences.DEFAULTS``), and whether the
    personal results e-mail recalls their own choices."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_settings"
    )
    channels = models.JSONField(default=dict, blank=True)
    show_own_choices = models.BooleanField(default=False)
    daily_digest_at = models.DateTimeField(null=True, blank=True)
    weekly_digest_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"notice settings of {self.user_id}"
