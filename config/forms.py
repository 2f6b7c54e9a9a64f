"""The site's form renderer: Django's, except that a form never echoes a control
character back into the page.

A NUL (or another C0/C1 control character) posted in a field is refused by the field's
validators with an error next to it. The re-rendered form would then write the character
back, in the field's value or in the error message itself ("… is not one of the available
choices"), and a page holding one is not valid HTML. This renderer shows U+FFFD in its
place. Only what is displayed changes: validation sees exactly what was posted. Set as
``FORM_RENDERER``, it covers every form, field and error list: ours, allauth's, the admin's.
"""

import re

from django.forms.renderers import DjangoTemplates

# What HTML forbids in text: C0 controls other than tab, line feed, form feed and
# carriage return; DEL; C1 controls.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
REPLACEMENT = "\ufffd"


def printable(text: str) -> str:
    return CONTROL.sub(REPLACEMENT, text)


class FormRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        # Callers (forms, widgets, error lists) mark the result safe themselves.
        return printable(super().render(template_name, context, request=request))
