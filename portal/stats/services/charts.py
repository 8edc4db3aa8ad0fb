"""Charts drawn on the server as SVG, each from a ``ChartTable`` that also feeds the HTML table and the CSV.

Because the SVG, the accessible table and the CSV download are all made from the same ``ChartTable``, they
always carry the same numbers. The SVG carries ``role="img"``, a ``<title>`` and a ``<desc>``; text is
escaped, so the output is well-formed XML. No JavaScript is involved and the charts print.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from xml.sax.saxutils import escape

from portal.stats.services.kpis import format_change, format_count, format_percent

# Colours with at least 3:1 contrast against white (WCAG 1.4.11), distinguishable in greyscale by order.
PALETTE = ["#0b2545", "#1b7f79", "#b4531b", "#6b46c1", "#9b2c5b", "#2b6cb0", "#4a5568"]
WIDTH, HEIGHT = 640, 320
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 72, 16, 16, 64
# How a value of each kind is written (counts with thousands separators; any other kind is a count).
FORMATS = {"percent": partial(format_percent, digits=1), "change": format_change, "count": format_count}


@dataclass
class ChartTable:
    """The numbers behind one chart: a row per category (period or country), a column per series."""

    title: str
    row_header: str
    columns: list[str]
    rows: list[tuple[str, list[float | int | None]]]
    kind: str = "count"  # "count", "percent" (values are shares 0-1) or "change" (relative, 0.1 = +10%)
    description: str = ""
    value_label: str = ""  # what the values are, for the value axis
    notes: list[str] = field(default_factory=list)
    column_kinds: list[str] | None = None  # per-column kinds for mixed tables
    row_kinds: list[str] | None = None  # per-row kinds (KPI tiles)
    periods: list[str] = field(default_factory=list)  # the periods it shows (their coverage is printed beside it)
    first_colour: int = 0  # palette index of the first column (a part of a split chart keeps the whole's colours)

    def kind_at(self, row: int, column: int) -> str:
        return self.row_kinds[row] if self.row_kinds else self.column_kind(column)

    def column_kind(self, column: int) -> str:
        return self.column_kinds[column] if self.column_kinds else self.kind

    def cell_kinds(self, row: int) -> list[str]:
        """The kind of each cell of a row."""
        return [self.kind_at(row, column) for column in range(len(self.rows[row][1]))]

    def format(self, value, kind: str | None = None) -> str:
        return FORMATS.get(kind or self.kind, format_count)(value)

    def formatted_rows(self) -> list[tuple[str, list[str]]]:
        return [(label, list(map(self.format, values, self.cell_kinds(r))))
                for r, (label, values) in enumerate(self.rows)]

    def csv_rows(self, notes: dict[str, str] | None = None) -> list[list[str]]:
        """Header and rows for a CSV download: raw numbers (shares as decimals), blank when not available.

        ``notes`` (period label → where its figures come from and what changed after release; only periods that
        have a note, see ``tables.period_notes``) adds a last column with the note of each row's period (a table of
        one period gives every row that period's)."""
        notes = notes or {}
        header = [self.row_header, *self.columns, *(["Coverage and changes"] if notes else [])]
        return [header, *(self._csv_row(r, label, values, notes) for r, (label, values) in enumerate(self.rows))]

    def _csv_row(self, r: int, label: str, values: list[float | int | None], notes: dict[str, str]) -> list[str]:
        cells = list(map(_csv_value, values, self.cell_kinds(r)))
        return [label, *cells, *([self._row_note(label, notes)] if notes else [])]

    def _row_note(self, label: str, notes: dict[str, str]) -> str:
        """The note of a row's period: its own, or the table's one period's."""
        period = label if label in self.periods else (self.periods[0] if len(self.periods) == 1 else "")
        return notes.get(period, "")

    def is_empty(self) -> bool:
        return all(value is None for _label, values in self.rows for value in values)


def _csv_value(value: float | int | None, kind: str) -> str:
    """A number as the CSV carries it: shares and changes as decimals, blank when not available."""
    if value is None:
        return ""
    return f"{value:.4f}" if kind in ("percent", "change") else str(value)


def nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5, 5 x 10ⁿ)."""
    if value <= 0:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return candidate
    return 10 ** (exponent + 1)


def _axis_label(value: float, kind: str) -> str:
    if kind == "percent":
        return f"{value * 100:.0f}%"
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 10_000:
        return f"{value / 1_000:g}k"
    return f"{value:,.0f}"


PLOT_HEIGHT = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
BASELINE = MARGIN_TOP + PLOT_HEIGHT


def _open_svg(uid: str, table: ChartTable, height: int = HEIGHT, vertical: bool = True) -> list[str]:
    klass = " stats-chart__svg--vertical" if vertical else ""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="stats-chart__svg{klass}" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-labelledby="{uid}-title {uid}-desc" focusable="false">',
        f'<title id="{uid}-title">{escape(table.title)}</title>',
        f'<desc id="{uid}-desc">{escape(_describe(table))}</desc>',
    ]


def _axes(parts: list[str], top: float, table: ChartTable, y_label: str, x_label: str) -> None:
    for step in range(5):
        fraction = step / 4
        y = MARGIN_TOP + PLOT_HEIGHT * (1 - fraction)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{WIDTH - MARGIN_RIGHT}" y2="{y:.1f}" '
            f'stroke="#d0d5dd" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{MARGIN_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="#333">'
            f"{escape(_axis_label(top * fraction, table.kind))}</text>"
        )
    parts.append(f'<line x1="{MARGIN_LEFT}" y1="{BASELINE}" x2="{WIDTH - MARGIN_RIGHT}" y2="{BASELINE}" '
                 'stroke="#333"/>')
    middle = MARGIN_TOP + PLOT_HEIGHT / 2
    parts.append(
        f'<text x="16" y="{middle:.1f}" transform="rotate(-90 16 {middle:.1f})" '
        f'text-anchor="middle" font-size="12" fill="#333" class="stats-chart__axis-label stats-chart__y-title">'
        f'{escape(y_label)}</text>'
    )
    parts.append(
        f'<text x="{MARGIN_LEFT + (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / 2:.1f}" y="{HEIGHT - 8}" '
        f'text-anchor="middle" font-size="12" fill="#333" class="stats-chart__axis-label">{escape(x_label)}</text>'
    )


def legend_items(table: ChartTable) -> list[tuple[str, str]]:
    """(series name, colour) for the legend the page prints under a chart in HTML: text there wraps and stays
    readable on a phone, where text inside the scaled-down SVG did not (a legend drawn in the SVG ran together)."""
    return [(label, _colour(index, table)) for index, label in enumerate(table.columns)]


def _colour(series: int, table: ChartTable) -> str:
    return PALETTE[(series + table.first_colour) % len(PALETTE)]


def split_scale(table: ChartTable, ratio: float = 3.0) -> list[ChartTable]:
    """The table as one chart, or as two when its first column (the network total) dwarfs the others: the total
    alone, then the other columns (the countries) on their own scale, so their lines are not squashed flat at the
    bottom. Each part keeps its columns' colours. (A table of one column has no others: it stays one chart.)"""
    total, countries = _columns(table, slice(0, 1)), _columns(table, slice(1, None))
    first, others = _highest_value(total), _highest_value(countries)
    if others <= 0 or first <= ratio * others:
        return [table]
    return [total, countries]


def _columns(table: ChartTable, columns: slice) -> ChartTable:
    """The table reduced to some of its columns, each keeping its colour."""
    return replace(table, columns=table.columns[columns],
                   rows=[(label, values[columns]) for label, values in table.rows],
                   column_kinds=table.column_kinds[columns] if table.column_kinds else None,
                   first_colour=table.first_colour + columns.start)


def _x_positions(count: int) -> tuple[float, list[float]]:
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    slot = plot_w / max(count, 1)
    return slot, [MARGIN_LEFT + slot * (index + 0.5) for index in range(count)]


def _category_labels(parts: list[str], labels: list[str], centres: list[float]) -> None:
    y = HEIGHT - MARGIN_BOTTOM + 18
    stride = max(1, math.ceil(len(labels) / 12))  # keep labels from overlapping on long series
    # On a phone the text is drawn larger (stats.css): there only every other label of a long series is shown.
    phone_every = 2 if len(labels) > 6 else 1
    for shown, (label, x) in enumerate(zip(labels[::stride], centres[::stride], strict=True)):
        minor = ' class="stats-chart__minor-label"' if shown % phone_every else ""
        parts.append(f'<text x="{x:.1f}" y="{y}" text-anchor="middle" font-size="12" fill="#333"{minor}>'
                     f"{escape(label)}</text>")


def _describe(table: ChartTable) -> str:
    if table.description:
        return table.description
    if table.is_empty():
        return "No figures are available for this chart."
    first, last = table.rows[0][0], table.rows[-1][0]
    series = ", ".join(table.columns)
    return f"{series} by {table.row_header.lower()}, {first} to {last}. The same figures are in the table below."


def _empty(parts: list[str], height: int = HEIGHT) -> str:
    parts.append(f'<text x="{WIDTH / 2}" y="{height / 2}" text-anchor="middle" font-size="14" fill="#333">'
                 "No figures available</text></svg>")
    return "".join(parts)


def _tooltip(table: ChartTable, series: int, label: str, value: float) -> str:
    return f"<title>{escape(f'{table.columns[series]}, {label}: {table.format(value)}')}</title>"


def _y(value: float, top: float) -> float:
    """Where a value sits on the value axis (SVG y grows downwards)."""
    return MARGIN_TOP + PLOT_HEIGHT * (1 - value / top)


# What a vertical chart draws inside the shared frame: (table, axis top, slot width, slot centres) -> SVG parts.
Marks = Callable[[ChartTable, float, float, list[float]], list[str]]


def _vertical_chart(table: ChartTable, uid: str, top: float, marks: Marks, axis_labels: tuple[str, str]) -> str:
    """The frame every vertical chart shares: title and description, axes, the marks, category labels (the legend
    is HTML under the chart: ``legend_items``)."""
    parts = _open_svg(uid, table)
    if table.is_empty():
        return _empty(parts)
    y_label, x_label = axis_labels
    _axes(parts, top, table, y_label, x_label or table.row_header)
    slot, centres = _x_positions(len(table.rows))
    parts += marks(table, top, slot, centres)
    _category_labels(parts, [label for label, _ in table.rows], centres)
    parts.append("</svg>")
    return "".join(parts)


def line_chart_svg(table: ChartTable, uid: str, y_label: str = "", x_label: str = "") -> str:
    """A line per column over the rows (periods). Gaps where a value is missing."""
    return _vertical_chart(table, uid, _top(table), _lines, (y_label, x_label))


def bar_chart_svg(table: ChartTable, uid: str, y_label: str = "", x_label: str = "") -> str:
    """Grouped vertical bars: one group per row, one bar per column."""
    return _vertical_chart(table, uid, _top(table), _grouped_bars, (y_label, x_label))


def stacked_bar_svg(table: ChartTable, uid: str, y_label: str = "", x_label: str = "") -> str:
    """One vertical bar per row, stacked from the columns (meant for shares that add up to 100%)."""
    top = _top(table, stacked=True)
    if table.kind == "percent":
        top = max(1.0, top)
    return _vertical_chart(table, uid, top, _stacked_bars, (y_label, x_label))


def _lines(table: ChartTable, top: float, slot: float, centres: list[float]) -> list[str]:
    return [part for series in range(len(table.columns)) for part in _line(table, series, top, centres)]


def _line(table: ChartTable, series: int, top: float, centres: list[float]) -> list[str]:
    """One column's points (each with its value as a tooltip), joined by lines where no value is missing."""
    points = [(label, values[series], x) for (label, values), x in zip(table.rows, centres, strict=True)]
    parts = [_point(table, series, label, value, x, top) for label, value, x in points if value is not None]
    colour = _colour(series, table)
    return parts + [f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
                    for run in _runs(points, top) if len(run) > 1]


def _point(table: ChartTable, series: int, label: str, value: float, x: float, top: float) -> str:
    return (f'<circle cx="{x:.1f}" cy="{_y(value, top):.1f}" r="4" fill="{_colour(series, table)}">'
            f"{_tooltip(table, series, label, value)}</circle>")


def _runs(points: list[tuple[str, float | None, float]], top: float) -> list[list[str]]:
    """The "x,y" points of a line, split where a value is missing."""
    runs: list[list[str]] = [[]]
    for _label, value, x in points:
        if value is None:
            runs.append([])
        else:
            runs[-1].append(f"{x:.1f},{_y(value, top):.1f}")
    return runs


def _bar(table: ChartTable, series: int, label: str, value: float, box: tuple[float, float, float, float],
         outline: str = "") -> str:
    x, y, width, height = box
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" fill="{_colour(series, table)}"'
            f"{outline}>{_tooltip(table, series, label, value)}</rect>")


def _grouped_bars(table: ChartTable, top: float, slot: float, centres: list[float]) -> list[str]:
    width = slot * 0.8 / max(len(table.columns), 1)
    parts = []
    for (label, values), centre in zip(table.rows, centres, strict=True):
        for series, value in enumerate(values):
            if value is not None:
                height = PLOT_HEIGHT * value / top
                box = (centre - slot * 0.4 + width * series, BASELINE - height, width, height)
                parts.append(_bar(table, series, label, value, box))
    return parts


def _stacked_bars(table: ChartTable, top: float, slot: float, centres: list[float]) -> list[str]:
    width = slot * 0.6
    parts = []
    for (label, values), centre in zip(table.rows, centres, strict=True):
        y = BASELINE
        for series, value in enumerate(values):
            if value:
                height = PLOT_HEIGHT * value / top
                y -= height
                box = (centre - width / 2, y, width, height)
                parts.append(_bar(table, series, label, value, box, outline=' stroke="#fff" stroke-width="1"'))
    return parts


HBAR_ROW_HEIGHT, HBAR_LABEL_WIDTH = 24, 150
HBAR_PLOT_WIDTH = WIDTH - HBAR_LABEL_WIDTH - MARGIN_RIGHT - 60


def horizontal_bar_svg(table: ChartTable, uid: str, column: int = 0, x_label: str = "") -> str:
    """One horizontal bar per row for a single column (e.g. a measure per country)."""
    height = MARGIN_TOP + HBAR_ROW_HEIGHT * max(len(table.rows), 1) + 40
    parts = _open_svg(uid, table, height, vertical=False)
    top = _horizontal_top(table, column)
    if top is None:
        return _empty(parts, height)
    for index, (label, row) in enumerate(table.rows):
        parts += _horizontal_bar(table, index, column, (label, row[column]), top)
    axis_y = MARGIN_TOP + HBAR_ROW_HEIGHT * len(table.rows) + 24
    parts.append(f'<text x="{HBAR_LABEL_WIDTH + HBAR_PLOT_WIDTH / 2:.1f}" y="{axis_y}" text-anchor="middle" '
                 f'font-size="12" fill="#333" class="stats-chart__axis-label">'
                 f'{escape(x_label or table.columns[column])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _horizontal_top(table: ChartTable, column: int) -> float | None:
    """The value axis maximum of one column (shares reach at least 100%); None when it has no values."""
    highest = max((row[column] for _label, row in table.rows if row[column] is not None), default=None)
    if highest is None:
        return None
    return max(1.0, nice_max(highest)) if table.column_kind(column) == "percent" else nice_max(highest)


def _horizontal_bar(table: ChartTable, index: int, column: int, row: tuple[str, float | None],
                    top: float) -> list[str]:
    """A row's label, then its bar (``top`` is the value axis maximum) and value (or "n/a")."""
    label, value = row
    y = MARGIN_TOP + HBAR_ROW_HEIGHT * index
    parts = [f'<text x="{HBAR_LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end" font-size="12" fill="#333">'
             f"{escape(label)}</text>"]
    if value is None:
        return [*parts, f'<text x="{HBAR_LABEL_WIDTH + 4}" y="{y + 16}" font-size="12" fill="#333">n/a</text>']
    shown = table.format(value, table.kind_at(index, column))
    bar = HBAR_PLOT_WIDTH * value / top
    return [
        *parts,
        f'<rect x="{HBAR_LABEL_WIDTH}" y="{y + 4}" width="{bar:.1f}" height="{HBAR_ROW_HEIGHT - 8}" '
        f'fill="{PALETTE[0]}"/>',
        f'<text x="{HBAR_LABEL_WIDTH + bar + 6:.1f}" y="{y + 16}" font-size="12" fill="#333">{escape(shown)}</text>',
    ]


def _top(table: ChartTable, stacked: bool = False) -> float:
    """The value axis maximum: a round number at or above the highest value (or stack). Shares up to 100% stop at
    100% by themselves: ``nice_max`` of a value at most 1 is at most 1."""
    return nice_max(_highest_stack(table) if stacked else _highest_value(table))


def _highest_value(table: ChartTable) -> float:
    return max((value for _label, values in table.rows for value in values if value is not None), default=0)


def _highest_stack(table: ChartTable) -> float:
    return max((sum(filter(None, values)) for _label, values in table.rows), default=0)  # missing values add nothing


__all__ = [
    "ChartTable",
    "bar_chart_svg",
    "horizontal_bar_svg",
    "line_chart_svg",
    "nice_max",
    "stacked_bar_svg",
]
