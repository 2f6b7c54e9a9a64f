"""CSV that a spreadsheet opens as text: the one rule every CSV file of the site follows.

A spreadsheet (Excel, LibreOffice Calc, Google Sheets) runs a cell that starts with ``=``,
``+``, ``-``, ``@``, TAB or CR as a formula, so an item titled ``=HYPERLINK(...)`` would
become a live link, or worse, on the computer of whoever opens ``items.csv``. OWASP's rule
(CSV Injection): put a single quote ``'`` in front of such a cell; spreadsheets show it as
text. Two additions of ours:

- a spreadsheet set up for French opens a ``.csv`` with ``;`` as its separator, so there a
  ``;`` inside a text cell starts a new cell: each ``;``-separated part of a text cell is
  treated like a cell of its own (``Horaires;=1+1`` is written ``Horaires;'=1+1``);
- a part already starting with quotes before a trigger (``'=x``) gets one more, so that
  ``restore`` gives back exactly the original text (``neutralise`` is reversible).

Only text (``str``) is touched. Numbers are written as numbers: ``-3`` is the number minus
three to a spreadsheet, never a formula, and an id column must stay an integer for the
readers. Headers, ballot ids (hex digits) and fixed words (``for``) never match the rule.
JSON files keep the raw text: JSON is not opened by spreadsheets.

No Django here: the ``recount`` CLI reads what this module's writers produce.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

TRIGGERS = "=+-@\t\r"
# A part of a cell starts at the beginning or after a ";": when it starts with any number of
# quotes and then a trigger, one quote goes in front of it.
_NEEDS_QUOTE = re.compile(r"(^|;)(?='*[=+\-@\t\r])")
_ADDED_QUOTE = re.compile(r"(^|;)'(?='*[=+\-@\t\r])")
_FIRST = TRIGGERS + "'"


def neutralise(cell: Any) -> Any:
    """``cell`` as a spreadsheet will show it as text; anything but ``str`` unchanged."""
    if type(cell) is not str or not cell or (cell[0] not in _FIRST and ";" not in cell):
        return cell  # the fast path: nearly every cell of a ballot file
    return _NEEDS_QUOTE.sub(r"\1'", cell)


def restore(cell: Any) -> Any:
    """The original text of a cell written by ``neutralise`` (its exact inverse)."""
    if type(cell) is not str or not cell or (cell[0] != "'" and ";'" not in cell):
        return cell
    return _ADDED_QUOTE.sub(r"\1", cell)


class Writer:
    """``csv.writer`` with ``\\n`` line endings that neutralises every cell it writes."""

    def __init__(self, fp: IO[str]) -> None:
        self._writer = csv.writer(fp, lineterminator="\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(fp: IO[str]) -> Writer:
    """The CSV writer of every file the site writes: use it, never ``csv.writer``."""
    return Writer(fp)
