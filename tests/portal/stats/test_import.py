"""CSV import: every validation rule names the row and column, failures write nothing, re-import is a no-op."""

from pathlib import Path

from django.core.management import CommandError, call_command

import pytest

from portal.stats.models import Observation
from portal.stats.services.importer import import_csv
from tests.portal.stats.conftest import make_dataset

SAMPLE = Path(__file__).resolve().parents[3] / "portal" / "stats" / "sample" / "network_2012_2015.csv"
HEADER = (
    "period,country,organisation,reports_received,items_removed,"
    "removed_within_3_days,removed_4_to_7_days,removed_over_7_days\n"
)
GOOD = HEADER + "2014,,,1200,500,455,30,15\n2014,DE,,300,100,90,5,5\n2013,,,1000,400,300,60,40\n"


@pytest.fixture
def ds(db):
    return make_dataset("imports")


def messages(result):
    return [str(error) for error in result.errors]


def test_good_file_creates_rows(ds):
    result = import_csv(ds, GOOD)
    assert result.ok, messages(result)
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    network = Observation.objects.get(dataset=ds, year=2014, country="")
    assert network.values["removed_within_3_days"] == 455
    assert network.period == "2014"


def test_reimport_of_the_same_file_is_a_no_op(ds):
    import_csv(ds, GOOD)
    before = list(Observation.objects.filter(dataset=ds).values_list("pk", "values").order_by("pk"))
    again = import_csv(ds, GOOD)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert list(Observation.objects.filter(dataset=ds).values_list("pk", "values").order_by("pk")) == before


def test_changed_figures_update_in_place(ds):
    import_csv(ds, GOOD)
    result = import_csv(ds, GOOD.replace("2014,DE,,300,", "2014,DE,,333,"))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    assert Observation.objects.get(dataset=ds, country="DE").values["reports_received"] == 333
    assert Observation.objects.filter(dataset=ds).count() == 3


def test_columns_missing_from_a_file_keep_their_figures_and_blank_cells_clear(ds):
    import_csv(ds, GOOD)
    import_csv(ds, "period,country,reports_received\n2014,DE,\n")
    values = Observation.objects.get(dataset=ds, country="DE").values
    assert "reports_received" not in values  # blank cell: not reported
    assert values["items_removed"] == 100  # column not in the file: untouched


def test_dry_run_writes_nothing_but_counts(ds):
    import_csv(ds, GOOD)
    result = import_csv(ds, GOOD.replace("2014,DE,,300,", "2014,DE,,333,") + "2015,,,1,1,1,0,0\n", dry_run=True)
    assert (result.created, result.updated, result.unchanged) == (1, 1, 2)
    assert Observation.objects.filter(dataset=ds).count() == 3
    assert Observation.objects.get(dataset=ds, country="DE").values["reports_received"] == 300


def test_a_failing_import_writes_nothing(ds):
    import_csv(ds, GOOD)
    bad = GOOD.replace("2014,DE,,300,", "2014,DE,,999,") + "2015,XX,,1,1,1,0,0\n2016,,,5,5,5,0,0\n"
    result = import_csv(ds, bad)
    assert not result.ok
    assert Observation.objects.filter(dataset=ds).count() == 3
    assert Observation.objects.get(dataset=ds, country="DE").values["reports_received"] == 300


def test_quarters_and_lowercase_country_codes(ds):
    result = import_csv(ds, "period,country,items_removed\n2014-Q2,de,5\n2014q3,,6\n")
    assert result.ok, messages(result)
    assert sorted(Observation.objects.values_list("period_key", "country")) == [(20142, "DE"), (20143, "")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEADER + "2014,XX,,1,1,1,0,0\n", 'Row 2, column "country": unknown country code "XX"'),
        (HEADER + "2014,DE,,-4,1,1,0,0\n", 'Row 2, column "reports_received": negative count -4'),
        (HEADER + "2014,DE,,12.5,1,1,0,0\n", 'Row 2, column "reports_received": "12.5" is not a whole number'),
        (HEADER + "2014,DE,,ten,1,1,0,0\n", 'Row 2, column "reports_received": "ten" is not a whole number'),
        (HEADER + "2014,DE,,10,100,90,20,5\n", 'Row 2, column "items_removed": the removal-time buckets'),
        (HEADER + "2014,DE,,1,1,1,0,0\n2014,de,,2,2,2,0,0\n",
         'Row 3, column "period": duplicate of row 2: the same period, country and organisation'),
        ("period,country,colour\n2014,DE,blue\n", 'Row 1, column "colour": unknown column "colour"'),
        ("country,items_removed\nDE,5\n", 'Row 1, column "period": the required column "period" is missing'),
        ("period,items_removed\n2014,5\n", 'Row 1, column "country": the required column "country" is missing'),
        (HEADER + "14,DE,,1,1,1,0,0\n", 'Row 2, column "period": bad period "14"'),
        (HEADER + "2014-Q5,DE,,1,1,1,0,0\n", 'Row 2, column "period": bad period "2014-Q5"'),
        (HEADER + "2014,DE,,1,1\n", "Row 2: this row has 5 cells but the header has 8"),
    ],
    ids=["unknown-country", "negative", "decimal", "non-integer", "buckets-too-big", "duplicate-key",
         "unknown-column", "missing-period", "missing-country", "bad-year", "bad-quarter", "short-row"],
)
def test_each_validation_rule_names_row_and_column_and_writes_nothing(ds, text, expected):
    result = import_csv(ds, text)
    assert not result.ok
    assert any(message.startswith(expected) for message in messages(result)), messages(result)
    assert not Observation.objects.filter(dataset=ds).exists()


def test_bucket_rule_checks_the_figures_after_merging_with_stored_ones(ds):
    import_csv(ds, GOOD)
    # The stored DE row says 100 items removed; raising only the fast bucket above that is refused.
    result = import_csv(ds, "period,country,removed_within_3_days\n2014,DE,150\n")
    assert messages(result) == [
        'Row 2, column "items_removed": the removal-time buckets (removed_within_3_days + removed_4_to_7_days + '
        "removed_over_7_days = 160) add up to more than items_removed (100)."
    ]
    assert Observation.objects.get(dataset=ds, country="DE").values["removed_within_3_days"] == 90


def test_all_bad_rows_are_reported_not_only_the_first(ds):
    result = import_csv(ds, HEADER + "2014,XX,,1,1,1,0,0\n2015,DE,,-1,1,1,0,0\n")
    assert [(e.row, e.column) for e in result.errors] == [(2, "country"), (3, "reports_received")]


def test_sample_file_imports_cleanly_and_matches_the_2014_headline(ds):
    result = import_csv(ds, SAMPLE.read_text(encoding="utf-8"))
    assert result.ok, messages(result)
    assert result.created == 24
    network = Observation.objects.get(dataset=ds, year=2014, country="").values
    assert network["removed_within_3_days"] / network["items_removed"] == pytest.approx(0.91)


def test_command_imports_with_progress_and_dry_run(ds, tmp_path, capsys):
    path = tmp_path / "figures.csv"
    path.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    call_command("import_stats", str(path), "--dataset", ds.slug, "--dry-run", "--progress-every", "10")
    out = capsys.readouterr().out
    assert "Dry run: 24 rows: 24 would be created" in out
    assert "checking: 10 rows" in out
    assert not Observation.objects.filter(dataset=ds).exists()

    call_command("import_stats", str(path), "--dataset", ds.slug, "--progress-every", "10")
    out = capsys.readouterr().out
    assert "writing: 10 rows of 24" in out or "writing: 24 rows of 24" in out
    assert "24 were created" in out
    assert Observation.objects.filter(dataset=ds).count() == 24

    call_command("import_stats", str(path), "--dataset", ds.slug)
    assert "0 were created, 0 were updated, 24 unchanged" in capsys.readouterr().out


def test_command_fails_with_each_problem_listed(ds, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "2014,XX,,1,1,1,0,0\n", encoding="utf-8")
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_stats", str(path), "--dataset", ds.slug)
    assert 'Row 2, column "country": unknown country code "XX"' in capsys.readouterr().err
    with pytest.raises(CommandError, match="No dataset"):
        call_command("import_stats", str(path), "--dataset", "missing")
