"""The one rule for free text a person types: which characters no field accepts.

Every free-text field asks ``unsafe_character`` — the forms (``config.forms.SafeTextForm``),
the API schemas (``consultation.api.schemas``), the import of items
(``consultation.organising.importing``) and, to strip rather than refuse, the names an identity
provider sends (``accounts.adapters``). Refused everywhere:

- control characters (Unicode category Cc: NUL, BEL, ESC, DEL, C1…): nobody types them,
  HTML forbids most of them, and PostgreSQL refuses NUL. A multi-line field keeps tab,
  line feed and carriage return; a single-line field refuses those too, and the Unicode
  line and paragraph separators;
- the explicit bidirectional formatting characters (U+202A–U+202E embeddings and
  overrides, U+2066–U+2069 isolates): an override written into a page reverses the text
  that follows it, beyond the field it came from ("Trojan Source" spoofing);
- the deprecated format characters U+206A–U+206F and the interlinear annotation
  characters U+FFF9–U+FFFB, which have no use in typed text and can hide some;
- lone surrogates (U+D800–U+DFFF, which UTF-8 and the database cannot store) and the
  noncharacters (U+FDD0–U+FDEF and the last two code points of every plane).

Kept on purpose: the implicit direction marks U+200E, U+200F and U+061C (needed to write
mixed Arabic or Hebrew and Latin text correctly; like an invisible letter, they reorder
no letter of the text around them), zero-width joiners and non-joiners (emoji sequences,
Persian and Indic scripts), tag characters (flag emoji), the soft hyphen, and every
other format character a writing system uses.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _

LINE_CHARACTERS = "\t\n\r"  # what a multi-line field keeps of the control characters
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_ALWAYS_REFUSED = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 but tab/LF/CR, DEL, C1
    "\u202a-\u202e\u2066-\u2069"  # bidi embeddings, overrides, isolates
    "\u206a-\u206f\ufff9-\ufffb"  # deprecated format, interlinear annotation
    "\ud800-\udfff" + _NONCHARACTERS  # lone surrogates, noncharacters
)
_MULTI_LINE = re.compile(f"[{_ALWAYS_REFUSED}]")
_SINGLE_LINE = re.compile(f"[{_ALWAYS_REFUSED}{LINE_CHARACTERS}\u2028\u2029]")
_LINE_BREAKS = re.compile(f"[{LINE_CHARACTERS}\u2028\u2029]+")

# unicodedata has no names for control characters: the ones people meet.
_CONTROL_NAMES = {
    "\x00": "NULL",
    "\x07": "BELL",
    "\x08": "BACKSPACE",
    "\t": "TAB",
    "\n": "LINE FEED",
    "\x0c": "FORM FEED",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
}


def unsafe_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character of ``text`` that the rule above refuses, or None."""
    found = (_MULTI_LINE if multiline else _SINGLE_LINE).search(text)
    return found.group() if found else None


def describe(character: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``: a character people cannot see, made visible."""
    name = _CONTROL_NAMES.get(character) or unicodedata.name(character, "")
    return f"U+{ord(character):04X} {name}".rstrip()


def is_line_break(character: str) -> bool:
    return character in LINE_CHARACTERS or character in "\u2028\u2029"


def problem(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` is refused, as a sentence to show next to the field, or None."""
    character = unsafe_character(text, multiline=multiline)
    if character is None:
        return None
    if is_line_break(character):
        return _("Write this on a single line, without line breaks or tabs (%(character)s).") % {
            "character": describe(character)
        }
    return _(
        "This text contains an invisible control character, which is not accepted: "
        "%(character)s. Remove it and try again."
    ) % {"character": describe(character)}


def one_line(text: str) -> str:
    """``text`` with each run of line breaks and tabs turned into a space."""
    return _LINE_BREAKS.sub(" ", text)


def without_unsafe(text: str, *, multiline: bool = False) -> str:
    """``text`` with the refused characters taken out, for text nobody can be asked to
    fix (a name sent by an identity provider). In a single line, a line break or a tab
    becomes a space."""
    return _MULTI_LINE.sub("", text if multiline else one_line(text))


def printable(text: str) -> str:
    """``text`` with every refused character shown as U+FFFD, for echoing input back."""
    return _MULTI_LINE.sub("\ufffd", text)


@deconstructible
class SafeText:
    """Django validator: refuses what ``unsafe_character`` finds."""

    code = "unsafe_character"

    def __init__(self, *, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value: object) -> None:
        reason = problem(str(value), multiline=self.multiline)
        if reason:
            raise ValidationError(reason, code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SafeText) and other.multiline == self.multiline
