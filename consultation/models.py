"""The consultation domain: consultations, their items, roles, and participation.

Participation rows (votes, grades, ranking ballots, comments) are written only
through ``consultation.participation.voting`` and ``consultation.participation.debate``;
the invariants that matter (one vote per citizen per item, one ballot per citizen, distinct
ranks and items within a ballot) are database constraints as well.
"""

import json
import secrets
from datetime import datetime
from functools import cached_property

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


# --- Participation ------------------------------------------------------------------
# `user` is NULL once a closed consultation's ballot has been anonymised (account
# deleted): the ballot still counts, but belongs to nobody. Unique constraints treat
# NULLs as distinct, so anonymous rows never collide.


class Vote(models.Model):
    class Choice(models.TextChoices):
        FOR = "for", _("For")
        AGAINST = "against", _("Against")
        ABSTAIN = "abstain", _("Abstain")

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="votes"
    )
    choice = models.CharField(max_length=8, choices=Choice.choices)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "user"], name="vote_one_per_citizen_per_item"),
            models.CheckConstraint(
                condition=Q(choice__in=["for", "against", "abstain"]), name="vote_valid_choice"
            ),
        ]

    def __str__(self):
        return f"vote on item {self.item_id}"  # never who, never how


class Grade(models.Model):
    """A majority-judgment grade: 0 is the worst ("À rejeter"), scale-1 the best."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="grades")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="grades"
    )
    grade = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "user"], name="grade_one_per_citizen_per_item"),
            models.CheckConstraint(condition=Q(grade__lte=6), name="grade_within_scale"),
        ]

    def __str__(self):
        return f"grade on item {self.item_id}"


class Ballot(models.Model):
    """A citizen's ranking: up to K distinct items of one consultation, in order."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="ballots")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="ballots"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consultation", "user"], name="ballot_one_per_citizen"),
        ]

    def __str__(self):
        return f"ballot {self.pk} in consultation {self.consultation_id}"

    def ranked_item_ids(self) -> list[int]:
        return [entry.item_id for entry in self.entries.order_by("rank")]


class BallotEntry(models.Model):
    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="entries")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="ballot_entries")
    rank = models.PositiveSmallIntegerField()  # 1 = first choice

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(fields=["ballot", "rank"], name="ballot_entry_unique_rank"),
            models.UniqueConstraint(fields=["ballot", "item"], name="ballot_entry_unique_item"),
            models.CheckConstraint(condition=Q(rank__gte=1), name="ballot_entry_rank_positive"),
            # No ballot ranks more than the largest K (ranking_size ≤ 20) allows; the K of
            # its own consultation is another table's: the domain checks that one.
            models.CheckConstraint(
                condition=Q(rank__lte=20), name="ballot_entry_rank_within_largest_k"
            ),
        ]

    def __str__(self):
        return f"rank {self.rank}: item {self.item_id}"


class CommentQuerySet(models.QuerySet):
    def with_useful_count(self):
        return self.annotate(useful_count=models.Count("reactions", distinct=True))


class Comment(models.Model):
    class Stance(models.TextChoices):
        FOR = "for", _("For")
        NEUTRAL = "neutral", _("Neutral")
        AGAINST = "against", _("Against")

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="comments"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    stance = models.CharField(max_length=8, choices=Stance.choices, default=Stance.NEUTRAL)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Deleted by its author (or the author's account deleted): the row stays so that
    # replies keep their place, shown as a placeholder.
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = CommentQuerySet.as_manager()

    # Set on the comments ``queries.comment_thread`` returns (the viewer's own "useful"
    # mark, beside the ``useful_count`` annotation), absent on others: for mypy, no column.
    marked_useful: bool

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"comment {self.pk} on {self.item_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class CommentRevision(models.Model):
    """A comment's earlier text, kept when its author edits it."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    stance = models.CharField(max_length=8, choices=Comment.Stance.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"revision of comment {self.comment_id}"


class CommentReaction(models.Model):
    """ "Useful": one per citizen per comment."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comment_reactions"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "user"], name="reaction_one_per_citizen"),
        ]

    def __str__(self):
        return f"useful mark on comment {self.comment_id}"


# --- Results and publication -----------------------------------------------------------
# Written only through ``consultation.results``. The JSON documents are kept as the exact
# text of the files anyone downloads (PostgreSQL's jsonb would reorder their keys), so
# their SHA-256 can be checked against the manifest.


class ComputedResult(models.Model):
    """The latest computation of a consultation's results, one row per kind.

    ``provisional``: refreshed periodically while a live-results consultation is open
    (never published). ``final``: computed once the vote closes, with the open-data files
    in ``directory``; this is what the organiser reviews and publishes.
    """

    class Kind(models.TextChoices):
        PROVISIONAL = "provisional", _("Provisional")
        FINAL = "final", _("Final")

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="computed_results"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    results_json = models.TextField()
    manifest_json = models.TextField(blank=True)
    directory = models.CharField(max_length=300, blank=True)  # relative to MEDIA_ROOT
    computed_at = models.DateTimeField(default=timezone.now)

    # Set on the row ``results.computing.compute_results`` returns: whether this
    # computation changed what was stored. Declared for mypy, no column.
    changed: bool

    class Meta:
        verbose_name = _("computed result")
        verbose_name_plural = _("computed results")
        constraints = [
            models.UniqueConstraint(fields=["consultation", "kind"], name="computed_result_unique"),
        ]

    def __str__(self):
        return f"{self.kind} results of consultation {self.consultation_id}"

    @property
    def results(self) -> dict:
        return json.loads(self.results_json)

    @property
    def manifest(self) -> dict:
        return json.loads(self.manifest_json) if self.manifest_json else {}


class PublicationQuerySet(models.QuerySet):
    def latest_first(self):
        return self.order_by("-version")


class Publication(models.Model):
    """One published version of a consultation's results: frozen once created.

    Nothing updates a publication: the model refuses a second save, the admin shows it
    read-only, and a database trigger (migration 0002) rejects any UPDATE of its frozen
    columns. Only ``published_by`` may become NULL when that account is deleted; the
    name stays in ``published_by_name``. Republishing creates version n + 1.
    """

    FROZEN_FIELDS = (
        "consultation_id",
        "version",
        "published_by_name",
        "published_at",
        "note",
        "results_json",
        "manifest_json",
    )

    consultation = models.ForeignKey(
        Consultation, on_delete=models.PROTECT, related_name="publications"
    )
    version = models.PositiveIntegerField(_("version"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_by_name = models.CharField(_("published by"), max_length=120)
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)
    results_json = models.TextField()
    manifest_json = models.TextField()

    objects = PublicationQuerySet.as_manager()

    class Meta:
        ordering = ["consultation", "-version"]
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "version"], name="publication_unique_version"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="publication_version_1"),
        ]

    def __str__(self):
        return f"results v{self.version} of consultation {self.consultation_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("a publication is never changed: publish a new version instead")
        super().save(*args, **kwargs)

    # Parsed once per instance: the texts are frozen.
    @cached_property
    def results(self) -> dict:
        return json.loads(self.results_json)

    @cached_property
    def manifest(self) -> dict:
        return json.loads(self.manifest_json)


class OfficialResponse(models.Model):
    """The organisers' answer to an item ("what we will do with it").

    Drafted while the consultation is closed or published; each publication freezes the
    text it had at that moment (``consultation.results.publishing.set_official_response``).
    """

    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="official_response")
    text = models.TextField(_("official response"))
    text_en = models.TextField(_("official response in English"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("official response")
        verbose_name_plural = _("official responses")

    def __str__(self):
        return f"official response to item {self.item_id}"
