"""Charts drawn on the server as SVG, each from a ``ChartTable`` that also feeds the HTML table and the CSV.

Because the SVG, the accessible table and the CSV download are all made from the same ``ChartTable``, they
always carry the same numbers. The SVG carries ``role="img"``, a ``<title>`` and a ``<desc>``; text is
escaped, so the output is well-formed XML. No JavaScript is involved and the charts print.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from portal.stats.services.kpis import format_change, format_count, format_percent

# Colours with at least 3:1 contrast against white (WCAG 1.4.11), distinguishable in greyscale by order.
PALETTE = ["#0b2545", "#1b7f79", "#b4531b", "#6b46c1", "#9b2c5b", "#2b6cb0", "#4a5568"]
WIDTH, HEIGHT = 640, 320
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 72, 16, 16, 64


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

    def kind_at(self, row: int, column: int) -> str:
        if self.row_kinds:
            return self.row_kinds[row]
        if self.column_kinds:
            return self.column_kinds[column]
        return self.kind

    def format(self, value, kind: str | None = None) -> str:
        kind = kind or self.kind
        if kind == "percent":
            return format_percent(value, 1)
        if kind == "change":
            return format_change(value)
        return format_count(value)

    def formatted_rows(self) -> list[tuple[str, list[str]]]:
        return [
            (label, [self.format(value, self.kind_at(r, c)) for c, value in enumerate(values)])
            for r, (label, values) in enumerate(self.rows)
        ]

    def csv_rows(self) -> list[list[str]]:
        """Header and rows for a CSV download: raw numbers (shares as decimals), blank when not available."""
        out = [[self.row_header, *self.columns]]
        for r, (label, values) in enumerate(self.rows):
            cells = []
            for c, value in enumerate(values):
                if value is None:
                    cells.append("")
                elif self.kind_at(r, c) in ("percent", "change"):
                    cells.append(f"{value:.4f}")
                else:
                    cells.append(str(value))
            out.append([label, *cells])
        return out

    def is_empty(self) -> bool:
        return not self.rows or all(value is None for _label, values in self.rows for value in values)


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


def _open_svg(uid: str, table: ChartTable, description: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="stats-chart__svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="{uid}-title {uid}-desc" focusable="false">',
        f'<title id="{uid}-title">{escape(table.title)}</title>',
        f'<desc id="{uid}-desc">{escape(description)}</desc>',
    ]


def _axes(parts: list[str], top: float, table: ChartTable, y_label: str, x_label: str) -> None:
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    for step in range(5):
        fraction = step / 4
        y = MARGIN_TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{WIDTH - MARGIN_RIGHT}" y2="{y:.1f}" '
            f'stroke="#d0d5dd" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{MARGIN_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="#333">'
            f"{escape(_axis_label(top * fraction, table.kind))}</text>"
        )
    base = MARGIN_TOP + plot_h
    parts.append(f'<line x1="{MARGIN_LEFT}" y1="{base}" x2="{WIDTH - MARGIN_RIGHT}" y2="{base}" stroke="#333"/>')
    parts.append(
        f'<text x="16" y="{MARGIN_TOP + plot_h / 2:.1f}" transform="rotate(-90 16 {MARGIN_TOP + plot_h / 2:.1f})" '
        f'text-anchor="middle" font-size="12" fill="#333" class="stats-chart__axis-label">{escape(y_label)}</text>'
    )
    parts.append(
        f'<text x="{MARGIN_LEFT + (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / 2:.1f}" y="{HEIGHT - 8}" '
        f'text-anchor="middle" font-size="12" fill="#333" class="stats-chart__axis-label">{escape(x_label)}</text>'
    )


def _legend(parts: list[str], labels: list[str]) -> None:
    x = MARGIN_LEFT
    y = HEIGHT - 30
    for index, label in enumerate(labels):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}" font-size="11" fill="#333">{escape(label)}</text>')
        x += 24 + 6.5 * len(label)


def _x_positions(count: int) -> tuple[float, list[float]]:
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    slot = plot_w / max(count, 1)
    return slot, [MARGIN_LEFT + slot * (index + 0.5) for index in range(count)]


def _category_labels(parts: list[str], labels: list[str], centres: list[float]) -> None:
    y = HEIGHT - MARGIN_BOTTOM + 16
    stride = max(1, math.ceil(len(labels) / 12))  # keep labels from overlapping on long series
    for index, (label, x) in enumerate(zip(labels, centres, strict=True)):
        if index % stride == 0:
            parts.append(f'<text x="{x:.1f}" y="{y}" text-anchor="middle" font-size="12" fill="#333">'
                         f"{escape(label)}</text>")


def _describe(table: ChartTable) -> str:
    if table.description:
        return table.description
    if table.is_empty():
        return "No figures are available for this chart."
    first, last = table.rows[0][0], table.rows[-1][0]
    series = ", ".join(table.columns)
    return f"{series} by {table.row_header.lower()}, {first} to {last}. The same figures are in the table below."


def _empty(parts: list[str]) -> str:
    parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" font-size="14" fill="#333">'
                 "No figures available</text></svg>")
    return "".join(parts)


def line_chart_svg(table: ChartTable, uid: str, y_label: str = "", x_label: str = "") -> str:
    """A line per column over the rows (periods). Gaps where a value is missing."""
    parts = _open_svg(uid, table, _describe(table))
    if table.is_empty():
        return _empty(parts)
    top = _top(table)
    _axes(parts, top, table, y_label, x_label or table.row_header)
    _slot, centres = _x_positions(len(table.rows))
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    for series, name in enumerate(table.columns):
        colour = PALETTE[series % len(PALETTE)]
        segment: list[str] = []
        segments: list[list[str]] = [segment]
        for (label, values), x in zip(table.rows, centres, strict=True):
            value = values[series]
            if value is None:
                segment = []
                segments.append(segment)
                continue
            y = MARGIN_TOP + plot_h * (1 - value / top)
            segment.append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
                f"<title>{escape(f'{name}, {label}: {table.format(value)}')}</title></circle>"
            )
        for points in segments:
            if len(points) > 1:
                parts.append(
                    f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
                )
    if len(table.columns) > 1:
        _legend(parts, table.columns)
    _category_labels(parts, [label for label, _ in table.rows], centres)
    parts.append("</svg>")
    return "".join(parts)


def bar_chart_svg(table: ChartTable, uid: str, y_label: str = "", x_label: str = "") -> str:
    """Grouped vertical bars: one group per row, one bar per column."""
    parts = _open_svg(uid, table, _describe(table))
    if table.is_empty():
        return _empty(parts)
    top = _top(table)
    _axes(parts, top, table, y_label, x_label or table.row_header)
    slot, centres = _x_positions(len(table.rows))
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    count = max(len(table.columns), 1)
    bar_w = slot * 0.8 / count
    for (label, values), centre in zip(table.rows, centres, strict=True):
        for series, value in enumerate(values):
            if value is None:
                continue
            height = plot_h * value / top
            x = centre - slot * 0.4 + bar_w * series
            y = MARGIN_TOP + plot_h - height
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{height:.1f}" '
                f'fill="{PALETTE[series % len(PALETTE)]}">'
                f"<title>{escape(f'{table.columns[series]}, {label}: {table.format(value)}')}</title></rect>"
            )
    if len(table.columns) > 1:
        _legend(parts, table.columns)
    _category_labels(parts, [label for label, _ in table.rows], centres)
    parts.append("</svg>")
    return "".join(parts)


def stacked_bar_svg(table: ChartTable, uid: str, y_label: str = "", x_label: str = "") -> str:
    """One vertical bar per row, stacked from the columns (meant for shares that add up to 100%)."""
    parts = _open_svg(uid, table, _describe(table))
    if table.is_empty():
        return _empty(parts)
    top = max(1.0, _top(table, stacked=True)) if table.kind == "percent" else _top(table, stacked=True)
    _axes(parts, top, table, y_label, x_label or table.row_header)
    slot, centres = _x_positions(len(table.rows))
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    bar_w = slot * 0.6
    for (label, values), centre in zip(table.rows, centres, strict=True):
        y = MARGIN_TOP + plot_h
        for series, value in enumerate(values):
            if not value:
                continue
            height = plot_h * value / top
            y -= height
            parts.append(
                f'<rect x="{centre - bar_w / 2:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{height:.1f}" '
                f'fill="{PALETTE[series % len(PALETTE)]}" stroke="#fff" stroke-width="1">'
                f"<title>{escape(f'{table.columns[series]}, {label}: {table.format(value)}')}</title></rect>"
            )
    _legend(parts, table.columns)
    _category_labels(parts, [label for label, _ in table.rows], centres)
    parts.append("</svg>")
    return "".join(parts)


def horizontal_bar_svg(table: ChartTable, uid: str, column: int = 0, x_label: str = "") -> str:
    """One horizontal bar per row for a single column (e.g. a measure per country)."""
    values = [(label, row[column]) for label, row in table.rows]
    row_h = 24
    height = MARGIN_TOP + row_h * max(len(values), 1) + 40
    label_w = 150
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="stats-chart__svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-labelledby="{uid}-title {uid}-desc" focusable="false">',
        f'<title id="{uid}-title">{escape(table.title)}</title>',
        f'<desc id="{uid}-desc">{escape(_describe(table))}</desc>',
    ]
    present = [value for _label, value in values if value is not None]
    if not present:
        parts.append(f'<text x="{WIDTH / 2}" y="{height / 2}" text-anchor="middle" font-size="14">'
                     "No figures available</text></svg>")
        return "".join(parts)
    col_kind = table.column_kinds[column] if table.column_kinds else table.kind
    top = max(1.0, nice_max(max(present))) if col_kind == "percent" else nice_max(max(present))
    plot_w = WIDTH - label_w - MARGIN_RIGHT - 60
    for index, (label, value) in enumerate(values):
        y = MARGIN_TOP + row_h * index
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="12" fill="#333">'
                     f"{escape(label)}</text>")
        if value is None:
            parts.append(f'<text x="{label_w + 4}" y="{y + 16}" font-size="12" fill="#333">n/a</text>')
            continue
        bar = plot_w * value / top
        shown = table.format(value, table.kind_at(index, column))
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{bar:.1f}" height="{row_h - 8}" fill="{PALETTE[0]}"/>')
        parts.append(f'<text x="{label_w + bar + 6:.1f}" y="{y + 16}" font-size="12" fill="#333">'
                     f"{escape(shown)}</text>")
    axis_y = MARGIN_TOP + row_h * len(values) + 24
    parts.append(f'<text x="{label_w + plot_w / 2:.1f}" y="{axis_y}" text-anchor="middle" font-size="12" '
                 f'fill="#333" class="stats-chart__axis-label">{escape(x_label or table.columns[column])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _top(table: ChartTable, stacked: bool = False) -> float:
    if stacked:
        highest = max((sum(value or 0 for value in values) for _label, values in table.rows), default=0)
    else:
        highest = max((value for _label, values in table.rows for value in values if value is not None), default=0)
    if table.kind == "percent":
        return min(nice_max(highest), 1.0) if highest <= 1 else nice_max(highest)
    return nice_max(highest)


__all__ = [
    "ChartTable",
    "bar_chart_svg",
    "horizontal_bar_svg",
    "line_chart_svg",
    "nice_max",
    "stacked_bar_svg",
]
