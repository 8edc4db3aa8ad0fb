"""The CSV template and upload: what is written reads back; every problem names its row; hostile files fail clearly."""

import csv
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.contributions.services.csvfile import UploadError, decode, read_upload, template_csv
from portal.contributions.services.validation import MeasureSpec, check


class M:
    def __init__(self, code, label, description="", caveat="", unit="reports"):
        self.code, self.label, self.description, self.caveat, self.unit = code, label, description, caveat, unit


MEASURES = [M("reports_received", "Reports received", "Public reports, by any channel."),
            M("reports_illegal", "Reports assessed as illegal", "=HYPERLINK(\"http://x.example\")", "Not items")]
SPECS = [MeasureSpec("reports_received", "Reports received"),
         MeasureSpec("reports_illegal", "Reports assessed as illegal", at_most="reports_received")]

comments = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@given(values=st.fixed_dictionaries({"reports_received": st.integers(0, 10**9),
                                     "reports_illegal": st.integers(0, 10**9)}),
       notes=st.fixed_dictionaries({"reports_received": comments, "reports_illegal": comments}))
def test_the_filled_template_reads_back_as_written(values, notes):
    text = template_csv(MEASURES, values, notes)
    raw, raw_comments, rows, problems = read_upload(decode(text.encode("utf-8-sig")), SPECS)
    assert problems == []
    assert rows == {"reports_received": 2, "reports_illegal": 3}
    checked = check(SPECS, raw, raw_comments)
    assert checked.values == values
    for code, note in notes.items():
        written = note.strip()
        # The formula guard prefixes an apostrophe to comments that start like a formula.
        assert checked.comments.get(code, "") in {written, "'" + written, ("'" + note).strip()}


def test_the_template_carries_definitions_and_neutralises_formulas():
    rows = list(csv.reader(io.StringIO(template_csv(MEASURES))))
    assert rows[0] == ["measure", "label", "unit", "definition", "caveat", "value", "comment"]
    assert rows[1][3] == "Public reports, by any channel."
    assert rows[2][3].startswith("'=")


def test_semicolon_files_from_spreadsheets_are_read():
    raw, _, _rows, problems = read_upload("measure;value\nreports_received;12\nreports_illegal;3\n", SPECS)
    assert raw == {"reports_received": "12", "reports_illegal": "3"} and not problems


def test_unknown_and_repeated_measures_name_their_rows():
    text = "measure,value\nreports_received,12\nreports_seen,4\n\nreports_received,13\n"
    _, _, _, problems = read_upload(text, SPECS)
    assert [str(p) for p in problems] == [
        'Row 3, "reports_seen": is not one of the measures asked for this period (reports_received, '
        'reports_illegal).',
        'Row 5, "Reports received": appears twice (rows 2 and 5); keep one row per measure.',
    ]


@pytest.mark.parametrize(("text", "message"), [
    ("", "The file is empty"),
    ("label,comment\nx,y\n", 'Row 1 (the header) has no "measure" column'),
    ("measure,value\nreports_received,\x00\n", "binary data"),
])
def test_unreadable_files_are_refused_with_what_to_fix(text, message):
    with pytest.raises(UploadError, match=re.escape(message)):
        read_upload(text, SPECS)


def test_a_file_that_is_not_utf8_is_refused():
    with pytest.raises(UploadError, match="UTF-8"):
        decode("measure,value\nreports_received,12\ncaf\xe9,1\n".encode("latin-1"))


@given(st.text(max_size=300))
def test_any_text_is_either_read_or_refused_with_an_upload_error(text):
    try:
        raw, raw_comments, rows, problems = read_upload(text, SPECS)
    except UploadError as error:
        assert str(error)
        return
    assert set(raw) <= {"reports_received", "reports_illegal"}
    assert all(p.row and p.row >= 2 for p in problems)
    check(SPECS, raw, raw_comments, rows=rows, complete=True)  # never raises
