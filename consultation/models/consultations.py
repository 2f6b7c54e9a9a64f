"""Consultations, their themes and items, and who holds a role in them."""

import secrets
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Localized:
    """French fields with an optional ``<field>_en`` translation."""

    def localized(self, field: str) -> str:
        if (get_language() or "fr").startswith("en"):
            translated = getattr(self, f"{field}_en", "")
            if translated:
                return translated
        return getattr(self, field)

    @property
    def display_title(self) -> str:
        return self.localized("title")

    @property
    def display_summary(self) -> str:
        return self.localized("summary")


class ConsultationQuerySet(models.QuerySet):
    def visible(self):
        """What the public may see: everything but drafts."""
        return self.exclude(status=Consultation.Status.DRAFT)

    def open(self):
        return self.filter(status=Consultation.Status.OPEN)

    def upcoming(self):
        return self.filter(status=Consultation.Status.SCHEDULED)

    def finished(self):
        return self.filter(status__in=[Consultation.Status.CLOSED, Consultation.Status.PUBLISHED])


def new_open_data_secret() -> str:
    return secrets.token_hex(32)


class Consultation(Localized, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        PUBLISHED = "published", _("Results published")

    class Eligibility(models.TextChoices):
        VERIFIED_EMAIL = "verified_email", _("Any account with a verified e-mail address")
        VERIFIED_IDENTITY = "verified_identity", _("Identity-verified accounts only")

    class ResultsVisibility(models.TextChoices):
        LIVE = "live", _("Live, during the vote")
        # Its value predates the rule "once published" (decision 0023); the API shows it.
        AFTER_CLOSE = "after_close", _("Only once the results are published")

    class GradeScale(models.IntegerChoices):
        SIX = 6, _("6 grades (Very good … To reject)")
        SEVEN = 7, _("7 grades (Excellent … To reject)")

    slug = models.SlugField(_("address (slug)"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("title in English"), max_length=200, blank=True)
    summary = models.CharField(_("summary"), max_length=500)
    summary_en = models.CharField(_("summary in English"), max_length=500, blank=True)
    description = models.TextField(_("description (Markdown)"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    opens_at = models.DateTimeField(_("opens at"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closing_reason = models.CharField(_("reason for closing early"), max_length=500, blank=True)

    comments_enabled = models.BooleanField(_("comments"), default=True)
    voting_enabled = models.BooleanField(
        _("vote on each item (for / against / abstain)"), default=True
    )
    grading_enabled = models.BooleanField(_("majority judgment grades"), default=False)
    ranking_enabled = models.BooleanField(_("ranking of the top items"), default=False)
    ranking_size = models.PositiveSmallIntegerField(_("ranking size (top K)"), default=5)
    grade_scale = models.PositiveSmallIntegerField(
        _("grade scale"), choices=GradeScale.choices, default=GradeScale.SEVEN
    )
    eligibility = models.CharField(
        _("who may take part"),
        max_length=20,
        choices=Eligibility.choices,
        default=Eligibility.VERIFIED_EMAIL,
    )
    results_visibility = models.CharField(
        _("results"),
        max_length=12,
        choices=ResultsVisibility.choices,
        default=ResultsVisibility.LIVE,
        help_text=_(
            "Live: the tallies are public during the vote and stay as they were at closing "
            "until you publish. Otherwise only participation figures are public until you "
            "publish. Either way, an item with too few responses is never broken down."
        ),
    )

    # Quarantine, not blind auto-hide: a comment whose reports weigh this much (each
    # reporter weighted by how often their past reports were upheld) awaits a moderator,
    # shown as such. Empty: reports only put it in the queue.
    quarantine_threshold = models.PositiveSmallIntegerField(
        _("reports before a comment awaits review"),
        null=True,
        blank=True,
        help_text=_(
            "A comment reported by this many people (fewer if their earlier reports were "
            "often dismissed count for less) is set aside, shown as awaiting review, until a "
            "moderator decides. Leave empty to keep reported comments visible until then."
        ),
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # Keys the HMAC that turns ballot primary keys into the open data's ballot ids: stable
    # across rebuilds (byte-identical exports), unlinkable to the database without it.
    # Never shown anywhere (docs/decisions/0012-open-data-and-publication.md).
    open_data_secret = models.CharField(max_length=64, default=new_open_data_secret, editable=False)

    objects = ConsultationQuerySet.as_manager()

    class Meta:
        ordering = ["-opens_at", "-created_at"]
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        constraints = [
            models.CheckConstraint(
                condition=Q(ranking_size__gte=1) & Q(ranking_size__lte=20),
                name="consultation_ranking_size_1_20",
            ),
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(closes_at__gt=models.F("opens_at")),
                name="consultation_closes_after_opening",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("consultation:detail", kwargs={"slug": self.slug})

    def accepts_participation(self, now: datetime | None = None) -> bool:
        """Open, and its closing time not yet reached (the periodic job may lag behind)."""
        now = now or timezone.now()
        return self.status == self.Status.OPEN and (self.closes_at is None or now < self.closes_at)

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.CLOSED, self.Status.PUBLISHED)


class Theme(Localized, models.Model):
    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="themes")
    slug = models.SlugField(max_length=60)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("name in English"), max_length=120, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["consultation", "slug"], name="theme_unique_slug"),
        ]

    def __str__(self):
        return self.name

    @property
    def display_name(self) -> str:
        return self.localized("name")


class Item(Localized, models.Model):
    """A measure, or a question, put to the public."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="items")
    theme = models.ForeignKey(
        Theme, null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("title in English"), max_length=200, blank=True)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    summary_en = models.CharField(_("summary in English"), max_length=500, blank=True)
    body = models.TextField(_("text (Markdown)"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    source_reference = models.CharField(_("source reference"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("item")
        verbose_name_plural = _("items")

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse(
            "consultation:item", kwargs={"slug": self.consultation.slug, "item_id": self.pk}
        )


class Membership(models.Model):
    """A role held in one consultation."""

    class Role(models.TextChoices):
        ORGANISER = "organiser", _("Organiser")
        MODERATOR = "moderator", _("Moderator")

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=12, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "user", "role"], name="membership_unique_role"
            ),
        ]

    def __str__(self):
        return f"{self.user} {self.role} {self.consultation}"
