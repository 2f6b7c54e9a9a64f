"""Template helpers for the consultation pages: Markdown, grade labels, small reads."""

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import mark_safe

from consultation import grades
from consultation.models import Consultation

register = template.Library()

ALLOWED_TAGS = {
    "p", "a", "em", "strong", "ul", "ol", "li", "h2", "h3", "h4",
    "blockquote", "code", "pre", "br",
}  # fmt: skip


@register.filter
def markdown(text):
    """Organisers' Markdown, rendered then sanitised: what survives nh3 is safe to show."""
    html = markdown_lib.markdown(text or "", extensions=["sane_lists"])
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener",
    )
    return mark_safe(cleaned)  # noqa: S308 -- sanitised by nh3 just above


@register.filter
def grade_label(grade, scale):
    """The label of a stored grade (0 = worst) on a 6- or 7-grade scale."""
    try:
        return grades.labels(int(scale))[int(grade)]
    except (IndexError, TypeError, ValueError):
        return ""


@register.filter
def percent(count, total):
    """A whole percentage, 0 when there is nothing to divide."""
    try:
        return round(100 * int(count) / int(total)) if int(total) else 0
    except (TypeError, ValueError):
        return 0


@register.simple_tag
def open_consultations(limit=5):
    """For the home page, whose view knows nothing of consultations."""
    return list(Consultation.objects.open()[: int(limit)])
