"""Reading an observations CSV (portal.stats.services.parser): one validator per column, the header, and rows
the csv module cannot read. The import tests cover the messages end to end; these pin the edges."""

import pytest

from portal.stats.services.parser import (
    CellError,
    check_count,
    check_country,
    check_organisation,
    check_period,
    parse_csv,
)

MEASURES = {"items_removed", "reports_received"}
TOO_LONG_FOR_CSV = "x" * 200_000  # over the csv module's field size limit (131,072 characters)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2014", (2014, None)), ("2014-Q2", (2014, 2)), ("2014q4", (2014, 4)), ("1990", (1990, None)),
     ("2100-Q1", (2100, 1))],
)
def test_periods_read(raw, expected):
    assert check_period(raw) == expected


@pytest.mark.parametrize("raw", ["", "1989", "2101", "2014-Q0", "2014-Q5", "2014/15", "14", "2014 Q2"])
def test_periods_refused_name_the_text(raw):
    with pytest.raises(CellError, match=f'bad period "{raw}"'):
        check_period(raw)


def test_countries_are_upper_case_codes_or_blank():
    assert (check_country("de"), check_country("NL"), check_country("")) == ("DE", "NL", "")
    for raw in ("XX", "EU", "D", "DEU", "04"):
        with pytest.raises(CellError, match=f'unknown country code "{raw}"'):
            check_country(raw)


def test_organisation_names_up_to_200_characters_without_control_characters():
    assert check_organisation("o" * 200) == "o" * 200
    with pytest.raises(CellError, match="longer than 200"):
        check_organisation("o" * 201)
    for raw in ("a\x00b", "a\nb", "a\tb", "a\x85b"):
        with pytest.raises(CellError, match="control character"):
            check_organisation(raw)


def test_counts_are_whole_numbers_from_zero_and_blank_is_not_reported():
    assert (check_count("0"), check_count("12"), check_count("")) == (0, 12, None)
    for raw, message in (("12.5", "is not a whole number"), ("ten", "is not a whole number"),
                         ("-1", "negative count -1")):
        with pytest.raises(CellError, match=message):
            check_count(raw)


def test_header_problems_are_all_listed_with_nameless_columns_named_by_position():
    rows, columns, errors = parse_csv("period,,items_removed,items_removed,colour\n2014,,1,1,x\n", MEASURES)
    assert rows == []
    assert [(error.row, error.column) for error in errors] == [
        (1, "#2"), (1, "items_removed"), (1, "colour"), (1, "country"),
    ]
    assert columns == ["items_removed", "items_removed"]


def test_a_header_the_csv_module_cannot_read_is_one_clear_error():
    rows, columns, errors = parse_csv(f'"{TOO_LONG_FOR_CSV}",country\n', MEASURES)
    assert (rows, columns) == ([], [])
    (error,) = errors
    assert str(error).startswith("Row 1: this is not a readable CSV file")


def test_a_row_the_csv_module_cannot_read_ends_the_file_after_the_problems_before_it():
    text = f'period,country,items_removed\n2014,XX,1\n2015,DE,"{TOO_LONG_FOR_CSV}"\n2016,DE,1\n'
    rows, _columns, errors = parse_csv(text, MEASURES)
    assert [str(error)[:40] for error in errors] == [
        'Row 2, column "country": unknown country',
        "Row 3: this row cannot be read as CSV (f",
    ]
    assert rows == []  # nothing after the unreadable row is read


def test_blank_and_ragged_rows_are_skipped_and_progress_counts_the_rows_checked():
    reports = []
    text = "period,country,items_removed\n2014,,1\n\n , ,\n2015,DE\n2016,,1\n2017,,1\n2018,,1\n"
    rows, _columns, errors = parse_csv(text, MEASURES, lambda *report: reports.append(report), every=2)
    assert [row.year for row in rows] == [2014, 2016, 2017, 2018]
    assert [str(error) for error in errors] == ["Row 5: this row has 2 cells but the header has 3."]
    assert reports == [("checking", 6, 0)]  # every 2nd line below the header, among rows checked (2, 6, 7, 8)
