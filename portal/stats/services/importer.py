"""CSV import of observations: validate every row, then upsert all of them in one transaction.

Reading and checking the file is ``parser``'s work; this module merges the rows over the stored figures, checks
what the merge gives, and writes. Nothing is written unless the whole file is valid; importing the same file
again changes nothing (rows are matched on the natural key period + country + organisation, and rows whose
figures are the same are counted as unchanged).

Speed: one query reads the dataset's existing keys and figures, then batched ``executemany`` inserts and
updates write the changes, so an import costs a handful of round trips however many rows the file has.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain

from django.db import connection, transaction

from portal.stats.models.datasets import Dataset, ImportRun, Measure, Observation
from portal.stats.services.kpis import ITEMS_REMOVED, REMOVAL_BUCKETS, format_count
from portal.stats.services.parser import KEY_COLUMNS, ParsedRow, Progress, RowError, no_progress, parse_csv

__all__ = [
    "KEY_COLUMNS", "ImportResult", "RowError", "check_removal_buckets", "check_upload", "import_csv", "parse_csv",
]

BATCH_SIZE = 1000


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


def check_removal_buckets(row: int, values: dict[str, int]) -> RowError | None:
    """Buckets may not add up to more than the items removed (a missing bucket counts as not reported)."""
    total = values.get(ITEMS_REMOVED)
    if total is None:
        return None
    buckets = sum(values.get(bucket, 0) for bucket in REMOVAL_BUCKETS)  # merged figures hold no None
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
    progress: Progress = no_progress,
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
        plan = _plan(dataset, rows)
        if plan.errors:
            result.errors = plan.errors
            return result
        result.created, result.updated, result.unchanged = len(plan.to_create), len(plan.to_update), plan.unchanged
        if not dry_run:
            _apply(dataset, plan, progress, progress_every)
    return result


def check_upload(dataset: Dataset, filename: str, text: str, user) -> ImportRun:
    """Dry-run an uploaded file and keep it as an ``ImportRun``: pending confirmation, or failed with its problems."""
    result = import_csv(dataset, text, dry_run=True)
    return ImportRun.objects.create(
        dataset=dataset,
        filename=filename[:255],
        content=text,
        uploaded_by=user,
        status=ImportRun.PENDING if result.ok else ImportRun.FAILED,
        rows=result.rows,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        errors=[str(error) for error in result.errors],
    )


@dataclass
class _Plan:
    """What an import changes: rows to insert and to update, rows left as they are, and merged rows refused."""

    to_create: list[tuple] = field(default_factory=list)  # (dataset, year, quarter, period_key, country, org, values)
    to_update: list[tuple] = field(default_factory=list)  # (observation id, values)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    def add(self, dataset: Dataset, parsed: ParsedRow, stored: tuple[int | None, dict]) -> None:
        """Plan one row over its stored (observation id, figures); (None, {}) when the dataset has no such row."""
        pk, before = stored
        merged = _merged(before, parsed.values)
        problem = check_removal_buckets(parsed.row, merged)
        if problem:
            self.errors.append(problem)
        elif pk is None:
            self.to_create.append((dataset.pk, parsed.year, parsed.quarter, parsed.key[0], parsed.country,
                                   parsed.organisation, merged))
        elif merged != before:
            self.to_update.append((pk, merged))
        else:
            self.unchanged += 1


def _plan(dataset: Dataset, rows: list[ParsedRow]) -> _Plan:
    """Merge every row over the dataset's stored figures (locked until the transaction ends)."""
    stored = {
        (key, country, organisation): (pk, values)
        for pk, key, country, organisation, values in Observation.objects.filter(dataset=dataset)
        .select_for_update()
        .values_list("pk", "period_key", "country", "organisation", "values")
    }
    plan = _Plan()
    for parsed in rows:
        plan.add(dataset, parsed, stored.get(parsed.key, (None, {})))
    return plan


def _merged(stored: dict[str, int], figures: dict[str, int | None]) -> dict[str, int]:
    """The stored figures with the file's over them; a blank cell (None) clears a figure."""
    merged = dict(stored)
    for code, number in figures.items():
        if number is None:
            merged.pop(code, None)
        else:
            merged[code] = number
    return merged


def _apply(dataset: Dataset, plan: _Plan, progress: Progress, every: int) -> None:
    _write(plan.to_create, plan.to_update, progress, every)
    if plan.to_create or plan.to_update:
        dataset.save(update_fields=["updated_at"])


def _write(to_create: list[tuple], to_update: list[tuple], progress: Progress, every: int) -> None:
    """Insert and update rows with multi-row statements, ``BATCH_SIZE`` rows per statement.

    Plain parameterised SQL instead of ``bulk_create``/``bulk_update``: building 20,000 model instances and
    a CASE expression per update batch costs far more than the database work itself. The natural-key unique
    constraint still guards against duplicates.
    """
    total = len(to_create) + len(to_update)
    statements = chain(map(_insert, _batches(to_create)), map(_update, _batches(to_update)))
    done = 0
    with connection.cursor() as cursor:
        for size, sql, params in statements:
            cursor.execute(sql, params)
            done += size
            _report(progress, "writing", done, total, every, size)


def _batches(items: list[tuple]) -> Iterator[list[tuple]]:
    for start in range(0, len(items), BATCH_SIZE):
        yield items[start : start + BATCH_SIZE]


# Only quoted table and column names are formatted into the SQL below; every value is a parameter.


def _insert(batch: list[tuple]) -> tuple[int, str, list]:
    """One INSERT of the batch; on PostgreSQL the whole batch is one JSON parameter, unpacked by the database."""
    table = _q(Observation._meta.db_table)
    columns = f"dataset_id, year, quarter, period_key, country, organisation, {_q('values')}"
    if connection.vendor == "postgresql":
        sql = (f"INSERT INTO {table} ({columns}) SELECT * FROM jsonb_to_recordset(%s::jsonb) AS r("  # noqa: S608
               "d bigint, y int, q int, k int, c text, o text, v jsonb)")
        return len(batch), sql, [json.dumps([dict(zip("dyqkcov", row, strict=True)) for row in batch])]
    rows_sql = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(batch))
    sql = f"INSERT INTO {table} ({columns}) VALUES {rows_sql}"  # noqa: S608
    return len(batch), sql, [param for row in batch for param in (*row[:6], json.dumps(row[6]))]


def _update(batch: list[tuple]) -> tuple[int, str, list]:
    """One UPDATE of the batch's figures, joined on the observation ids."""
    table = _q(Observation._meta.db_table)
    if connection.vendor == "postgresql":
        sql = (f"UPDATE {table} SET {_q('values')} = v.data FROM jsonb_to_recordset(%s::jsonb) "  # noqa: S608
               f"AS v(id bigint, data jsonb) WHERE {table}.id = v.id")
        return len(batch), sql, [json.dumps([{"id": pk, "data": data} for pk, data in batch])]
    sql = (f"UPDATE {table} SET {_q('values')} = v.column2 FROM (VALUES "  # noqa: S608
           + ", ".join(["(%s, %s)"] * len(batch)) + f") AS v WHERE {table}.id = v.column1")
    return len(batch), sql, [param for pk, data in batch for param in (pk, json.dumps(data))]


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _report(progress: Progress, stage: str, done: int, total: int, every: int, batch: int) -> None:
    # Batches are written whole, so report whenever a multiple of `every` was crossed (and at the end).
    if done == total or done // max(every, 1) != (done - batch) // max(every, 1):
        progress(stage, done, total)
