"""The consultation card: the rule its organisers declare before anyone votes.

- ``card_of(consultation)``: its card (an unsaved default one if nobody wrote it yet: the
  default follows what is enabled, as migration 0011 chose for existing consultations);
- ``update_card(user, consultation, ...)``: the organisers' draft form; refused once the
  consultation has opened (and, whatever the code, by the database: migration 0011);
- ``check_ready(consultation)``: the lifecycle asks it before scheduling or opening;
- ``freeze(consultation, now)``: at opening, in the lifecycle's transaction, copies the
  consultation's settings into the card and sets ``frozen_at``;
- ``card_document(consultation)``: the card as a plain dict (format ``agora-card/1``), what
  every results version carries and the open-data manifest hashes (``card.json``).

docs/decisions/0035-declared-rule.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.types import Person
from consultation import permissions
from consultation.counting import METHODS
from consultation.counting.version import counting_version
from consultation.errors import Conflict, Invalid
from consultation.live import events
from consultation.models import Consultation, ConsultationCard

FORMAT = "agora-card/1"
Status = Consultation.Status
Method = ConsultationCard.Method

# A counting method's kind of ballots -> the consultation flag that enables it.
ENABLED_BY = {"ranking": "ranking_enabled", "grades": "grading_enabled", "votes": "voting_enabled"}


def available_methods(consultation: Consultation) -> list[str]:
    """The methods this consultation's enabled forms of participation can decide by."""
    return [
        name
        for name, method in METHODS.items()
        if getattr(consultation, ENABLED_BY[method.kind]) and name in Method.values
    ]


def default_method(consultation: Consultation) -> str:
    """Ranking enabled: Schulze; else grades: majority judgment; else the per-item majority."""
    if consultation.ranking_enabled:
        return Method.SCHULZE
    if consultation.grading_enabled:
        return Method.MAJORITY_JUDGMENT
    return Method.VOTES


def card_of(consultation: Consultation) -> ConsultationCard:
    card = ConsultationCard.objects.filter(consultation=consultation).first()
    if card is None:
        card = ConsultationCard(
            consultation=consultation, deciding_method=default_method(consultation)
        )
    return card


def _refuse_unless_method_enabled(consultation: Consultation, method: str) -> None:
    if method not in available_methods(consultation):
        # A Conflict: the periodic opening (lifecycle.advance_due) logs it and goes on.
        raise Conflict(
            "card_method_not_enabled",
            _(
                "The deciding method “%(method)s” counts ballots this consultation does not "
                "collect: enable them, or choose another method."
            )
            % {"method": Method(method).label},
        )


def update_card(
    user: Person,
    consultation: Consultation,
    *,
    deciding_method: str,
    tie_break: str,
    quorum: int | None,
) -> ConsultationCard:
    """Write the draft card. Only its organisers, and only while preparing."""
    permissions.require(
        permissions.can_manage(user, consultation),
        "not_organiser",
        _("Only the organisers of this consultation may do this."),
    )
    if tie_break not in ConsultationCard.TieBreak.values:
        raise Invalid("invalid_tie_break", _("Unknown tie-break."))
    if quorum is not None and quorum < 1:
        raise Invalid("invalid_quorum", _("The minimum turnout is at least 1, or empty."))
    with transaction.atomic():
        # Serialises with opening (the lifecycle takes the same lock): a change cannot slip
        # in while the card is being frozen.
        current = Consultation.objects.select_for_update().get(pk=consultation.pk)
        if not permissions.can_edit_card(user, current):
            raise Conflict(
                "card_frozen",
                _("The consultation card is frozen once the consultation has opened."),
            )
        _refuse_unless_method_enabled(current, deciding_method)
        card = card_of(current)
        card.deciding_method, card.tie_break, card.quorum = deciding_method, tie_break, quorum
        card.updated_at = timezone.now()
        card.save()
        events.changed(current)  # the anonymous page cache (decision 0039)
    return card


def check_ready(consultation: Consultation) -> None:
    """Refuse to schedule or open a consultation whose card decides by ballots it does not
    collect (its modes changed after the card was written)."""
    _refuse_unless_method_enabled(consultation, card_of(consultation).deciding_method)


def freeze(consultation: Consultation, now: datetime | None = None) -> ConsultationCard:
    """Copy the settings into the card and freeze it. Trusts its caller (the lifecycle's
    transition to ``open``, holding the consultation's row lock); a card already frozen is
    left as it is."""
    card = card_of(consultation)
    if card.is_frozen:
        return card
    _refuse_unless_method_enabled(consultation, card.deciding_method)
    for name, value in _live_settings(consultation).items():
        setattr(card, name, value)
    card.frozen_at = card.updated_at = now or timezone.now()
    card.save()
    return card


def _live_settings(consultation: Consultation) -> dict[str, Any]:
    return {
        "ranking_size": consultation.ranking_size if consultation.ranking_enabled else None,
        "grade_scale": consultation.grade_scale if consultation.grading_enabled else None,
        "eligibility": consultation.eligibility,
        "results_visibility": consultation.results_visibility,
        "min_group": settings.OPEN_DATA_MIN_GROUP,
        "counting_version": counting_version(),
    }


def card_document(consultation: Consultation, card: ConsultationCard | None = None) -> dict:
    """The card as plain JSON: frozen values once frozen, the live settings before."""
    card = card or card_of(consultation)
    values = (
        {name: getattr(card, name) for name in _live_settings(consultation)}
        if card.is_frozen
        else _live_settings(consultation)
    )
    return {
        "format": FORMAT,
        "consultation": consultation.slug,
        "deciding_method": card.deciding_method,
        "tie_break": card.tie_break,
        "quorum": card.quorum,
        **values,
        "frozen_at": card.frozen_at.isoformat() if card.frozen_at else None,
        "declared_after_opening": card.declared_after_opening,
    }


def rows(document: dict) -> list[tuple[str, Any]]:
    """The card as (label, value) rows in the active language, for every page showing it
    (a document from ``card_document`` or a published ``results.json``'s ``card``)."""
    method = document.get("deciding_method", "")
    tie_break = document.get("tie_break", "")
    quorum = document.get("quorum")
    out = [
        (
            gettext("Deciding method"),
            Method(method).label if method in Method.values else method,
        ),
        (
            gettext("Tie-break"),
            ConsultationCard.TieBreak(tie_break).label
            if tie_break in ConsultationCard.TieBreak.values
            else tie_break,
        ),
        (
            gettext("Minimum turnout"),
            gettext("%(n)d participants") % {"n": quorum} if quorum else gettext("none"),
        ),
    ]
    if document.get("ranking_size"):
        out.append((gettext("Ranking size (K)"), str(document["ranking_size"])))
    if document.get("grade_scale"):
        out.append((gettext("Grade scale"), str(document["grade_scale"])))
    eligibility = document.get("eligibility", "")
    if eligibility in Consultation.Eligibility.values:
        out.append((gettext("Who may take part"), Consultation.Eligibility(eligibility).label))
    visibility = document.get("results_visibility", "")
    if visibility in Consultation.ResultsVisibility.values:
        out.append((gettext("Results"), Consultation.ResultsVisibility(visibility).label))
    if document.get("min_group"):
        out.append((gettext("Small-group threshold"), str(document["min_group"])))
    out.append((gettext("Counting code version"), document.get("counting_version", "")))
    return out
