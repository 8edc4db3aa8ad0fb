"""Property tests for the statistics CSV import (``portal.stats.services.importer``).

Whatever a staff member uploads, the importer must answer with a result, never a server error, and must import
all or nothing: a file with any problem leaves the dataset exactly as it was and says where the problems are;
a clean file lands completely, with the figures it contains (merged over the stored ones, blank cells clearing).
"""

from __future__ import annotations

import csv
import io
import itertools
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from portal.stats.models import Observation, period_key
from portal.stats.services.importer import KEY_COLUMNS, import_csv
from tests.portal.stats.conftest import add_observation, make_dataset

MEASURES = ["reports_received", "items_removed", "removed_within_3_days", "removed_4_to_7_days",
            "removed_over_7_days"]
PERIOD = re.compile(r"^(\d{4})(?:-?[Qq]([1-4]))?$")
_slugs = itertools.count()

# Cells: mostly plausible values (so clean files are common), plus anything at all.
periods = st.one_of(
    st.integers(1990, 2100).map(str),
    st.builds(lambda y, q, sep: f"{y}{sep}{q}", st.integers(1995, 2030), st.sampled_from(["Q1", "q4", "Q3"]),
              st.sampled_from(["-", ""])),
    st.sampled_from(["", "2014 ", "1989", "2101", "2014-Q5", "14", "2014/15"]),
    st.text(max_size=10),
)
countries = st.one_of(st.sampled_from(["", "DE", "nl", " fr ", "GB", "XX", "EU", "D"]), st.text(max_size=3))
organisations = st.one_of(
    st.sampled_from(["", "Hotline A", "  Hotline B  ", "Ligne d'écoute, \"Nord\""]),
    st.text(max_size=20),
    st.text(alphabet="ab \x00\n\t\x7f\x85é", max_size=8),  # control characters PostgreSQL or readers choke on
    st.text(alphabet="ab", min_size=198, max_size=202),
)
counts = st.one_of(
    st.just(""),
    st.integers(0, 10_000).map(str),
    st.sampled_from(["-1", " 12 ", "1.5", "1e3", "one", "99999999999999999999999"]),
    st.text(max_size=6),
)


@st.composite
def csv_files(draw):
    """A CSV text with a plausible header (sometimes broken) and a few rows (sometimes ragged)."""
    measures = draw(st.lists(st.sampled_from(MEASURES), min_size=0, max_size=5, unique=True))
    columns = [*draw(st.sampled_from([["period", "country"], ["period", "country", "organisation"],
                                      ["country", "period", "organisation"], ["period"]])), *measures]
    if draw(st.integers(0, 9)) == 0:  # now and then a header problem: unknown, blank or repeated column
        columns.append(draw(st.sampled_from(["notes", "", "period", "Items_Removed"])))
    cell = {"period": periods, "country": countries, "organisation": organisations}
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        row = [draw(cell.get(name, counts)) for name in columns]
        if draw(st.integers(0, 14)) == 0:  # a ragged row
            row = row[:-1] if row and draw(st.booleans()) else [*row, "extra"]
        rows.append(row)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow([name.upper() if draw(st.integers(0, 5)) == 0 else name for name in columns])
    writer.writerows(rows)
    return ("\ufeff" if draw(st.integers(0, 9)) == 0 else "") + buffer.getvalue()


def fresh_dataset():
    """A new dataset with one stored network row for 2000 (so a failed import has something to leave alone)."""
    dataset = make_dataset(f"fuzz-{next(_slugs)}")
    add_observation(dataset, 2000, reports_received=7, items_removed=5, removed_within_3_days=5)
    return dataset


def stored(dataset) -> dict:
    return {
        (key, country, organisation): values
        for key, country, organisation, values in Observation.objects.filter(dataset=dataset).values_list(
            "period_key", "country", "organisation", "values")
    }


def expected_after(before: dict, text: str) -> dict:
    """What a clean file must leave behind: each row's figures merged over the stored ones."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in next(reader)]
    after = {key: dict(values) for key, values in before.items()}
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        row = dict(zip(header, cells, strict=True))
        match = PERIOD.match(row["period"].strip())
        year, quarter = int(match.group(1)), int(match.group(2)) if match.group(2) else None
        key = (period_key(year, quarter), row["country"].strip().upper(), row.get("organisation", "").strip())
        merged = after.setdefault(key, {})
        for name in header:
            if name in KEY_COLUMNS:
                continue
            if row[name].strip() == "":
                merged.pop(name, None)
            else:
                merged[name] = int(row[name].strip())
    return after


def check_all_or_nothing(dataset, text: str) -> None:
    before = stored(dataset)
    result = import_csv(dataset, text)  # must not raise, whatever the text
    after = stored(dataset)
    if result.ok:
        assert after == expected_after(before, text)
        assert result.created == len(after) - len(before)
        assert result.created + result.updated + result.unchanged == result.rows
    else:
        assert after == before, "a file with problems changed the dataset"
        assert (result.created, result.updated, result.unchanged) == (0, 0, 0)
        assert "nothing were imported" in result.summary()
        for error in result.errors:
            assert error.row >= 1 and error.message.strip()
            assert str(error).startswith(f"Row {error.row}")


@pytest.mark.django_db
@given(text=csv_files())
def test_generated_files_import_completely_or_not_at_all(text):
    check_all_or_nothing(fresh_dataset(), text)


@pytest.mark.django_db
@given(text=st.text(max_size=400))
def test_any_text_at_all_gets_an_answer_and_writes_nothing_half_way(text):
    check_all_or_nothing(fresh_dataset(), text)


@pytest.mark.django_db
@given(first=csv_files(), second=csv_files())
def test_a_second_import_over_stored_figures_is_all_or_nothing_too(first, second):
    dataset = fresh_dataset()
    import_csv(dataset, first)
    check_all_or_nothing(dataset, second)


@pytest.mark.django_db
@given(text=csv_files(), bad_row=st.sampled_from([["2014-Q9", "DE"], ["2014", "ZZ"], ["abcd", ""]]))
def test_one_bad_row_stops_the_whole_file(text, bad_row):
    """Appending a bad row to any file means nothing from that file lands."""
    header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    names = [name.strip().lower() for name in header]
    if not {"period", "country"} <= set(names) or len(set(names)) != len(names):
        return  # the header itself is broken: covered by the other tests
    cells = {"period": bad_row[0], "country": bad_row[1]}
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([cells.get(name, "") for name in names])
    dataset = fresh_dataset()
    before = stored(dataset)
    result = import_csv(dataset, text + buffer.getvalue())
    assert not result.ok
    assert stored(dataset) == before


@pytest.mark.django_db
@given(names=st.lists(st.text(st.characters(codec="utf-8") | st.sampled_from("\x00\n\t\x7f"), max_size=30),
                      min_size=1, max_size=5))
@example(names=["Hotline\x00North"])  # NUL once crashed the PostgreSQL write (a server error)
def test_any_organisation_name_in_otherwise_good_rows_is_stored_or_refused_whole(names):
    """The one free-text column: whatever it holds, the rows land exactly or the file is refused whole."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["period", "country", "organisation", "items_removed"])
    writer.writerows([[str(2001 + index), "DE", name, str(index)] for index, name in enumerate(names)])
    check_all_or_nothing(fresh_dataset(), buffer.getvalue())
