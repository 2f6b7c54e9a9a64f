"""Forms for the public and participation pages.

They parse and render; the rules (which choices, grades, ballots and comments are
acceptable) belong to ``consultation.participation.voting`` and
``consultation.participation.debate``, whose refusals the views attach to the field
they concern with ``attach_refusal``.
"""

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from config.forms import SafeTextForm
from consultation import grades
from consultation.errors import Refused
from consultation.models import Comment, Item, Vote
from consultation.participation import debate

# Which field a refusal from the domain is about; anything else is shown above the form.
REFUSAL_FIELDS = {
    "invalid_choice": "choice",
    "invalid_grade": "grade",
    "empty_comment": "body",
    "comment_too_long": "body",
    "invalid_stance": "stance",
}


def attach_refusal(form: forms.Form, refusal: Refused, field: str | None = None) -> None:
    """Show ``refusal.message`` next to its field (or above the form)."""
    if not hasattr(form, "cleaned_data"):
        form.is_valid()
    field = field or REFUSAL_FIELDS.get(refusal.code)
    form.add_error(field if field in form.fields else None, str(refusal.message))


class ItemFilterForm(SafeTextForm, forms.Form):
    """Search, theme filter and order of the items on a consultation page (GET)."""

    q = forms.CharField(
        label=_("Search the items"), required=False, max_length=200, widget=forms.SearchInput
    )
    theme = forms.ChoiceField(label=_("Theme"), required=False)
    sort = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[
            ("", _("As the organisers ordered them")),
            ("title", _("By title, A to Z")),
            ("comments", _("Most commented first")),
        ],
    )

    def __init__(self, *args, themes=(), **kwargs):
        kwargs.setdefault("auto_id", "filter_%s")
        super().__init__(*args, **kwargs)
        theme_field = cast(forms.ChoiceField, self.fields["theme"])  # declared above
        theme_field.choices = [("", _("All themes"))] + [
            (theme.slug, theme.display_name) for theme in themes
        ]

    def search_query(self) -> str:
        return self.cleaned_data.get("q", "") if self.is_valid() else ""

    def selected_theme(self) -> str:
        return self.cleaned_data.get("theme", "") if self.is_valid() else ""

    def order(self) -> str:
        """The order asked for: the consultation's (empty), "title" or "comments"."""
        return self.cleaned_data.get("sort", "") if self.is_valid() else ""


class VoteForm(forms.Form):
    choice = forms.CharField(
        label=_("Your vote on this item"),
        required=False,
        widget=forms.RadioSelect(choices=Vote.Choice.choices),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "vote_%s")
        super().__init__(*args, **kwargs)


class GradeForm(forms.Form):
    grade = forms.CharField(label=_("Your grade for this item"), required=False)

    def __init__(self, *args: Any, scale: int, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "grade_%s")
        super().__init__(*args, **kwargs)
        self.fields["grade"].widget = forms.RadioSelect(choices=grades.choices(scale))


class CommentForm(SafeTextForm, forms.Form):
    """A new comment, a reply or an edit: ``auto_id`` keeps the ids of many on one page apart."""

    body = forms.CharField(
        label=_("Your comment"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": debate.MAX_LENGTH}),
    )
    stance = forms.CharField(
        label=_("Your position"),
        required=False,
        initial=Comment.Stance.NEUTRAL,
        widget=forms.RadioSelect(choices=Comment.Stance.choices),
    )

    def __init__(self, *args, body_label=None, **kwargs):
        kwargs.setdefault("auto_id", "comment_%s")
        super().__init__(*args, **kwargs)
        if body_label:
            self.fields["body"].label = body_label


class ThreadOptionsForm(SafeTextForm, forms.Form):
    """How to sort, filter and search the debate (GET). A field that does not parse is
    left at its default; the others still apply."""

    SORTS = [
        ("newest", _("Newest first")),
        ("useful", _("Most useful first")),
        ("replies", _("Most replied first")),
        ("oldest", _("Oldest first")),
    ]
    sort = forms.ChoiceField(label=_("Sort"), choices=SORTS, required=False)
    stance = forms.ChoiceField(
        label=_("Position"),
        choices=[("", _("All positions")), *Comment.Stance.choices],
        required=False,
    )
    q = forms.CharField(
        label=_("Search the comments"), required=False, max_length=200, widget=forms.SearchInput
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "thread_%s")
        super().__init__(*args, **kwargs)

    def _cleaned(self) -> dict:
        self.is_valid()
        return getattr(self, "cleaned_data", {})

    def options(self) -> dict:
        cleaned = self._cleaned()
        return {"sort": cleaned.get("sort") or "newest", "stance": cleaned.get("stance") or None}

    def search_query(self) -> str:
        return self._cleaned().get("q", "").strip()


class RankingForm(forms.Form):
    """One select per item ("not ranked", 1..K); turned into the ordered list of item ids
    that ``voting.submit_ballot`` takes. Gaps close up (1 and 3 make a first and a second);
    the same rank twice is an error next to each field that holds it."""

    def __init__(self, *args, consultation, items, ballot_ids=(), **kwargs):
        kwargs.setdefault("auto_id", "ranking_%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.k = consultation.ranking_size
        message = _("Choose a rank between 1 and %(k)d, or “not ranked”.") % {"k": self.k}
        choices = [("", _("Not ranked"))] + [(str(r), str(r)) for r in range(1, self.k + 1)]
        self.items = list(items)
        current = {item_id: rank for rank, item_id in enumerate(ballot_ids, start=1)}
        for item in self.items:
            self.fields[self.field_name(item)] = forms.IntegerField(
                label=item.display_title,
                required=False,
                min_value=1,
                max_value=self.k,
                initial=current.get(item.pk),
                widget=forms.Select(choices=choices),
                error_messages={"invalid": message, "min_value": message, "max_value": message},
            )

    @staticmethod
    def field_name(item: Item) -> str:
        return f"rank_{item.pk}"

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        holders: dict[int, list[str]] = {}
        for item in self.items:
            rank = cleaned.get(self.field_name(item))
            if rank is not None:
                holders.setdefault(rank, []).append(self.field_name(item))
        for rank, names in holders.items():
            if len(names) > 1:
                for name in names:
                    self.add_error(
                        name,
                        _("Rank %(rank)d is given to more than one item.") % {"rank": rank},
                    )
        return cleaned

    def ranked_fields(self) -> list[tuple[str, int]]:
        """(field name, item id) in ballot order, from a valid form."""
        ranked = [
            (self.cleaned_data[self.field_name(item)], self.field_name(item), item.pk)
            for item in self.items
            if self.cleaned_data.get(self.field_name(item)) is not None
        ]
        return [(name, item_id) for _rank, name, item_id in sorted(ranked)]

    def item_ids(self) -> list[int]:
        return [item_id for _name, item_id in self.ranked_fields()]

    def rows(self):
        """(item, bound field), in the current order: ranked first, then the others."""
        bound = [(item, self[self.field_name(item)]) for item in self.items]

        def key(pair):
            value = pair[1].value()
            try:
                return (0, int(value))
            except (TypeError, ValueError):
                return (1, 0)

        return sorted(bound, key=key)
