"""The site's form helpers: free-text fields that refuse invisible control characters,
and a renderer that never echoes one back into the page.

``SafeTextForm`` (a mixin for every form a person types text into) gives each free-text
field the rule of ``config.text``: a control, bidi-override or other refused character is
an error next to the field, naming the character, so the person knows what to remove.
Multi-line fields (a ``Textarea``) keep tabs and line breaks.

The re-rendered form would then write the character back, in the field's value or in an
error message ("… is not one of the available choices"); a page holding a control
character is not valid HTML, and a bidi override would reverse the text after it. This
renderer shows U+FFFD in its place. Only what is displayed changes: validation sees
exactly what was posted. Set as ``FORM_RENDERER``, it covers every form, field and error
list: ours, allauth's, the admin's.
"""

from typing import TYPE_CHECKING

from django import forms
from django.forms.renderers import DjangoTemplates

from config.text import SafeText, printable

if TYPE_CHECKING:
    from django.forms import BaseForm as _Form  # for mypy: what the mixin goes before
else:
    _Form = object


def is_free_text(field: forms.Field) -> bool:
    """A field a person types words into (not a password, not a hidden value)."""
    return isinstance(field, forms.CharField) and not isinstance(
        field.widget, forms.PasswordInput | forms.HiddenInput
    )


class SafeTextForm(_Form):
    """Mixin (before ``forms.Form`` or ``forms.ModelForm``): free-text fields refuse what
    ``config.text`` refuses. Attached when the form is cleaned, so that fields a form
    adds or disables in its ``__init__`` are covered, and a disabled field (showing what
    is stored, not what was posted) is left alone."""

    def full_clean(self) -> None:
        for field in self.fields.values():
            if not is_free_text(field) or field.disabled:
                continue
            if not any(isinstance(validator, SafeText) for validator in field.validators):
                multiline = isinstance(field.widget, forms.Textarea)
                field.validators.append(SafeText(multiline=multiline))
        super().full_clean()


class FormRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        # Callers (forms, widgets, error lists) mark the result safe themselves.
        return printable(super().render(template_name, context, request=request))
