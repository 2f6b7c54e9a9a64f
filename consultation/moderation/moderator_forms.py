"""The forms of the moderators' space: a decision on a comment (a charter rule and a note),
a suspension (the same, a duration and, for staff, a scope), lifting one, the answer to an
appeal.

They parse and render; the rules (which rule, when a note is required, how long a note
or a suspension may be, who may decide) are ``decisions``' and ``appeals``', whose
refusals the views attach to the field they concern with ``attach``. Each entry of a
page has its own forms: a ``prefix`` per comment or appeal keeps names and ids apart.
"""

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from config.forms import SafeTextForm
from consultation.errors import Refused
from consultation.moderation.charter import CharterText
from consultation.moderation.decisions import MAX_SUSPENSION_DAYS

# Which field a refusal from the domain is about; anything else is shown above the form.
REFUSAL_FIELDS = {
    "unknown_rule": "rule",
    "note_required": "note",
    "note_too_long": "note",
    "bad_duration": "days",
    "reason_required": "reason",
}

SCOPE_HERE = "consultation"
SCOPE_EVERYWHERE = "site"


def rule_choices(charter: CharterText) -> list[tuple[str, str]]:
    """The charter's rules, numbered, in its own words."""
    return [(rule.code, f"{rule.number}. {rule.title}") for rule in charter.rules]


def attach(form: forms.Form, refusal: Refused) -> None:
    """Show ``refusal.message`` next to its field (or above the form)."""
    if not hasattr(form, "cleaned_data"):
        form.is_valid()
    field = REFUSAL_FIELDS.get(refusal.code)
    form.add_error(field if field in form.fields else None, str(refusal.message))


class DecisionForm(SafeTextForm, forms.Form):
    """Hide, restore, dismiss, lock, unlock, warn: the rule applied and a note for the
    person concerned (the public log never shows it)."""

    rule = forms.CharField(
        label=pgettext_lazy("moderators", "Rule of the charter"),
        required=False,
        widget=forms.Select,
    )
    note = forms.CharField(
        label=_("Note to the author (optional, required for “Other”)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, charter: CharterText, **kwargs: Any):
        super().__init__(*args, **kwargs)
        widget = cast(forms.Select, self.fields["rule"].widget)
        choose = pgettext_lazy("moderators", "Choose a rule")
        widget.choices = [("", choose), *rule_choices(charter)]


class SuspendForm(DecisionForm):
    """Suspend the comment's author: here for some days or until lifted; staff may
    suspend them from every consultation."""

    days = forms.IntegerField(
        label=_("Number of days (leave empty: until lifted)"),
        required=False,
        min_value=1,
        max_value=MAX_SUSPENSION_DAYS,
    )
    scope = forms.ChoiceField(
        label=pgettext_lazy("moderators", "Where"),
        choices=[
            (SCOPE_HERE, _("In this consultation")),
            (SCOPE_EVERYWHERE, _("In every consultation (site staff)")),
        ],
        initial=SCOPE_HERE,
        required=False,
    )

    def __init__(self, *args: Any, site_wide: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not site_wide:
            del self.fields["scope"]

    def everywhere(self) -> bool:
        return self.cleaned_data.get("scope") == SCOPE_EVERYWHERE


class LiftForm(DecisionForm):
    """Lift the author's current suspension (the one the page showed: a colleague who
    lifted it first makes this a conflict, never another suspension lifted instead)."""

    suspension = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)


class AppealAnswerForm(SafeTextForm, forms.Form):
    reason = forms.CharField(
        label=_("Reason for your answer (told to the person who appealed)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "required": True}),
    )
