"""CSV downloads: a whole dataset (in the import format, so it can be edited and re-imported) or one chart."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from django.utils.text import slugify

from portal.core.spreadsheets import safe_row
from portal.stats.models.datasets import Dataset, Measure, Observation, PeriodNote, period_key, period_label
from portal.stats.services.parser import NOTE_COLUMNS


class _Echo:
    """A file-like object whose write returns the line, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


def dataset_csv_rows(dataset: Dataset) -> Iterator[list[str]]:
    """The dataset as CSV rows: period, country, organisation and one column per measure it uses.

    Three queries (measures, observations read in chunks, period notes) whatever the size.
    """
    rows = list(
        Observation.objects.filter(dataset=dataset)
        .order_by("period_key", "country", "organisation")
        .values_list("year", "quarter", "country", "organisation", "values")
        .iterator(chunk_size=2000)
    )
    codes = _measure_columns(rows)
    # Where each period's figures come from and what changed after release: two last columns, ignored on import.
    notes = _period_notes(dataset)
    yield ["period", "country", "organisation", *codes, *(NOTE_COLUMNS if notes else ())]
    for year, quarter, country, organisation, values in rows:
        figures = ("" if values.get(code) is None else str(values[code]) for code in codes)
        extra = notes.get(period_key(year, quarter), ("", "")) if notes else ()
        yield [period_label(year, quarter), country, organisation, *figures, *extra]


def _measure_columns(rows: list[tuple]) -> list[str]:
    """The measure codes the rows use: the known measures in their order, then any other code alphabetically."""
    used = {code for *_where, values in rows for code in values}
    order = list(Measure.objects.values_list("code", flat=True))
    return [code for code in order if code in used] + sorted(used - set(order))


def _period_notes(dataset: Dataset) -> dict[int, tuple[str, str]]:
    """Period key → (coverage, correction) of the dataset's periods that have either."""
    notes = PeriodNote.objects.filter(dataset=dataset).exclude(coverage="", correction="")
    return {period_key: (coverage, correction) for period_key, coverage, correction
            in notes.values_list("period_key", "coverage", "correction")}


def csv_response(rows: Iterable[list[str]], filename: str) -> StreamingHttpResponse:
    """Stream rows as a CSV attachment, every cell neutralised against formulas (``portal.core.spreadsheets``)."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(safe_row(row)) for row in rows),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(filename) or "statistics"}.csv"'
    return response
