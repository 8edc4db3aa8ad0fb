"""Reading and checking an observations CSV file: the header, then every row, cell by cell.

The column format is documented in ``docs/statistics.md``. Rows are numbered as in a spreadsheet (the header is
row 1), and every problem names its row and column in plain words. Each column has one validator
(``check_period``, ``check_country``, ``check_organisation``, ``check_count``) that returns the cell's value or
raises ``CellError`` with the message a reader sees; a form taking the same figures can use them too.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from portal.stats.models.datasets import country_codes, period_key

PERIOD = "period"
COUNTRY = "country"
ORGANISATION = "organisation"
REQUIRED_COLUMNS = (PERIOD, COUNTRY)
KEY_COLUMNS = (PERIOD, COUNTRY, ORGANISATION)
# Written by the dataset CSV for readers (where a period's figures come from, what changed after release) and
# ignored on import, so a downloaded file can be edited and imported again as it is.
NOTE_COLUMNS = ("coverage", "changed_after_release")
PERIOD_RE = re.compile(r"^(\d{4})(?:-?Q([1-4]))?$", re.IGNORECASE)
MIN_YEAR, MAX_YEAR = 1990, 2100
MAX_ORGANISATION_LENGTH = 200
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RowError:
    """One problem in the file, with the row (header = 1) and column it was found in."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"Row {self.row}"
        if self.column:
            where += f', column "{self.column}"'
        return f"{where}: {self.message}"


@dataclass
class ParsedRow:
    row: int
    year: int
    quarter: int | None
    country: str
    organisation: str
    values: dict[str, int | None]  # every measure column of the file; None = blank cell (not reported)

    @property
    def key(self) -> tuple[int, str, str]:
        return (period_key(self.year, self.quarter), self.country, self.organisation)


class CellError(ValueError):
    """What is wrong with one cell, in words for the person who wrote the file."""


# --- One validator per column: the cell's text (stripped) in, its value out ------------------------------------


def check_period(raw: str) -> tuple[int, int | None]:
    """ "2014" → (2014, None); "2014-Q2" or "2014q2" → (2014, 2)."""
    match = PERIOD_RE.match(raw)
    if not match or not MIN_YEAR <= int(match.group(1)) <= MAX_YEAR:
        raise CellError(f'bad period "{raw}": write a year such as 2014 or a year and quarter such as 2014-Q2.')
    return int(match.group(1)), int(match.group(2)) if match.group(2) else None


def check_country(raw: str) -> str:
    """An ISO 3166 alpha-2 code in upper case, or "" for network-wide figures."""
    code = raw.upper()
    if code and code not in country_codes():
        raise CellError(f'unknown country code "{raw}": use a two-letter ISO 3166 code such as DE, or leave it '
                        "blank for network-wide figures.")
    return code


def check_organisation(raw: str) -> str:
    """The hotline or organisation name; "" for all of them."""
    if len(raw) > MAX_ORGANISATION_LENGTH:
        raise CellError(f"the organisation name is longer than {MAX_ORGANISATION_LENGTH} characters.")
    if CONTROL_RE.search(raw):
        # PostgreSQL cannot store NUL in text, and no organisation name contains line breaks or tabs.
        raise CellError("the organisation name contains a control character (such as a line break or a NUL byte).")
    return raw


def check_count(raw: str) -> int | None:
    """A figure: a whole number of at least 0, or None for a blank cell (not reported)."""
    if raw == "":
        return None
    try:
        number = int(raw)
    except ValueError:
        raise CellError(f'"{raw}" is not a whole number.') from None
    if number < 0:
        raise CellError(f"negative count {number}: counts cannot be below zero.")
    return number


# --- The header ------------------------------------------------------------------------------------------------


def _column_problem(name: str, seen: set[str], measure_codes: set[str]) -> str | None:
    if not name:
        return "this column has no name in the header row."
    if name in seen:
        return "this column appears twice in the header row."
    if name not in {*KEY_COLUMNS, *NOTE_COLUMNS, *measure_codes}:
        known = ", ".join([*KEY_COLUMNS, *sorted(measure_codes)])
        return f'unknown column "{name}". Known columns are: {known}.'
    return None


def check_header(columns: list[str], measure_codes: set[str]) -> list[RowError]:
    """Every problem with the (lower-cased, stripped) column names of the header row."""
    errors = _column_errors(columns, measure_codes)
    errors += [RowError(1, required, f'the required column "{required}" is missing from the header.')
               for required in REQUIRED_COLUMNS if required not in columns]
    if not errors and not measure_codes.intersection(columns):
        errors.append(RowError(1, "", "the file has no figure columns (such as items_removed)."))
    return errors


def _column_errors(columns: list[str], measure_codes: set[str]) -> list[RowError]:
    errors, seen = [], set()
    for position, name in enumerate(columns, start=1):
        problem = _column_problem(name, seen, measure_codes)
        if problem:
            errors.append(RowError(1, name or f"#{position}", problem))
        seen.add(name)
    return errors


# --- The rows --------------------------------------------------------------------------------------------------


@dataclass
class _RowChecker:
    """Checks the data rows of a file whose header is valid, collecting its rows and errors."""

    validators: list[tuple[str, int, Callable[[str], Any]]]  # (column, position, validator), in error order
    measure_columns: list[str]
    width: int
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    first_row_of_key: dict[tuple[int, str, str], int] = field(default_factory=dict)

    @classmethod
    def for_columns(cls, columns: list[str], measure_columns: list[str]) -> _RowChecker:
        position = {name: index for index, name in enumerate(columns)}
        keys = [(PERIOD, check_period), (COUNTRY, check_country), (ORGANISATION, check_organisation)]
        validators = [(name, position[name], check) for name, check in keys if name in position]
        validators += [(name, position[name], check_count) for name in measure_columns]
        return cls(validators, measure_columns, len(columns))

    def check_all(self, numbered_rows: Iterable[tuple[int, list[str]]], progress: Progress, every: int) -> None:
        for number, cells in numbered_rows:
            if self.check(number, cells) and (number - 1) % every == 0:
                progress("checking", number - 1, 0)

    def check(self, number: int, cells: list[str]) -> bool:
        """Check one row; False when it was skipped (blank, or the wrong number of cells)."""
        if not any(cell.strip() for cell in cells):
            return False  # blank lines are allowed, e.g. at the end of the file
        if len(cells) != self.width:
            self.errors.append(RowError(number, "", f"this row has {len(cells)} cells but the header has "
                                                    f"{self.width}."))
            return False
        values, problems = self._cell_values(number, cells)
        self.errors += problems
        if not problems:
            self._add(self._parsed(number, values))
        return True

    def _cell_values(self, number: int, cells: list[str]) -> tuple[dict[str, Any], list[RowError]]:
        values, problems = {}, []
        for name, position, validate in self.validators:
            try:
                values[name] = validate(cells[position].strip())
            except CellError as problem:
                problems.append(RowError(number, name, str(problem)))
        return values, problems

    def _parsed(self, number: int, values: dict[str, Any]) -> ParsedRow:
        year, quarter = values[PERIOD]
        figures = {name: values[name] for name in self.measure_columns}
        return ParsedRow(number, year, quarter, values[COUNTRY], values.get(ORGANISATION, ""), figures)

    def _add(self, parsed: ParsedRow) -> None:
        first = self.first_row_of_key.setdefault(parsed.key, parsed.row)
        if first != parsed.row:
            self.errors.append(RowError(parsed.row, PERIOD, f"duplicate of row {first}: the same period, country "
                                                            "and organisation appear twice in the file."))
        else:
            self.rows.append(parsed)


def _numbered(reader: Iterator[list[str]], errors: list[RowError]) -> Iterator[tuple[int, list[str]]]:
    """The data rows numbered from 2; a row the csv module cannot read ends the file with an error."""
    number = 1
    try:
        for number, cells in enumerate(reader, start=2):
            yield number, cells
    except csv.Error as exc:
        errors.append(RowError(number + 1, "", f"this row cannot be read as CSV ({exc})."))


def no_progress(stage: str, done: int, total: int) -> None:
    """The default ``Progress``: report nothing."""
    return None


def parse_csv(
    text: str, measure_codes: set[str], progress: Progress = no_progress, every: int = 5000
) -> tuple[list[ParsedRow], list[str], list[RowError]]:
    """Read and check a CSV text. Returns the rows, the measure columns of the file, and the errors."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    columns, errors = _read_header(reader)
    measure_columns = [name for name in columns if name in measure_codes]
    errors = errors or check_header(columns, measure_codes)
    if errors:
        return [], measure_columns, errors
    checker = _RowChecker.for_columns(columns, measure_columns)
    read_errors: list[RowError] = []
    checker.check_all(_numbered(reader, read_errors), progress, every)
    return checker.rows, measure_columns, checker.errors + read_errors


def _read_header(reader: Iterator[list[str]]) -> tuple[list[str], list[RowError]]:
    """The column names, lower-cased and stripped, or the reason there are none."""
    try:
        return [name.strip().lower() for name in next(reader)], []
    except StopIteration:
        return [], [RowError(1, "", "the file is empty; the first row must name the columns.")]
    except csv.Error as exc:
        return [], [RowError(1, "", f"this is not a readable CSV file ({exc}).")]
