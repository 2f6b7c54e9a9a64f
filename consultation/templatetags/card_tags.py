"""``{% consultation_card consultation as card %}``: the declared rule, for the pages that show
it (the consultation page; results pages read it from the published document instead)."""

from typing import Any

from django import template

from consultation.models import Consultation
from consultation.organising import card

register = template.Library()


@register.simple_tag
def consultation_card(consultation: Consultation) -> dict[str, Any]:
    current = card.card_of(consultation)
    document = card.card_document(consultation, current)
    return {
        "rows": card.rows(document),
        "method": document["deciding_method"],
        "frozen_at": current.frozen_at,
        "declared_after_opening": current.declared_after_opening,
    }
