"""The consultation card: the rule declared before anyone votes (issue 14, decision 0035).

One card per consultation. While the consultation is a draft (or scheduled), its organisers
choose the deciding method, its tie-break and a quorum; the rest of the card (K, the grade
scale, eligibility, results visibility, the small-group threshold, the counting code's
version) is the consultation's own settings, read live. At opening
(``consultation.organising.card.freeze``, called by the lifecycle) every field is copied
into the row and ``frozen_at`` is set; from then on a database trigger (migration 0010)
refuses any UPDATE of the row, on SQLite and PostgreSQL alike.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consultation.models.consultations import Consultation


class ConsultationCard(models.Model):
    class Method(models.TextChoices):
        VOTES = "votes", _("Per-item majority (for / against / abstain)")
        MAJORITY_JUDGMENT = "majority_judgment", _("Majority judgment")
        SCHULZE = "schulze", _("Schulze method")
        BORDA = "borda", _("Borda count")
        INSTANT_RUNOFF = "instant_runoff", _("Instant-runoff voting")
        COPELAND = "copeland", _("Copeland (Condorcet pairwise wins)")

    class TieBreak(models.TextChoices):
        DRAW = "draw", _("A random draw, with a seed published with the results")
        SHARED = "shared", _("No tie-break: tied items share their place")

    FROZEN_FIELDS = (
        "consultation_id",
        "deciding_method",
        "tie_break",
        "quorum",
        "ranking_size",
        "grade_scale",
        "eligibility",
        "results_visibility",
        "min_group",
        "counting_version",
        "declared_after_opening",
        "frozen_at",
    )

    consultation = models.OneToOneField(
        Consultation, on_delete=models.CASCADE, primary_key=True, related_name="card"
    )
    deciding_method = models.CharField(_("deciding method"), max_length=20, choices=Method.choices)
    tie_break = models.CharField(
        _("tie-break"), max_length=8, choices=TieBreak.choices, default=TieBreak.DRAW
    )
    quorum = models.PositiveIntegerField(
        _("minimum turnout"),
        null=True,
        blank=True,
        help_text=_(
            "The outcome stands only if at least this many people took part in the deciding "
            "method's ballots. Leave empty for no minimum."
        ),
    )
    # Copied from the consultation (and the settings) at opening; NULL/empty before.
    ranking_size = models.PositiveSmallIntegerField(null=True, blank=True)
    grade_scale = models.PositiveSmallIntegerField(null=True, blank=True)
    eligibility = models.CharField(max_length=20, blank=True)
    results_visibility = models.CharField(max_length=12, blank=True)
    min_group = models.PositiveIntegerField(null=True, blank=True)
    counting_version = models.CharField(max_length=80, blank=True)
    # True for the cards migration 0010 wrote for consultations already open by then: their
    # rule was chosen by the software update, not declared before the vote. The card says so.
    declared_after_opening = models.BooleanField(default=False)
    frozen_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("consultation card")
        verbose_name_plural = _("consultation cards")
        constraints = [
            models.CheckConstraint(
                condition=Q(quorum__isnull=True) | Q(quorum__gte=1),
                name="card_quorum_at_least_one",
            ),
        ]

    def __str__(self):
        return f"card of consultation {self.consultation_id}"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None
