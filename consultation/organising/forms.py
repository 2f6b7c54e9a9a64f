"""Forms of the organiser space. They parse and check input; the writes are in
``consultation.organising.consultations``, ``.importing`` and ``.lifecycle``."""

from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.forms import SafeTextForm
from consultation.models import Consultation, ConsultationCard, Item, Membership, Rule, Theme
from consultation.moderation import charter
from consultation.organising import card, consultations, importing
from consultation.results import publishing

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
# Paths of the organiser space that a consultation's address would shadow.
RESERVED_SLUGS = {"nouvelle"}
# Reports (weighted) before a comment is set aside for review: beyond this, never reached.
MAX_QUARANTINE_THRESHOLD = 100


class ConsultationForm(SafeTextForm, forms.ModelForm):
    themes = forms.CharField(
        label=_("Themes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "One theme per line. Add the English name after a vertical bar: "
            "“Santé | Health”. Removing a theme leaves its items without a theme."
        ),
    )

    class Meta:
        model = Consultation
        fields = [
            "title",
            "title_en",
            "slug",
            "summary",
            "summary_en",
            "description",
            "themes",
            "voting_enabled",
            "grading_enabled",
            "ranking_enabled",
            "comments_enabled",
            "ranking_size",
            "grade_scale",
            "eligibility",
            "results_visibility",
            "quarantine_threshold",
        ]
        help_texts = {
            "slug": _(
                "Part of the public address: lowercase letters, digits and hyphens. "
                "It cannot change once the consultation has opened."
            ),
            "summary": _("One or two sentences, shown in lists."),
            "ranking_size": _("How many items each citizen ranks, from 1 to 20."),
        }
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 2}),
            "summary_en": forms.Textarea(attrs={"rows": 2}),
            "description": forms.Textarea(attrs={"rows": 8}),
            "ranking_size": forms.NumberInput(attrs={"min": 1, "max": 20}),
            "quarantine_threshold": forms.NumberInput(
                attrs={"min": 1, "max": MAX_QUARANTINE_THRESHOLD}
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["themes"].initial = consultations.theme_lines(self.instance)
            if not consultations.is_preparing(self.instance):
                # Shown, but fixed: Django ignores posted values of disabled fields.
                for name in [*consultations.SETTINGS_FIELDS, "themes"]:
                    self.fields[name].disabled = True

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError(_("This address is reserved: choose another."))
        return slug

    def clean_ranking_size(self):
        size = self.cleaned_data["ranking_size"]
        if not 1 <= size <= 20:
            raise forms.ValidationError(_("Choose a number between 1 and 20."))
        return size

    def clean_quarantine_threshold(self):
        threshold = self.cleaned_data["quarantine_threshold"]
        if threshold is not None and not 1 <= threshold <= MAX_QUARANTINE_THRESHOLD:
            raise forms.ValidationError(
                _("Choose a number between 1 and %(max)d, or leave it empty.")
                % {"max": MAX_QUARANTINE_THRESHOLD}
            )
        return threshold

    def clean_themes(self):
        themes = consultations.parse_theme_lines(self.cleaned_data["themes"])
        limit = importing.max_length(Theme, "name")
        names = [name.casefold() for name, _en in themes]
        if any(not name for name in names):
            raise forms.ValidationError(_("Each theme needs a French name before the bar."))
        if limit and any(len(name) > limit or len(en) > limit for name, en in themes):
            raise forms.ValidationError(
                _("A theme name has at most %(max)s characters.") % {"max": limit}
            )
        if len(set(names)) != len(names):
            raise forms.ValidationError(_("A theme is listed twice."))
        return themes

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        modes = ("voting_enabled", "grading_enabled", "ranking_enabled", "comments_enabled")
        if not any(cleaned.get(mode) for mode in modes):
            self.add_error(
                "voting_enabled", _("Choose at least one way for citizens to take part.")
            )
        return cleaned

    def consultation_fields(self) -> dict:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "themes" and not self.fields[name].disabled
        }

    def theme_list(self):
        return None if self.fields["themes"].disabled else self.cleaned_data["themes"]


class ItemForm(SafeTextForm, forms.ModelForm):
    class Meta:
        model = Item
        fields = ["title", "title_en", "theme", "summary", "summary_en", "body", "source_reference"]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 2}),
            "summary_en": forms.Textarea(attrs={"rows": 2}),
            "body": forms.Textarea(attrs={"rows": 10}),
        }
        help_texts = {
            "source_reference": _("Where the item comes from, e.g. a report and its page."),
        }

    def __init__(self, *args: Any, consultation: Consultation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        theme = cast(forms.ModelChoiceField, self.fields["theme"])  # the model's foreign key
        theme.queryset = consultation.themes.all()
        self.fields["theme"].label = _("Theme")
        self.consultation = consultation

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        others = self.consultation.items.exclude(pk=self.instance.pk)
        if others.filter(title__iexact=title).exists():
            raise forms.ValidationError(_("Another item already has this title."))
        return title


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=DATETIME_LOCAL)


class ScheduleForm(forms.Form):
    opens_at = forms.DateTimeField(
        label=_("Opens at"), widget=DateTimeLocalInput, input_formats=[DATETIME_LOCAL]
    )
    closes_at = forms.DateTimeField(
        label=_("Closes at"), widget=DateTimeLocalInput, input_formats=[DATETIME_LOCAL]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone_name()
        for name in ("opens_at", "closes_at"):
            self.fields[name].help_text = _("Time zone: %(zone)s.") % {"zone": zone}

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        opens_at, closes_at = cleaned.get("opens_at"), cleaned.get("closes_at")
        if opens_at and closes_at and closes_at <= opens_at:
            self.add_error("closes_at", _("The closing date must come after the opening date."))
        return cleaned


class CloseEarlyForm(SafeTextForm, forms.Form):
    reason = forms.CharField(
        label=_("Reason for closing early"),
        max_length=Consultation._meta.get_field("closing_reason").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown to the public on the consultation page."),
    )


class MemberForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address of the account"),
        help_text=_("The person must already have an account."),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File (CSV or JSON)"),
        widget=forms.FileInput(attrs={"accept": ".csv,.json,text/csv,application/json"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "At most %(size)s kB and %(rows)s items. Columns: %(columns)s. "
            "Only “title” is required."
        ) % {
            "size": importing.MAX_BYTES // 1024,
            "rows": importing.MAX_ROWS,
            "columns": ", ".join(importing.COLUMNS),
        }

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > importing.MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large: %(size)s kB, at most %(max)s kB.")
                % {"size": upload.size // 1024, "max": importing.MAX_BYTES // 1024}
            )
        return upload


class OfficialResponseForm(SafeTextForm, forms.Form):
    """The organisers' answer to one item; written by ``publishing.set_official_response``."""

    text = forms.CharField(
        label=_("Official response (French)"),
        required=False,
        max_length=publishing.MAX_RESPONSE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What you will do with this item. Leave empty for no response."),
    )
    text_en = forms.CharField(
        label=_("Official response in English (optional)"),
        required=False,
        max_length=publishing.MAX_RESPONSE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PublishForm(SafeTextForm, forms.Form):
    """Publishing the results: a note is required from the second version on."""

    note = forms.CharField(
        required=False,
        max_length=publishing.MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, new_version: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        note = self.fields["note"]
        if new_version:
            note.required = True
            note.label = _("Why publish a new version?")
            note.help_text = _("Shown to everyone with the new version, e.g. “Typo fixed”.")
            note.error_messages["required"] = _("Say why you publish a new version of the results.")
        else:
            note.label = _("Note (optional)")
            note.help_text = _("Shown to everyone with the results.")


def _default(wording: object) -> str:
    return _("Left empty: “%(wording)s”") % {"wording": wording}


class CharterForm(SafeTextForm, forms.Form):
    """The organisers' wording of the moderation charter, written by
    ``moderation.charter.save_charter``: an introduction, and a title and a text per rule.
    A field left empty reads as the default wording, shown in its help text."""

    intro = forms.CharField(
        label=_("Introduction"),
        required=False,
        max_length=charter.MAX_INTRO,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(
        self, *args: Any, saved_intro: str, saved_rules: dict[str, dict[str, str]], **kwargs: Any
    ) -> None:
        initial = {"intro": saved_intro}
        for code in Rule.values:
            wording = saved_rules.get(code) or {}
            initial[f"{code}_title"] = wording.get("title", "")
            initial[f"{code}_text"] = wording.get("text", "")
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.fields["intro"].help_text = _default(charter.DEFAULT_INTRO)
        self.rules: list[tuple[int, str, str]] = []  # (number, code, default title)
        for number, code in enumerate(Rule.values, start=1):
            rule = Rule(code)
            title = forms.CharField(
                label=_("Title of rule %(number)d") % {"number": number},
                required=False,
                max_length=charter.MAX_TITLE,
                help_text=_default(rule.label),
            )
            text = forms.CharField(
                label=_("Text of rule %(number)d") % {"number": number},
                required=False,
                max_length=charter.MAX_TEXT,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_default(charter.DEFAULT_TEXTS[rule]),
            )
            self.fields[f"{code}_title"] = title
            self.fields[f"{code}_text"] = text
            self.rules.append((number, code, str(rule.label)))

    def rule_fields(self) -> list[dict[str, Any]]:
        """Per rule, in the charter's order: its number, default title and bound fields."""
        return [
            {
                "number": number,
                "label": label,
                "title": self[f"{code}_title"],
                "text": self[f"{code}_text"],
            }
            for number, code, label in self.rules
        ]

    def wording(self) -> tuple[str, dict[str, dict[str, str]]]:
        """``(intro, rules)`` as ``save_charter`` takes them (empty fields left out)."""
        data = self.cleaned_data
        rules = {
            code: {"title": data[f"{code}_title"], "text": data[f"{code}_text"]}
            for code in Rule.values
            if data[f"{code}_title"] or data[f"{code}_text"]
        }
        return data["intro"], rules


class CardForm(forms.Form):
    """The consultation card's draft (``organising.card.update_card``): the deciding method,
    among those the consultation's enabled ballots can decide by, its tie-break, a quorum."""

    deciding_method = forms.ChoiceField(label=_("Deciding method"))
    tie_break = forms.ChoiceField(
        label=_("Tie-break"),
        choices=ConsultationCard.TieBreak.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Instant-runoff eliminations always fall back on the draw when the previous "
            "rounds do not separate the tied items; no order you chose is ever used."
        ),
    )
    quorum = forms.IntegerField(
        label=_("Minimum turnout"),
        required=False,
        min_value=1,
        max_value=100_000_000,
        help_text=ConsultationCard._meta.get_field("quorum").help_text,
    )

    def __init__(self, *args: Any, consultation: Consultation, **kwargs: Any) -> None:
        current = card.card_of(consultation)
        kwargs.setdefault(
            "initial",
            {
                "deciding_method": current.deciding_method,
                "tie_break": current.tie_break,
                "quorum": current.quorum,
            },
        )
        super().__init__(*args, **kwargs)
        available = card.available_methods(consultation)
        method_field = cast(forms.ChoiceField, self.fields["deciding_method"])
        method_field.choices = [
            (value, label) for value, label in ConsultationCard.Method.choices if value in available
        ]
