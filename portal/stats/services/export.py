"""CSV downloads: a whole dataset (in the import format, so it can be edited and re-imported) or one chart."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from django.utils.text import slugify

from portal.core.spreadsheets import safe_row
from portal.stats.models.datasets import Dataset, Measure, Observation, PeriodNote
from portal.stats.services.parser import NOTE_COLUMNS


class _Echo:
    """A file-like object whose write returns the line, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


def dataset_csv_rows(dataset: Dataset) -> Iterator[list[str]]:
    """The dataset as CSV rows: period, country, organisation and one column per measure it uses.

    Three queries (measures, observations read in chunks, period notes) whatever the size.
    """
    measure_order = list(Measure.objects.values_list("code", flat=True))
    observations = (
        Observation.objects.filter(dataset=dataset)
        .order_by("period_key", "country", "organisation")
        .values_list("year", "quarter", "country", "organisation", "values")
    )
    used: set[str] = set()
    rows = []
    for year, quarter, country, organisation, values in observations.iterator(chunk_size=2000):
        used.update(values)
        rows.append((year, quarter, country, organisation, values))
    codes = [code for code in measure_order if code in used] + sorted(used - set(measure_order))
    # Where each period's figures come from and what changed after release: two last columns, ignored on import.
    notes = {note.period_key: (note.coverage, note.correction)
             for note in PeriodNote.objects.filter(dataset=dataset) if note.coverage or note.correction}
    yield ["period", "country", "organisation", *codes, *(NOTE_COLUMNS if notes else ())]
    for year, quarter, country, organisation, values in rows:
        period = f"{year}-Q{quarter}" if quarter else str(year)
        extra = list(notes.get(year * 10 + (quarter or 0), ("", ""))) if notes else []
        yield [period, country, organisation, *("" if values.get(c) is None else str(values[c]) for c in codes),
               *extra]


def csv_response(rows: Iterable[list[str]], filename: str) -> StreamingHttpResponse:
    """Stream rows as a CSV attachment, every cell neutralised against formulas (``portal.core.spreadsheets``)."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(safe_row(row)) for row in rows),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(filename) or "statistics"}.csv"'
    return response
