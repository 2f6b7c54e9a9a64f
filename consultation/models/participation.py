"""What citizens write: votes, grades, ranking ballots, comments and reactions.

Written only through ``consultation.participation.voting`` and
``consultation.participation.debate``; the invariants that matter (one vote per citizen per
item, one ballot per citizen, distinct ranks and items within a ballot) are database
constraints as well.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consultation.models.consultations import Consultation, Item

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
        # What changed lately, for the live counters' minute pass (consultation.live.repair).
        indexes = [models.Index(fields=["item", "updated_at"], name="vote_item_updated")]

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
        indexes = [models.Index(fields=["item", "updated_at"], name="grade_item_updated")]

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
        indexes = [
            models.Index(fields=["consultation", "updated_at"], name="ballot_consultation_updated")
        ]

    def __str__(self):
        return f"ballot {self.pk} in consultation {self.consultation_id}"

    # The ranking as the write that recorded it knows it (voting.submit_ballot), so that
    # answering it takes no further read; not a column.
    ranked: list[int] | None = None

    def ranked_item_ids(self) -> list[int]:
        if self.ranked is not None:
            return list(self.ranked)
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
    # ``queries.fold`` of the body (case, accents and ligatures folded), written with it
    # (``participation.debate``; empty once erased), so that searching a debate folds only
    # the query, on every database (``participation.thread_search``).
    folded_body = models.TextField(blank=True, default="", editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Deleted by its author (or the author's account deleted): the row stays so that
    # replies keep their place, shown as a placeholder.
    deleted_at = models.DateTimeField(null=True, blank=True)

    # Moderation (``consultation.moderation``): a held comment awaits review (its text
    # withheld from others, the notice shown in its place); a hidden one shows the rule
    # it broke. Its author always reads their own text. Replies stay readable either way.
    class Moderation(models.TextChoices):
        VISIBLE = "visible", _("Visible")
        HELD = "held", _("Awaiting review")
        HIDDEN = "hidden", _("Hidden by moderation")

    class Held(models.TextChoices):
        REPORTS = "reports", _("reported by several participants")
        REPEATED = "repeated", _("the same text was posted repeatedly")

    moderation = models.CharField(max_length=8, choices=Moderation.choices, default="visible")
    held_because = models.CharField(max_length=8, choices=Held.choices, blank=True)
    # The rule a hidden comment broke, as the decision gave it.
    hidden_rule = models.CharField(max_length=16, blank=True)
    hidden_rule_number = models.PositiveSmallIntegerField(null=True, blank=True)
    # A locked thread takes no more replies (set on the comment the lock is on).
    locked_at = models.DateTimeField(null=True, blank=True)

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

    @property
    def is_hidden(self) -> bool:
        return self.moderation == self.Moderation.HIDDEN

    @property
    def is_held(self) -> bool:
        return self.moderation == self.Moderation.HELD

    @property
    def is_withheld(self) -> bool:
        """Its text is not shown to others (hidden or awaiting review)."""
        return self.moderation != self.Moderation.VISIBLE


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
