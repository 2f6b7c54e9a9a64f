"""Moderation with due process: the charter, reports, the decision log, appeals, suspensions.

Written only through ``consultation.moderation``. The decision log is append-only, and the
database says so: a trigger refuses any change to a decision but the erasure of the people
it names (their columns set to NULL when an account is deleted), and refuses deleting one
(migration 0006). Nothing here holds vote data: a decision names a comment, a person and a
rule, never a ballot.
"""

from django.conf import settings
from django.db import IntegrityError, models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consultation.models.consultations import Consultation
from consultation.models.participation import Comment


class Rule(models.TextChoices):
    """The charter's rules, in the charter's order: a rule's number is its position + 1.
    Organisers word them for their consultation; the set is the same everywhere, so that
    reports, decisions and the public log count by the same rules."""

    INSULT = "insult", _("Insults or harassment")
    HATE = "hate", _("Hate speech")
    SPAM = "spam", _("Spam or advertising")
    OFF_TOPIC = "off_topic", _("Off-topic")
    PERSONAL_DATA = "personal_data", _("Personal data")
    ILLEGAL = "illegal", _("Illegal content")
    OTHER = "other", _("Other")

    @classmethod
    def number(cls, code: str) -> int:
        return list(cls.values).index(code) + 1


class Charter(models.Model):
    """One version of a consultation's moderation charter.

    Before the consultation opens, its organisers edit version 1 in place; once it has
    opened, every change is a new version, and earlier ones stay readable. ``rules`` maps a
    rule code to the organisers' wording of it (``{"title": ..., "text": ...}``); a rule
    left out reads as the default wording (``consultation.moderation.charter``)."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="charters"
    )
    version = models.PositiveIntegerField()
    intro = models.TextField(blank=True)
    rules = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["consultation", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "version"], name="charter_one_row_per_version"
            ),
        ]

    def __str__(self):
        return f"charter v{self.version} of {self.consultation_id}"


class Report(models.Model):
    """A citizen's report of a comment under a charter rule: one per person per comment."""

    class Status(models.TextChoices):
        OPEN = "open", _("Awaiting a decision")
        UPHELD = "upheld", _("Upheld")
        DISMISSED = "dismissed", _("Dismissed")

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reports")
    # NULL once the reporter's account is deleted: the report still counts, for nobody.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="reports"
    )
    rule = models.CharField(max_length=16, choices=Rule.choices)
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["comment", "reporter"], name="report_one_per_person_per_comment"
            ),
        ]
        indexes = [models.Index(fields=["status", "comment"], name="report_open_by_comment")]

    def __str__(self):
        return f"report {self.pk} on comment {self.comment_id}"


class DecisionQuerySet(models.QuerySet):
    def delete(self):
        raise IntegrityError("the moderation log is append-only")

    def update(self, **kwargs):
        """Only the erasure of a person (their columns to NULL): the database refuses the
        rest too (migration 0006), this says so before asking it."""
        if set(kwargs) - {"subject", "moderator", "subject_id", "moderator_id"} or any(
            value is not None for value in kwargs.values()
        ):
            raise IntegrityError("the moderation log is append-only")
        return super().update(**kwargs)


class Decision(models.Model):
    """One line of the append-only moderation log."""

    class Action(models.TextChoices):
        HIDE = "hide", _("Comment hidden")
        RESTORE = "restore", _("Comment restored")
        DISMISS = "dismiss", _("Reports dismissed")
        LOCK = "lock", _("Thread locked")
        UNLOCK = "unlock", _("Thread unlocked")
        WARN = "warn", _("Participant warned")
        SUSPEND = "suspend", _("Participant suspended")
        LIFT = "lift", _("Suspension lifted")
        APPEAL_GRANTED = "appeal_granted", _("Appeal granted")
        APPEAL_REJECTED = "appeal_rejected", _("Appeal rejected")

    class Role(models.TextChoices):
        """What the public log says of who decided: the role, never the name."""

        MODERATOR = "moderator", _("Moderator")
        ORGANISER = "organiser", _("Organiser")
        STAFF = "staff", _("Site staff")

    # NULL for a site-wide decision (staff suspending an account everywhere).
    consultation = models.ForeignKey(
        Consultation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="moderation_decisions",
    )
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions"
    )
    # The person the decision is about (the comment's author, the warned or suspended
    # account), and who decided: NULL once their account is deleted.
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_decisions_about",
    )
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_decisions_taken",
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    action = models.CharField(max_length=16, choices=Action.choices)
    rule = models.CharField(max_length=16, choices=Rule.choices)
    rule_number = models.PositiveSmallIntegerField()
    charter_version = models.PositiveIntegerField(default=0)
    note = models.TextField(blank=True)
    suspended_until = models.DateTimeField(null=True, blank=True)
    # For an appeal's outcome: the appeal it answers.
    answers = models.OneToOneField(
        "Appeal", null=True, blank=True, on_delete=models.PROTECT, related_name="outcome"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["consultation", "created_at"], name="decision_log_by_consultation")
        ]

    def __str__(self):
        return f"{self.action} ({self.rule}) #{self.pk}"

    def delete(self, *args, **kwargs):
        raise IntegrityError("the moderation log is append-only")


class Appeal(models.Model):
    """The person a decision is about contests it, once; someone else decides."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting a decision")
        GRANTED = "granted", _("Granted")
        REJECTED = "rejected", _("Rejected")

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="appeal")
    appellant = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="appeals"
    )
    text = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"appeal of decision {self.decision_id}"


class SuspensionQuerySet(models.QuerySet):
    def active(self, at=None):
        at = at or timezone.now()
        return self.filter(lifted_at__isnull=True, starts_at__lte=at).filter(
            Q(ends_at__isnull=True) | Q(ends_at__gt=at)
        )


class Suspension(models.Model):
    """A person may read but not write: in one consultation, or everywhere (staff)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="suspensions"
    )
    consultation = models.ForeignKey(
        Consultation, null=True, blank=True, on_delete=models.CASCADE, related_name="suspensions"
    )
    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="suspension")
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)

    objects = SuspensionQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "id"]
        indexes = [models.Index(fields=["user", "lifted_at"], name="suspension_by_user")]

    def __str__(self):
        return f"suspension of {self.user_id}"
