"""The numbers behind each chart block: a ``ChartTable`` built from a dataset's figures (``DatasetData``).

Every table is rows of cells read through ``Figure``s: what a column (or, for the KPI tiles, a row) shows, how it
is formatted, and how it is read from one period's figures. The chart, the accessible table and the CSV are all
drawn from the table (``portal.stats.services.charts``), so they carry the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django_countries import countries

from portal.stats.services.charts import ChartTable
from portal.stats.services.data import DatasetData
from portal.stats.services.kpis import (
    DAYS_4_TO_7,
    NOT_REPORTED,
    OVER_7_DAYS,
    WITHIN_3_DAYS,
    removal_time_shares,
    share_removed_within_three_days,
    year_on_year_change,
)

SHARE_WITHIN_3_DAYS = "share_within_3_days"  # the computed series editors can chart beside the measures
COUNT, PERCENT, CHANGE = "count", "percent", "change"
Period = tuple[int, str]  # (period key, label)


@dataclass(frozen=True)
class Figure:
    """One figure a table shows: its label, how it is formatted, and how it is read from a period's figures."""

    label: str
    kind: str  # COUNT, PERCENT (a share 0-1) or CHANGE (relative, 0.1 = +10%)
    read: Callable[[Mapping[str, int]], float | int | None]


def measure(code: str, label: str) -> Figure:
    """A measure as counted, e.g. items_removed."""
    return Figure(label, COUNT, lambda values: values.get(code))


def share_within_three_days(label: str) -> Figure:
    return Figure(label, PERCENT, share_removed_within_three_days)


def _removal_share(bucket: str, label: str) -> Figure:
    return Figure(label, PERCENT, lambda values: removal_time_shares(values)[bucket])


REMOVAL_TIMES = [_removal_share(WITHIN_3_DAYS, "Within 3 days"), _removal_share(DAYS_4_TO_7, "4 to 7 days"),
                 _removal_share(OVER_7_DAYS, "Over 7 days")]
TIME_NOT_REPORTED = _removal_share(NOT_REPORTED, "Time not reported")


@dataclass(frozen=True)
class Definition:
    """What a computed figure is, printed beside it like a measure's definition."""

    label: str
    unit: str
    description: str
    caveat: str = ""


SHARE_DEFINITION = Definition(
    "Share removed within 3 days", "%", "Items removed within three days of the report, divided by all items "
    "removed; computed from the hotlines' counts, never averaged from percentages.",
)


def measure_definitions(table: ChartTable, data: DatasetData, codes: Iterable[str] = ()) -> list:
    """The measures a table shows (the block's codes, or their label in its title, columns or rows), for the
    definitions and caveats printed beside it."""
    codes = set(codes)
    shown = {*table.columns, *(label for label, _cells in table.rows)}
    found = [measure for measure in data.measures.values()
             if (measure.description or measure.caveat) and _shows_measure(measure, codes, shown, table.title)]
    return [*found, SHARE_DEFINITION] if _shows_share(codes, shown) else found


def _shows_measure(measure, codes: set[str], shown: set[str], title: str) -> bool:
    """Whether a table shows a measure: one of the block's codes, or its label in a column or row, or the title."""
    return measure.code in codes or measure.label in shown or measure.label in title


def _shows_share(codes: set[str], shown: set[str]) -> bool:
    """Whether a table shows the computed share removed within 3 days: the block's series, or a column or row
    named for it."""
    return SHARE_WITHIN_3_DAYS in codes or any("within 3 days" in label.lower() for label in shown)


def note_text(note) -> str:
    """A period note in one line: where the figures come from, and what changed after release."""
    parts = [note.coverage.rstrip(".")] if note.coverage else []
    if note.correction:
        parts.append(f"changed after release: {note.correction}")
    return ". ".join(parts)


def period_notes(table: ChartTable, data: DatasetData) -> dict[str, str]:
    """Period label → note text, for the periods a table shows that have one."""
    return {note.period: text for note in data.notes_for(table.periods) if (text := note_text(note))}


def cells(figures: Iterable[Figure], values: Mapping[str, int]) -> list[float | int | None]:
    return [figure.read(values) for figure in figures]


def place_name(code: str) -> str:
    """A country's name, or "Network total" for "" (network-wide figures)."""
    return countries.name(code) or code if code else "Network total"


def series_figure(data: DatasetData, code: str) -> Figure:
    """What a time series of ``code`` (a measure, or the computed share) shows."""
    if code == SHARE_WITHIN_3_DAYS:
        return share_within_three_days("Share removed within 3 days")
    return measure(code, data.measure_label(code))


# --- One table per chart block ---------------------------------------------------------------------------------


def kpi_table(data: DatasetData, *, heading: str, period: Period | None, place: str) -> ChartTable:
    """Headline figures of one period for a place, a row each, with the change from a year before."""
    heading = heading or "Key figures"
    if period is None:
        return ChartTable(title=heading, row_header="Figure", columns=["Value"], rows=[])
    key, label = period
    values = data.values_for(place, key)
    previous = data.previous_period(key)
    figures = [
        measure("reports_received", "Reports received"),
        measure("reports_illegal", "Reports assessed as illegal"),
        measure("items_removed", "Items removed"),
        share_within_three_days("Share of removed items taken down within 3 days"),
        _change_since(data, place, previous),
    ]
    return ChartTable(title=f"{heading}: {place_name(place)}, {label}", row_header="Figure", columns=[label],
                      rows=[(figure.label, [figure.read(values)]) for figure in figures],
                      row_kinds=[figure.kind for figure in figures], periods=[label])


def _change_since(data: DatasetData, place: str, previous: Period | None) -> Figure:
    before = data.values_for(place, previous[0]) if previous else {}
    return Figure(f"Change in reports received since {previous[1] if previous else 'the year before'}", CHANGE,
                  lambda values: year_on_year_change(values.get("reports_received"), before.get("reports_received")))


def time_series_table(data: DatasetData, *, heading: str, figure: Figure, places: list[str], granularity: str,
                      description: str) -> ChartTable:
    """One figure over the periods, a column per place ("" = the network)."""
    rows = [(label, [figure.read(data.values_for(place, key)) for place in places])
            for key, label in data.periods_of(granularity)]
    return ChartTable(title=heading or figure.label, row_header="Period", columns=list(map(place_name, places)),
                      rows=rows, kind=figure.kind, description=description, value_label=figure.label,
                      periods=[label for label, _cells in rows])


def removal_time_table(data: DatasetData, *, heading: str, place: str, granularity: str) -> ChartTable:
    """The share of removed items by time to removal, per period; "Time not reported" only where it happens."""
    per_period = [(label, data.values_for(place, key)) for key, label in data.periods_of(granularity)]
    unreported = any(TIME_NOT_REPORTED.read(values) for _label, values in per_period)
    figures = [*REMOVAL_TIMES, TIME_NOT_REPORTED] if unreported else REMOVAL_TIMES
    where = place_name(place)
    return _by_figure(
        f"{heading or 'Removal times'}: {where}", "Period", figures, per_period, kind=PERCENT,
        description=f"Share of removed items by time to removal, {where}, per period. The same figures are in the "
                    "table below.",
        periods=[label for label, _values in per_period],
    )


def country_table(data: DatasetData, *, heading: str, period: Period | None, figures: list[Figure]) -> ChartTable:
    """The figures of one period, a row per country that reported any; ``figures`` names at least one (the block
    falls back to its default measures)."""
    label = period[1] if period else ""
    return _by_figure(
        f"{heading or 'Figures by country'}, {label}".rstrip(", "), "Country", figures, _per_country(data, period),
        description=f"{figures[0].label} per country in {label}. All figures are in the table below.",
        periods=[label] if label else [],
    )


def _per_country(data: DatasetData, period: Period | None) -> list[tuple[str, Mapping[str, int]]]:
    """(name, figures) of each country with figures in the period, in the order of their names."""
    if period is None:
        return []
    return [(place_name(code), values) for code in data.countries if (values := data.country_values(code, period[0]))]


def _by_figure(title: str, row_header: str, figures: list[Figure], rows: list[tuple[str, Mapping[str, int]]],
               **options: Any) -> ChartTable:
    """A row per (label, figures), a column per ``Figure``."""
    return ChartTable(title=title, row_header=row_header, columns=[figure.label for figure in figures],
                      rows=[(label, cells(figures, values)) for label, values in rows],
                      column_kinds=[figure.kind for figure in figures], **options)
