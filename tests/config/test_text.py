"""The one rule for free text (config/text.py): what every field refuses, and what it keeps."""

import pytest
from django.utils import translation

from config.text import describe, printable, problem, unsafe_character, without_unsafe

REFUSED_EVERYWHERE = [
    "\x00",  # NUL
    "\x07",  # BEL
    "\x08",  # BACKSPACE
    "\x0b",  # vertical tab
    "\x0c",  # form feed
    "\x1b",  # ESC
    "\x7f",  # DEL
    "\x85",  # C1: next line
    "\x9b",  # C1: control sequence introducer
    "\u202a",  # left-to-right embedding
    "\u202b",  # right-to-left embedding
    "\u202c",  # pop directional formatting
    "\u202d",  # left-to-right override
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u2067",  # right-to-left isolate
    "\u2068",  # first strong isolate
    "\u2069",  # pop directional isolate
    "\u206a",  # deprecated: inhibit symmetric swapping
    "\u206f",  # deprecated: nominal digit shapes
    "\ufff9",  # interlinear annotation anchor
    "\ufffb",  # interlinear annotation terminator
    "\ud800",  # lone high surrogate
    "\udfff",  # lone low surrogate
    "\ufdd0",  # noncharacter
    "\ufffe",  # noncharacter
    "\U0010ffff",  # noncharacter, last plane
]
KEPT_EVERYWHERE = [
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u061c",  # Arabic letter mark
    "\u200c",  # zero-width non-joiner (Persian)
    "\u200d",  # zero-width joiner (emoji sequences)
    "\u00ad",  # soft hyphen
    "\U000e0067",  # tag letter g (subdivision flags)
    "\u00a0",  # no-break space
    "\u202f",  # narrow no-break space (French typography)
    "é",
    "\U0001f600",
    "\ue000",  # private use
]
LINE_CHARACTERS = ["\t", "\n", "\r", "\u2028", "\u2029"]


@pytest.mark.parametrize("character", REFUSED_EVERYWHERE, ids=ascii)
@pytest.mark.parametrize("multiline", [False, True])
def test_control_bidi_override_surrogate_and_noncharacters_are_refused(character, multiline):
    assert unsafe_character(f"avant{character}après", multiline=multiline) == character
    assert problem(f"avant{character}après", multiline=multiline)
    assert without_unsafe(f"avant{character}après", multiline=multiline) == "avantaprès"
    assert printable(f"a{character}b") == "a\ufffdb"


@pytest.mark.parametrize("character", KEPT_EVERYWHERE, ids=ascii)
@pytest.mark.parametrize("multiline", [False, True])
def test_direction_marks_joiners_and_ordinary_characters_are_kept(character, multiline):
    assert unsafe_character(f"a{character}b", multiline=multiline) is None
    assert problem(f"a{character}b", multiline=multiline) is None


@pytest.mark.parametrize("character", LINE_CHARACTERS, ids=ascii)
def test_line_breaks_and_tabs_belong_to_multi_line_fields_only(character):
    assert unsafe_character(f"a{character}b", multiline=True) is None
    assert unsafe_character(f"a{character}b", multiline=False) == character
    with translation.override("en"):  # whatever language an earlier test left active
        assert "single line" in problem(f"a{character}b", multiline=False)
    assert without_unsafe(f"a{character}b", multiline=False) == "a b"
    assert without_unsafe(f"a{character}b", multiline=True) == f"a{character}b"


def test_the_refusal_names_the_character_people_cannot_see():
    assert describe("\x1b") == "U+001B ESCAPE"
    assert describe("\u202e") == "U+202E RIGHT-TO-LEFT OVERRIDE"
    assert describe("\x85") == "U+0085"
    assert describe("\ud800") == "U+D800"
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in problem("abc\u202edef")
