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

import secrets
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

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


class StampedForm:
    """A blank form rendered once, for the many copies a page shows of it (a reply form and
    a report form under every comment of a debate): each copy is the same HTML but for
    the ids its ``auto_id`` gives its fields and labels.

    ``StampedForm(lambda auto_id: CommentForm(auto_id=auto_id), "reply", ["body"])``
    renders the form's fields once, with a marker in place of the copy's key, and
    ``copy(comment.pk)`` answers, for a template, what the form with
    ``auto_id=f"reply{comment.pk}_%s"`` would (``non_field_errors``, ``errors``,
    ``form.<field>.as_field_group``): the same HTML, the marker replaced by the key.
    Rendering one field group costs about a millisecond; a debate page of ten comments
    asked for forty.

    Only for a blank form: a refused one carries its own values and errors and is
    rendered whole. The marker is random per process and replaced only where it follows
    the ``auto_id`` prefix, so text in a label or a choice (a charter's rule, written by
    organisers) cannot be taken for it.
    """

    _MARK = "s" + secrets.token_hex(8)

    def __init__(
        self, build: Callable[[str], forms.BaseForm], prefix: str, fields: Iterable[str]
    ) -> None:
        self._build, self._prefix, self._fields = build, prefix, list(fields)
        self._html: dict[str, str] | None = None  # rendered for the first copy asked for

    def copy(self, key: object) -> "_StampedCopy":
        """The copy whose ids are those of ``auto_id=f"{prefix}{key}_%s"``."""
        if self._html is None:
            form = self._build(f"{self._prefix}{self._MARK}_%s")
            self._html = {name: str(form[name].as_field_group()) for name in self._fields}
        found, wanted = f"{self._prefix}{self._MARK}_", f"{self._prefix}{key}_"
        return _StampedCopy(
            {name: html.replace(found, wanted) for name, html in self._html.items()}
        )


class _StampedCopy:
    errors: dict = {}  # never written: a blank form has none

    def __init__(self, html: dict[str, str]) -> None:
        self._fields = {name: _StampedField(value) for name, value in html.items()}

    def non_field_errors(self) -> str:
        return ""

    def __getattr__(self, name: str) -> "_StampedField":
        try:
            return self.__dict__["_fields"][name]
        except KeyError:
            raise AttributeError(name) from None


class _StampedField:
    def __init__(self, html: str) -> None:
        self._html = mark_safe(html)  # noqa: S308 (a form's own rendering, escaped by it)

    def as_field_group(self) -> str:
        return self._html
