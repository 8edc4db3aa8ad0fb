"""CSV import of observations: validate every row, then upsert all of them in one transaction.

The column format is documented in ``docs/statistics.md``. Rows are numbered as in a spreadsheet (the header
is row 1), and every problem names its row and column in plain words. Nothing is written unless the whole
file is valid; importing the same file again changes nothing (rows are matched on the natural key period +
country + organisation, and rows whose figures are the same are counted as unchanged).

Speed: one query reads the dataset's existing keys and figures, then batched ``executemany`` inserts and
updates write the changes, so an import costs a handful of round trips however many rows the file has.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction

from portal.stats.models.datasets import Dataset, Measure, Observation, country_codes, period_key
from portal.stats.services.kpis import ITEMS_REMOVED, REMOVAL_BUCKETS, format_count

PERIOD = "period"
COUNTRY = "country"
ORGANISATION = "organisation"
REQUIRED_COLUMNS = (PERIOD, COUNTRY)
KEY_COLUMNS = (PERIOD, COUNTRY, ORGANISATION)
PERIOD_RE = re.compile(r"^(\d{4})(?:-?Q([1-4]))?$", re.IGNORECASE)
MIN_YEAR, MAX_YEAR = 1990, 2100
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
BATCH_SIZE = 1000

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
class ImportResult:
    """What an import did (or, in a dry run, would do)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        verb = "would be" if self.dry_run else "were"
        if self.errors:
            return f"{len(self.errors)} problem(s) found; nothing {verb} imported."
        return (
            f"{self.rows} rows: {self.created} {verb} created, {self.updated} {verb} updated, "
            f"{self.unchanged} unchanged."
        )


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


def _noop_progress(stage: str, done: int, total: int) -> None:
    return None


def parse_csv(
    text: str, measure_codes: set[str], progress: Progress = _noop_progress, every: int = 5000
) -> tuple[list[ParsedRow], list[str], list[RowError]]:
    """Read and check a CSV text. Returns the rows, the measure columns of the file, and the errors."""
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    errors: list[RowError] = []
    try:
        header = next(reader)
    except StopIteration:
        return [], [], [RowError(1, "", "the file is empty; the first row must name the columns.")]
    except csv.Error as exc:
        return [], [], [RowError(1, "", f"this is not a readable CSV file ({exc}).")]

    columns = [name.strip().lower() for name in header]
    seen: set[str] = set()
    for position, name in enumerate(columns, start=1):
        if not name:
            errors.append(RowError(1, f"#{position}", "this column has no name in the header row."))
        elif name in seen:
            errors.append(RowError(1, name, "this column appears twice in the header row."))
        elif name not in KEY_COLUMNS and name not in measure_codes:
            known = ", ".join([*KEY_COLUMNS, *sorted(measure_codes)])
            errors.append(RowError(1, name, f'unknown column "{name}". Known columns are: {known}.'))
        seen.add(name)
    for required in REQUIRED_COLUMNS:
        if required not in columns:
            errors.append(RowError(1, required, f'the required column "{required}" is missing from the header.'))
    measure_columns = [name for name in columns if name in measure_codes]
    if not measure_columns and not errors:
        errors.append(RowError(1, "", "the file has no figure columns (such as items_removed)."))
    if errors:
        return [], measure_columns, errors

    positions = {name: index for index, name in enumerate(columns)}
    period_at, country_at = positions[PERIOD], positions[COUNTRY]
    org_at = positions.get(ORGANISATION)
    measure_positions = [(name, positions[name]) for name in measure_columns]
    codes = country_codes()
    width = len(columns)
    rows: list[ParsedRow] = []
    first_row_of_key: dict[tuple[int, str, str], int] = {}

    row_number = 1
    try:
        for row_number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines are allowed, e.g. at the end of the file
            if len(cells) != width:
                errors.append(RowError(row_number, "", f"this row has {len(cells)} cells but the header has {width}."))
                continue
            row_ok = True

            raw_period = cells[period_at].strip()
            match = PERIOD_RE.match(raw_period)
            year = quarter = None
            if match and MIN_YEAR <= int(match.group(1)) <= MAX_YEAR:
                year = int(match.group(1))
                quarter = int(match.group(2)) if match.group(2) else None
            else:
                row_ok = False
                errors.append(RowError(row_number, PERIOD, f'bad period "{raw_period}": write a year such as 2014 '
                                                           "or a year and quarter such as 2014-Q2."))

            country = cells[country_at].strip().upper()
            if country and country not in codes:
                row_ok = False
                errors.append(RowError(row_number, COUNTRY, f'unknown country code "{cells[country_at].strip()}": '
                                       "use a two-letter ISO 3166 code such as DE, or leave it blank for "
                                       "network-wide figures."))
            organisation = cells[org_at].strip() if org_at is not None else ""
            if len(organisation) > 200:
                row_ok = False
                errors.append(
                    RowError(row_number, ORGANISATION, "the organisation name is longer than 200 characters.")
                )
            elif CONTROL_RE.search(organisation):
                # PostgreSQL cannot store NUL in text, and no organisation name contains line breaks or tabs.
                row_ok = False
                errors.append(RowError(row_number, ORGANISATION, "the organisation name contains a control "
                                                                 "character (such as a line break or a NUL byte)."))

            values: dict[str, int | None] = {}
            for name, position in measure_positions:
                raw = cells[position].strip()
                if raw == "":
                    values[name] = None
                    continue
                try:
                    number = int(raw)
                except ValueError:
                    row_ok = False
                    errors.append(RowError(row_number, name, f'"{raw}" is not a whole number.'))
                    continue
                if number < 0:
                    row_ok = False
                    errors.append(RowError(row_number, name, f"negative count {number}: counts cannot be below zero."))
                    continue
                values[name] = number

            if row_ok:
                parsed = ParsedRow(row_number, year, quarter, country, organisation, values)
                first = first_row_of_key.get(parsed.key)
                if first is not None:
                    errors.append(RowError(row_number, PERIOD, f"duplicate of row {first}: the same period, country "
                                           "and organisation appear twice in the file."))
                else:
                    first_row_of_key[parsed.key] = row_number
                    rows.append(parsed)
            if (row_number - 1) % every == 0:
                progress("checking", row_number - 1, 0)
    except csv.Error as exc:
        errors.append(RowError(row_number + 1, "", f"this row cannot be read as CSV ({exc})."))
    return rows, measure_columns, errors


def check_removal_buckets(row: int, values: dict[str, int]) -> RowError | None:
    """Buckets may not add up to more than the items removed (a missing bucket counts as not reported)."""
    total = values.get(ITEMS_REMOVED)
    if total is None:
        return None
    buckets = sum(values.get(bucket) or 0 for bucket in REMOVAL_BUCKETS)
    if buckets > total:
        names = " + ".join(REMOVAL_BUCKETS)
        return RowError(row, ITEMS_REMOVED, f"the removal-time buckets ({names} = {format_count(buckets)}) add up "
                                            f"to more than items_removed ({format_count(total)}).")
    return None


def import_csv(
    dataset: Dataset,
    text: str,
    *,
    dry_run: bool = False,
    progress: Progress = _noop_progress,
    progress_every: int = 5000,
) -> ImportResult:
    """Validate ``text`` and upsert its rows into ``dataset``, all or nothing.

    Columns absent from the file leave existing figures alone; a blank cell in a column that is present
    clears that figure (the file says it was not reported). ``progress(stage, done, total)`` is called every
    ``progress_every`` rows.
    """
    measure_codes = set(Measure.objects.values_list("code", flat=True))
    rows, _columns, errors = parse_csv(text, measure_codes, progress, progress_every)
    result = ImportResult(rows=len(rows), dry_run=dry_run)
    if errors:
        result.errors = errors
        return result

    with transaction.atomic():
        existing = {
            (key, country, organisation): (pk, values)
            for pk, key, country, organisation, values in Observation.objects.filter(dataset=dataset)
            .select_for_update()
            .values_list("pk", "period_key", "country", "organisation", "values")
        }
        to_create: list[tuple] = []
        to_update: list[tuple] = []
        for parsed in rows:
            found = existing.get(parsed.key)
            merged = dict(found[1]) if found else {}
            for code, number in parsed.values.items():
                if number is None:
                    merged.pop(code, None)
                else:
                    merged[code] = number
            problem = check_removal_buckets(parsed.row, merged)
            if problem:
                errors.append(problem)
                continue
            if found is None:
                to_create.append(
                    (dataset.pk, parsed.year, parsed.quarter, parsed.key[0], parsed.country, parsed.organisation,
                     merged)
                )
            elif merged != found[1]:
                to_update.append((found[0], merged))
            else:
                result.unchanged += 1
        result.created, result.updated = len(to_create), len(to_update)
        if errors:
            result.errors = errors
            result.created = result.updated = result.unchanged = 0
            return result
        if dry_run:
            return result
        _write(to_create, to_update, progress, progress_every)
        if to_create or to_update:
            dataset.save(update_fields=["updated_at"])
    return result


def _write(to_create: list[tuple], to_update: list[tuple], progress: Progress, every: int) -> None:
    """Insert and update rows with multi-row statements, ``BATCH_SIZE`` rows per statement.

    Plain parameterised SQL instead of ``bulk_create``/``bulk_update``: building 20,000 model instances and
    a CASE expression per update batch costs far more than the database work itself. The natural-key unique
    constraint still guards against duplicates.
    """
    table = _q(Observation._meta.db_table)
    columns = f"dataset_id, year, quarter, period_key, country, organisation, {_q('values')}"
    postgres = connection.vendor == "postgresql"
    total = len(to_create) + len(to_update)
    done = 0
    # Only quoted table and column names are formatted into the SQL below; every value is a parameter.
    with connection.cursor() as cursor:
        for start in range(0, len(to_create), BATCH_SIZE):
            batch = to_create[start : start + BATCH_SIZE]
            if postgres:  # the whole batch as one JSON parameter, unpacked by the database
                sql = (f"INSERT INTO {table} ({columns}) SELECT * FROM jsonb_to_recordset(%s::jsonb) AS r("  # noqa: S608
                       "d bigint, y int, q int, k int, c text, o text, v jsonb)")
                params = [json.dumps([dict(zip("dyqkcov", row, strict=True)) for row in batch])]
            else:
                rows_sql = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(batch))
                sql = f"INSERT INTO {table} ({columns}) VALUES {rows_sql}"  # noqa: S608
                params = [param for row in batch for param in (*row[:6], json.dumps(row[6]))]
            cursor.execute(sql, params)
            done += len(batch)
            _report(progress, "writing", done, total, every, len(batch))
        for start in range(0, len(to_update), BATCH_SIZE):
            batch = to_update[start : start + BATCH_SIZE]
            if postgres:
                sql = (f"UPDATE {table} SET {_q('values')} = v.data FROM jsonb_to_recordset(%s::jsonb) "  # noqa: S608
                       f"AS v(id bigint, data jsonb) WHERE {table}.id = v.id")
                params = [json.dumps([{"id": pk, "data": data} for pk, data in batch])]
            else:
                sql = (f"UPDATE {table} SET {_q('values')} = v.column2 FROM (VALUES "  # noqa: S608
                       + ", ".join(["(%s, %s)"] * len(batch)) + f") AS v WHERE {table}.id = v.column1")
                params = [param for pk, data in batch for param in (pk, json.dumps(data))]
            cursor.execute(sql, params)
            done += len(batch)
            _report(progress, "writing", done, total, every, len(batch))


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _report(progress: Progress, stage: str, done: int, total: int, every: int, batch: int) -> None:
    # Batches are written whole, so report whenever a multiple of `every` was crossed (and at the end).
    if done == total or done // max(every, 1) != (done - batch) // max(every, 1):
        progress(stage, done, total)
