"""Server-rendered SVG charts for the results pages: no JavaScript, no library.

Each chart is an inline ``<svg role="img">`` labelled by its own ``<title>`` and ``<desc>``;
the page puts a table with the same numbers next to it, which is what assistive
technologies read (the SVG is a picture of that table). Geometry and colours are SVG
attributes, never ``style`` (the CSP forbids inline styles). Segments are told apart by
a pattern as well as by colour, so a black-and-white print still reads.

Every chart gets a page-unique ``chart_id``; its ids (title, patterns) derive from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH = 480  # viewBox units; the CSS scales the drawing to the column
LABEL_HEIGHT = 20
BAR_HEIGHT = 18
ROW_GAP = 10
LEGEND_ROW = 22
FONT_SIZE = 14
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
MAX_LABEL = 64  # characters of an item title drawn in the chart (the table has it whole)


@dataclass(frozen=True)
class Segment:
    """One kind of value in a stacked bar: for / against / abstain, or one grade."""

    key: str
    label: str
    fill: str  # a colour
    pattern: str = "solid"  # "solid", "hatch", "cross", "dots"
    ink: str = "#ffffff"  # colour of the pattern's marks


@dataclass(frozen=True)
class Row:
    item: int
    label: str
    values: Sequence[float]  # counts, one per segment (stacked), or one value (bars)
    note: str = ""  # drawn after the label, e.g. the majority grade
    rank: str = ""  # drawn before the label, e.g. "2=" for an item tied in second place


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1].rstrip() + "…"


def _attrs(**attributes: object) -> str:
    return " ".join(f'{name}="{escape(str(value))}"' for name, value in attributes.items())


def _pattern(chart_id: str, index: int, segment: Segment) -> str:
    pid = f"{chart_id}-p{index}"
    marks = {
        "solid": "",
        "hatch": f'<path d="M0 8 L8 0" stroke="{segment.ink}" stroke-width="2"/>',
        "cross": f'<path d="M0 0 L8 8 M0 8 L8 0" stroke="{segment.ink}" stroke-width="1.5"/>',
        "dots": f'<circle cx="4" cy="4" r="1.6" fill="{segment.ink}"/>',
    }[segment.pattern]
    return (
        f'<pattern id="{pid}" width="8" height="8" patternUnits="userSpaceOnUse">'
        f'<rect width="8" height="8" fill="{segment.fill}"/>{marks}</pattern>'
    )


def _frame(
    chart_id: str, title: str, description: str, height: int, body: str, defs: str = ""
) -> SafeString:
    return mark_safe(  # noqa: S308 -- every text is escaped above, numbers are numbers
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" font-family="{FONT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
        f"{f'<defs>{defs}</defs>' if defs else ''}{body}</svg>"
    )


def _legend(chart_id: str, segments: Sequence[Segment], y: int) -> tuple[str, int]:
    """Swatches and labels, wrapped onto as many lines as needed; returns (svg, height)."""
    parts, x, line = [], 0, 0
    for index, segment in enumerate(segments):
        width = 22 + 8 * len(segment.label)
        if x and x + width > WIDTH:
            x, line = 0, line + 1
        top = y + line * LEGEND_ROW
        parts.append(
            f'<rect x="{x}" y="{top + 3}" width="14" height="14" '
            f'fill="url(#{chart_id}-p{index})" stroke="#1a1a1a" stroke-width="1"/>'
            f'<text x="{x + 19}" y="{top + 15}" font-size="{FONT_SIZE - 1}" '
            f'fill="#1a1a1a">{escape(segment.label)}</text>'
        )
        x += width + 12
    return "".join(parts), (line + 1) * LEGEND_ROW + 6


def _label(row: Row, y: int) -> str:
    prefix = f"{row.rank}. " if row.rank else ""
    note = f" — {row.note}" if row.note else ""
    text = escape(_clip(prefix + row.label) + note)
    return f'<text x="0" y="{y + 15}" font-size="{FONT_SIZE}" fill="#1a1a1a">{text}</text>'


def stacked_bars(
    chart_id: str,
    title: str,
    description: str,
    segments: Sequence[Segment],
    rows: Sequence[Row],
    *,
    median_line: str = "",
) -> SafeString:
    """One bar per row, split into its segments' shares of the row's total (100 % wide).

    ``median_line``: label of a dashed line drawn at 50 % (majority judgment's median).
    Each segment ``<rect>`` carries ``data-item``, ``data-key`` and ``data-value`` (the
    count), and a ``<title>`` tooltip with the count and share.
    """
    defs = "".join(_pattern(chart_id, i, s) for i, s in enumerate(segments))
    legend, y = _legend(chart_id, segments, 0)
    body = [legend]
    step = LABEL_HEIGHT + BAR_HEIGHT + ROW_GAP
    for row in rows:
        body.append(_label(row, y))
        total = sum(row.values)
        x = 0.0
        top = y + LABEL_HEIGHT
        if not total:
            body.append(
                f'<rect x="0" y="{top}" width="{WIDTH}" height="{BAR_HEIGHT}" fill="none" '
                f'stroke="#6b7280" stroke-dasharray="4 3" data-item="{row.item}" data-value="0"/>'
            )
        for index, (segment, value) in enumerate(zip(segments, row.values, strict=True)):
            if not total:
                break
            width = WIDTH * value / total
            tip = f"{segment.label}: {_number(value)} ({100 * value / total:.1f} %)"
            body.append(
                f"<rect {_attrs(x=f'{x:.2f}', y=top, width=f'{width:.2f}', height=BAR_HEIGHT)} "
                f'fill="url(#{chart_id}-p{index})" stroke="#ffffff" stroke-width="1" '
                f'data-item="{row.item}" data-key="{escape(segment.key)}" '
                f'data-value="{_number(value)}"><title>{escape(tip)}</title></rect>'
            )
            x += width
        y += step
    if median_line and rows:
        first = LEGEND_ROW + 6
        body.append(
            f'<line x1="{WIDTH / 2}" y1="{first - 4}" x2="{WIDTH / 2}" y2="{y - ROW_GAP + 4}" '
            f'stroke="#1a1a1a" stroke-width="2" stroke-dasharray="5 4"/>'
        )
        body.append(
            f'<text x="{WIDTH / 2 + 4}" y="{y + 8}" font-size="{FONT_SIZE - 2}" '
            f'fill="#1a1a1a">{escape(median_line)}</text>'
        )
        y += 14
    return _frame(chart_id, title, description, int(y), "".join(body), defs)


def bars(
    chart_id: str,
    title: str,
    description: str,
    rows: Sequence[Row],
    *,
    fill: str = "#1d3a8a",
) -> SafeString:
    """One horizontal bar per row, as long as its (single, non-negative) value relative
    to the largest; the value is written after the bar."""
    peak = max((row.values[0] for row in rows), default=0) or 1
    body, y = [], 0
    room = WIDTH - 64  # space for the number after the bar
    for row in rows:
        value = row.values[0]
        body.append(_label(row, y))
        width = room * max(value, 0) / peak
        top = y + LABEL_HEIGHT
        body.append(
            f'<rect x="0" y="{top}" width="{width:.2f}" height="{BAR_HEIGHT}" fill="{fill}" '
            f'data-item="{row.item}" data-value="{_number(value)}"/>'
            f'<text x="{width + 6:.2f}" y="{top + 14}" font-size="{FONT_SIZE}" '
            f'fill="#1a1a1a">{_number(value)}</text>'
        )
        y += LABEL_HEIGHT + BAR_HEIGHT + ROW_GAP
    return _frame(chart_id, title, description, max(y, 1), "".join(body))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
