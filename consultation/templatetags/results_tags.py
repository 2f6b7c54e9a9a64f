"""Template helpers for the results pages: shares as localised percentages."""

from django import template
from django.utils.formats import number_format
from django.utils.translation import get_language

register = template.Library()


@register.filter
def pct(share, digits=1):
    """A share (0 to 1) as "52,3 %" in French, "52.3%" in English; "–" when undefined."""
    if share is None or share == "":
        return "–"
    try:
        digits = int(digits)
        text = number_format(round(100 * float(share), digits), digits)
    except (TypeError, ValueError):
        return "–"
    return f"{text}%" if (get_language() or "fr").startswith("en") else f"{text}\u00a0%"
