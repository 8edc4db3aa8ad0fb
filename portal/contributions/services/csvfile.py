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
    known = {spec.code: spec for spec in specs}
    if "\x00" in text:
        raise UploadError("The file contains binary data; upload the CSV saved from the template.")
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    index = _column_index(_header(reader))
    values: dict[str, str] = {}
    comments: dict[str, str] = {}
    rows: dict[str, int] = {}
    problems: list[Problem] = []
    for number, cells in _filled_rows(reader):
        code = _cell(cells, index, "measure").lower()
        problem = _row_problem(code, number, known, rows)
        if problem is not None:
            problems.append(problem)
            continue
        rows[code] = number
        values[code] = _cell(cells, index, "value")
        comments[code] = _cell(cells, index, "comment")
    return values, comments, rows, problems


def _filled_rows(reader):
    """(row number as a spreadsheet shows it, cells) of each row after the header that is not blank."""
    try:
        for number, cells in enumerate(reader, start=2):
            if number > MAX_ROWS:
                raise UploadError(f"The file has more than {MAX_ROWS} rows; the template has one row per measure.")
            if "".join(cells).strip():
                yield number, cells
    except csv.Error as error:
        raise UploadError(f"Row {reader.line_num} cannot be read as CSV ({error}).") from None


def _delimiter(text: str) -> str:
    """Spreadsheets in some languages save with semicolons: the header line (plain words) tells which was used."""
    first_line = text.split("\n", 1)[0]
    return max(",;\t", key=first_line.count)  # the first, ",", when none is used


def _header(reader) -> list[str]:
    try:
        return next(reader)
    except StopIteration:
        raise UploadError("The file is empty. Download the template, fill in the value column and upload it.") \
            from None
    except csv.Error as error:
        raise UploadError(f"Row 1 cannot be read as CSV ({error}).") from None


def _column_index(header: list[str]) -> dict[str, int]:
    """Where each column is, by its name in lower case (the first column of a name counts; ``measure`` and
    ``value`` are required, ``comment`` is optional)."""
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        index.setdefault(name.strip().lower(), position)
    missing = [name for name in REQUIRED if name not in index]
    if missing:
        raise UploadError(f'Row 1 (the header) has no "{missing[0]}" column. Columns needed: measure, value; '
                          f"comment is optional.")
    return index


def _cell(cells: list[str], index: dict[str, int], name: str) -> str:
    position = index.get(name)
    return cells[position].strip() if position is not None and position < len(cells) else ""


def _row_problem(code: str, number: int, known: dict, rows: dict[str, int]) -> Problem | None:
    """An unknown or repeated measure (the row is then skipped)."""
    if code not in known:
        shown = code if len(code) <= 60 else code[:60] + "…"
        return Problem(code, shown or "(blank)", "is not one of the measures asked for this period "
                       f"({', '.join(known)}).", number)
    if code in rows:
        return Problem(code, known[code].label, f"appears twice (rows {rows[code]} and {number}); "
                       "keep one row per measure.", number)
    return None
