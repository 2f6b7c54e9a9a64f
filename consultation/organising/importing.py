"""Import items from a CSV or JSON file: all of them, or none.

Every row is checked first; if any is rejected, nothing is written and the report
lists every rejected row with its reasons. Themes named in the file that the
consultation does not have yet (matched by slug or name, ignoring case) are
created with the items.

CSV: a header row with the columns below (only ``title`` is required), separated
by commas or semicolons (spreadsheets set to French export with ";"), UTF-8 with
or without a byte-order mark. JSON: a list of objects with the same keys, or
``{"items": [...]}``, read by ``config.json_input`` (a lone surrogate or absurd nesting
refuses the file). Every cell follows the site's rule for free text (``config.text``):
a control or bidi-override character rejects its row. Only the summaries and the body
keep their line breaks; in the other cells (a spreadsheet cell that wraps its title, say)
a line break or a tab becomes a space.
"""

import csv
import io
from dataclasses import dataclass, field

from django.db import models, transaction
from django.db.models import Max
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.types import Person
from config.json_input import InvalidJson, load_json
from config.text import describe, one_line, printable, unsafe_character
from consultation import permissions
from consultation.models import Consultation, Item, Theme
from consultation.organising import consultations

COLUMNS = ("title", "title_en", "summary", "summary_en", "body", "theme", "source_reference")
ITEM_FIELDS = ("title", "title_en", "summary", "summary_en", "body", "source_reference")
MULTI_LINE = ("summary", "summary_en", "body")  # the others are one line
MAX_BYTES = 1024 * 1024
MAX_ROWS = 1000
BOM = "\ufeff"


@dataclass
class Rejection:
    where: str  # "line 4" (CSV) or "item 3" (JSON, counted from 1)
    reasons: list[str]


@dataclass
class ImportReport:
    file_errors: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    imported: int = 0
    themes_created: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.rejected


@dataclass
class Row:
    where: str
    values: dict[str, str] | None  # None: not even an object, nothing to check
    problems: list[str] = field(default_factory=list)


class FileRefused(Exception):
    """The file as a whole cannot be read: no row is looked at."""


def import_items(
    user: Person, consultation: Consultation, filename: str, data: bytes
) -> ImportReport:
    """Raises ``Conflict`` once the consultation has opened; otherwise reports."""
    permissions.require_manager(user, consultation)
    report = ImportReport()
    try:
        rows = read_rows(filename, data)
    except FileRefused as refusal:
        report.file_errors.append(str(refusal))
        return report
    with transaction.atomic():
        # Locked like every item change: the consultation cannot open mid-import,
        # and duplicates are checked against the items as they are at write time.
        current = Consultation.objects.select_for_update().get(pk=consultation.pk)
        consultations.refuse_unless_preparing(current)
        _validate(current, rows)
        report.rejected = [Rejection(row.where, row.problems) for row in rows if row.problems]
        if report.rejected:
            return report
        # No row was rejected, so each is an object: none has ``values`` None.
        report.themes_created = _write(current, [r.values for r in rows if r.values is not None])
        report.imported = len(rows)
    return report


# --- Reading -------------------------------------------------------------------------


def read_rows(filename: str, data: bytes) -> list[Row]:
    if len(data) > MAX_BYTES:
        raise FileRefused(
            _("The file is too large: %(size)s kB, at most %(max)s kB.")
            % {"size": len(data) // 1024, "max": MAX_BYTES // 1024}
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FileRefused(
            _(
                "The file is not in UTF-8 (line %(line)s). Save it as “CSV UTF-8” or "
                "“UTF-8” and try again."
            )
            % {"line": line}
        ) from error
    text = text.removeprefix(BOM)
    if not text.strip():
        raise FileRefused(_("The file is empty."))
    rows = _read_json(text) if _looks_like_json(filename, text) else _read_csv(text)
    if not rows:
        raise FileRefused(_("The file contains no items."))
    if len(rows) > MAX_ROWS:
        raise FileRefused(
            _("The file contains more than %(max)s items: split it into several files.")
            % {"max": MAX_ROWS}
        )
    return rows


def _looks_like_json(filename: str, text: str) -> bool:
    name = filename.lower()
    if name.endswith(".json"):
        return True
    if name.endswith(".csv"):
        return False
    return text.lstrip()[:1] in ("[", "{")


def _read_json(text: str) -> list[Row]:
    try:
        document = load_json(text)
    except InvalidJson as error:
        raise FileRefused(
            _("The file is not valid JSON: %(reason)s.") % {"reason": printable(str(error))}
        ) from error
    if isinstance(document, dict) and set(document) == {"items"}:
        document = document["items"]
    if not isinstance(document, list):
        raise FileRefused(
            _('The JSON file must contain a list of items, or an object {"items": [...]}.')
        )
    rows = []
    for index, entry in enumerate(document, start=1):
        values: dict[str, str] = {}
        row = Row(_("item %(number)s") % {"number": index}, values)
        rows.append(row)
        if not isinstance(entry, dict):
            row.values = None
            row.problems.append(_("not an object with the item's fields"))
            continue
        unknown = sorted(set(entry) - set(COLUMNS))
        if unknown:
            row.problems.append(
                _("unknown fields: %(names)s") % {"names": ", ".join(map(printable, unknown))}
            )
        for key in COLUMNS:
            value = entry.get(key)
            if value is None:
                value = ""
            if not isinstance(value, str):
                row.problems.append(_("“%(field)s” must be text") % {"field": key})
                value = ""
            values[key] = value
    return rows


def _sniff_delimiter(text: str) -> str:
    header = text.splitlines()[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t").delimiter
    except csv.Error:
        return ";" if header.count(";") > header.count(",") else ","


def _read_csv(text: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        header = [name.strip().lower() for name in next(reader)]
        unknown = [name for name in header if name not in COLUMNS]
        if unknown:
            raise FileRefused(
                _("Unknown columns: %(names)s. The columns are: %(columns)s.")
                % {"names": ", ".join(map(printable, unknown)), "columns": ", ".join(COLUMNS)}
            )
        if "title" not in header:
            raise FileRefused(_("The “title” column is missing."))
        if len(set(header)) != len(header):
            raise FileRefused(_("A column appears twice in the header."))
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, or a spreadsheet's empty trailing rows
            row = Row(_("line %(number)s") % {"number": reader.line_num}, {})
            rows.append(row)
            if len(cells) > len(header):
                row.problems.append(
                    _("more cells (%(count)s) than the header has columns (%(columns)s)")
                    % {"count": len(cells), "columns": len(header)}
                )
            values = {key: "" for key in COLUMNS}
            values.update(zip(header, cells, strict=False))
            row.values = values
            if len(rows) > MAX_ROWS:
                break  # enough to refuse the file; no need to read the rest
    except csv.Error as error:
        raise FileRefused(
            _("The CSV file cannot be read (line %(line)s: %(message)s).")
            % {"line": reader.line_num, "message": error}
        ) from error
    return rows


# --- Checking and writing --------------------------------------------------------------


def _normalise(title: str) -> str:
    return " ".join(title.split()).casefold()


def max_length(model: type[models.Model], name: str) -> int | None:
    """The ``max_length`` of a model's column (None: unbounded)."""
    column = model._meta.get_field(name)
    return column.max_length if isinstance(column, models.Field) else None


def _validate(consultation: Consultation, rows: list[Row]) -> None:
    existing = {_normalise(title) for title in consultation.items.values_list("title", flat=True)}
    seen: dict[str, str] = {}
    theme_name_max = max_length(Theme, "name")
    for row in rows:
        if row.values is None:
            continue
        values = {
            key: (value if key in MULTI_LINE else one_line(value)).strip()
            for key, value in row.values.items()
        }
        row.values = values
        title = values["title"]
        if not title:
            row.problems.append(_("the title is missing"))
        for name in COLUMNS:
            character = unsafe_character(values[name], multiline=name in MULTI_LINE)
            if character is not None:
                row.problems.append(
                    _(
                        "“%(field)s” contains an invisible control character (%(character)s): "
                        "remove it"
                    )
                    % {"field": name, "character": describe(character)}
                )
        for name in ITEM_FIELDS:
            limit = max_length(Item, name)
            if limit and len(values[name]) > limit:
                row.problems.append(
                    _("“%(field)s” is too long (%(length)s characters, at most %(max)s)")
                    % {"field": name, "length": len(values[name]), "max": limit}
                )
        if theme_name_max and len(values["theme"]) > theme_name_max:
            row.problems.append(
                _("the theme name is too long (at most %(max)s characters)")
                % {"max": theme_name_max}
            )
        if title:
            key = _normalise(title)
            if key in existing:
                row.problems.append(_("an item with this title already exists"))
            elif key in seen:
                row.problems.append(_("same title as %(other)s of the file") % {"other": seen[key]})
            else:
                seen[key] = row.where


def _write(consultation: Consultation, rows: list[dict[str, str]]) -> list[str]:
    themes = {}
    for theme in consultation.themes.all():
        themes[theme.slug.casefold()] = theme
        themes[theme.name.casefold()] = theme
    taken = {theme.slug for theme in consultation.themes.all()}
    created = []
    for row in rows:
        name = row["theme"]
        if name and name.casefold() not in themes:
            theme = consultations.create_theme(consultation, name, taken=taken)
            themes[name.casefold()] = themes[slugify(name)] = theme
            created.append(name)
    top = consultation.items.aggregate(top=Max("position"))["top"]
    top = -1 if top is None else top
    Item.objects.bulk_create(
        Item(
            consultation=consultation,
            theme=themes.get(row["theme"].casefold()) if row["theme"] else None,
            position=top + index,
            **{name: row[name] for name in ITEM_FIELDS},
        )
        for index, row in enumerate(rows, start=1)
    )
    return created
