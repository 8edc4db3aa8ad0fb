"""Importing 20,000 rows takes seconds: bulk writes, no query per row."""

import time

from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.stats.services.importer import import_csv
from tests.portal.stats.conftest import make_dataset

COUNTRIES = ["DE", "NL", "GB", "FR", "IE", "BE", "ES", "IT", "PL", "SE"]


def big_csv(rows: int) -> str:
    lines = ["period,country,organisation,reports_received,items_removed,removed_within_3_days,"
             "removed_4_to_7_days,removed_over_7_days"]
    n = 0
    year = 1990
    while n < rows:
        for quarter in (1, 2, 3, 4):
            for country in COUNTRIES:
                for org in range(50):
                    lines.append(f"{year}-Q{quarter},{country},Hotline {org},{n % 97 + 10},10,7,2,1")
                    n += 1
        year += 1
    return "\n".join(lines[: rows + 1]) + "\n"


def test_twenty_thousand_rows_import_in_seconds_with_few_queries(db, capsys):
    dataset = make_dataset("speed")
    text = big_csv(20_000)
    started = time.monotonic()
    with CaptureQueriesContext(connection) as queries:
        result = import_csv(dataset, text)
    first = time.monotonic() - started
    assert result.ok and result.created == 20_000
    assert len(queries) < 60  # batches of 1,000 rows, not one query per row

    started = time.monotonic()
    again = import_csv(dataset, text)
    second = time.monotonic() - started
    assert again.unchanged == 20_000 and again.created == again.updated == 0

    changed = text.replace(",10,7,2,1\n", ",11,7,2,1\n")
    started = time.monotonic()
    updated = import_csv(dataset, changed)
    third = time.monotonic() - started
    assert updated.updated == 20_000
    with capsys.disabled():
        print(f"\n20,000 rows: create {first:.2f} s, unchanged re-import {second:.2f} s, update {third:.2f} s")
    assert first < 30 and second < 30 and third < 60
