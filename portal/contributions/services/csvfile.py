"""The CSV a hotline can download as a template, fill in a spreadsheet and upload instead of using the form.

One row per measure (``measure,label,unit,definition,caveat,value,comment``): the long layout keeps each
measure's definition next to the cell to fill in. Only ``measure``, ``value`` and ``comment`` are read back;
the other columns are there for the person filling it in. Rows are numbered as a spreadsheet shows them
(the header is row 1), and every problem names its row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from portal.core.spreadsheets import safe_row

from .validation import MeasureSpec, Problem

COLUMNS = ["measure", "label", "unit", "definition", "caveat", "value", "comment"]
REQUIRED = ("measure", "value")
MAX_ROWS = 500


class UploadError(ValueError):
    """The file cannot be read at all (encoding, header); the message says what to fix."""


def template_csv(measures: Iterable, values: dict | None = None, comments: dict | None = None) -> str:
    """The template for these measures, prefilled with a draft's values and comments if given."""
    values, comments = values or {}, comments or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for measure in measures:
        value = values.get(measure.code, "")
        writer.writerow(safe_row([measure.code, measure.label, measure.unit, measure.description,
                                  getattr(measure, "caveat", ""), value, comments.get(measure.code, "")]))
    return out.getvalue()


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without the byte-order mark Excel writes)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadError("The file is not UTF-8 text. In your spreadsheet, save it as \"CSV UTF-8\".") from None


def read_upload(text: str, specs: Iterable[MeasureSpec]):
    """Read an uploaded file into (raw values, raw comments, rows, problems).

    Problems here are about the file's rows (unknown or repeated measures); the figures themselves are checked
    by ``validation.check`` with the returned ``rows`` so its problems name the row as well.
    """
    specs = list(specs)
    known = {spec.code: spec for spec in specs}
    if "\x00" in text:
        raise UploadError("The file contains binary data; upload the CSV saved from the template.")
    # Spreadsheets in some languages save with semicolons: the header line (plain words) tells which was used.
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count) if first_line else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise UploadError("The file is empty. Download the template, fill in the value column and upload it.") \
            from None
    except csv.Error as error:
        raise UploadError(f"Row 1 cannot be read as CSV ({error}).") from None
    names = [name.strip().lower() for name in header]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise UploadError(f'Row 1 (the header) has no "{missing[0]}" column. Columns needed: measure, value; '
                          f"comment is optional.")
    index = {name: names.index(name) for name in ("measure", "value", "comment") if name in names}
    values: dict[str, str] = {}
    comments: dict[str, str] = {}
    rows: dict[str, int] = {}
    problems: list[Problem] = []
    try:
        for number, cells in enumerate(reader, start=2):
            if number > MAX_ROWS:
                raise UploadError(f"The file has more than {MAX_ROWS} rows; the template has one row per measure.")
            if not any(cell.strip() for cell in cells):
                continue

            def cell(name, cells=cells):
                position = index.get(name)
                return cells[position].strip() if position is not None and position < len(cells) else ""

            code = cell("measure").lower()
            if code not in known:
                shown = code if len(code) <= 60 else code[:60] + "…"
                problems.append(Problem(code, shown or "(blank)", "is not one of the measures asked for this period "
                                        f"({', '.join(known)}).", number))
                continue
            if code in rows:
                problems.append(Problem(code, known[code].label, f"appears twice (rows {rows[code]} and {number}); "
                                        "keep one row per measure.", number))
                continue
            rows[code] = number
            values[code] = cell("value")
            comments[code] = cell("comment")
    except csv.Error as error:
        raise UploadError(f"Row {reader.line_num} cannot be read as CSV ({error}).") from None
    return values, comments, rows, problems
