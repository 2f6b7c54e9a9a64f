"""The notification settings form: a channel per kind of notice, and whether the personal
results e-mail recalls the person's own choices. Moderation decisions and appeal
outcomes cannot be "never" (``preferences.ALWAYS_ON_SITE``): their select offers it not,
and says why."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from consultation.models import Channel, Notice
from consultation.notices import preferences

DUE_PROCESS_HELP = _(
    "Moderation decisions and appeal outcomes concern your rights: they always stay on your "
    "notices page. You may stop their e-mails, not the notice."
)


def field_name(kind: str) -> str:
    return f"channel_{kind}"


class NoticeSettingsForm(forms.Form):
    show_own_choices = forms.BooleanField(
        label=_("Recall my own choices (my votes, grades, ranking) in the personal results e-mail"),
        help_text=_(
            "Off by default: the e-mail then says which measures you took part on and what "
            "became of them, without repeating how you voted."
        ),
        required=False,
    )

    def __init__(
        self, *args: Any, current: dict[str, str], show_own_choices: bool, **kwargs: Any
    ) -> None:
        initial: dict[str, object] = {field_name(k): channel for k, channel in current.items()}
        initial["show_own_choices"] = show_own_choices
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        labels = dict(Channel.choices)
        for kind, label in Notice.Kind.choices:
            allowed = preferences.choices_for(kind)
            field = forms.ChoiceField(
                label=label,
                choices=[(value, labels[value]) for value in allowed],
                help_text=DUE_PROCESS_HELP if kind in preferences.ALWAYS_ON_SITE else "",
            )
            self.fields[field_name(kind)] = field
        # The kinds first, in their order; the personal results' option last.
        self.order_fields([*(field_name(kind) for kind in Notice.Kind.values), "show_own_choices"])

    def kind_fields(self) -> list[forms.BoundField]:
        return [self[field_name(kind)] for kind in Notice.Kind.values]

    def chosen(self) -> dict[str, str]:
        return {kind: self.cleaned_data[field_name(kind)] for kind in Notice.Kind.values}
