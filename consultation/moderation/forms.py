"""The forms citizens meet in moderation: reporting a comment, appealing a decision.

They parse and render; the rules (which rule, when a text is required, how long it may be,
who may report or appeal) are ``consultation.moderation.reports`` and ``appeals``', whose
refusals the views attach to the field they concern with ``attach``.
"""

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from config.forms import SafeTextForm
from consultation.errors import Refused
from consultation.moderation.charter import CharterText

# Which field a refusal from the domain is about; anything else is shown above the form.
REFUSAL_FIELDS = {
    "unknown_rule": "rule",
    "text_required": "text",
    "report_too_long": "text",
    "appeal_too_long": "text",
}


def attach(form: forms.Form, refusal: Refused) -> None:
    """Show ``refusal.message`` next to its field (or above the form)."""
    if not hasattr(form, "cleaned_data"):
        form.is_valid()
    field = REFUSAL_FIELDS.get(refusal.code)
    form.add_error(field if field in form.fields else None, str(refusal.message))


class ReportForm(SafeTextForm, forms.Form):
    """Report a comment under a rule of the consultation's charter (its numbered titles)."""

    rule = forms.CharField(
        label=_("Rule of the charter this comment breaks"), required=False, widget=forms.Select
    )
    text = forms.CharField(
        label=_("Details (required for “Other”)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, charter: CharterText, comment_id: int, **kwargs: Any):
        kwargs.setdefault("auto_id", f"report{comment_id}_%s")
        super().__init__(*args, **kwargs)
        widget = cast(forms.Select, self.fields["rule"].widget)
        widget.choices = [("", _("Choose the rule it breaks")), *charter_choices(charter)]


def charter_choices(charter: CharterText) -> list[tuple[str, str]]:
    return [(rule.code, f"{rule.number}. {rule.title}") for rule in charter.rules]


class AppealForm(SafeTextForm, forms.Form):
    text = forms.CharField(
        label=_("Why do you think this decision is wrong?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("auto_id", "appeal_%s")
        super().__init__(*args, **kwargs)
