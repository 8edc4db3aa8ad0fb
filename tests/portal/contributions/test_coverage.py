"""Coverage ("figures from 1 of 3 member hotlines") and changes after release beside every chart, in the chart
and dataset CSV downloads (the dataset CSV still imports as it is) and in the newsletter's statistics blocks."""

import csv
import io

from django.urls import reverse

import pytest

from portal.contributions.services import submissions as workflow
from portal.contributions.services.aggregation import aggregate
from portal.core.privacy import Viewer
from portal.stats.models import Measure
from portal.stats.services.email import render_email_dataset_bar_chart, render_email_dataset_kpis
from portal.stats.services.parser import parse_csv
from tests.portal.contributions.factories import ReportingPeriodFactory, hotline, submitter_for
from tests.portal.stats.conftest import add_observation, figures, make_dataset, make_stats_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def released(admin_user):
    """2026 figures from one of the member hotlines, released now into a public dataset with 2014 figures."""
    dataset = make_dataset("network", title="Network statistics")
    add_observation(dataset, 2014, **figures(1200, 600, 500, 455, 30, 15))
    period = ReportingPeriodFactory(year=2026)
    hotline("Silent Hotline", country="BE")  # asked, did not submit
    organisation = hotline("Coverage Hotline", country="NL")
    submission = workflow.submit(submitter_for(organisation), period, organisation, {
        "reports_received": "5000", "reports_illegal": "1000", "items_removed": "900",
        "removed_within_3_days": "850"})
    workflow.decide(submission.pk, admin_user, approve=True)
    aggregation = aggregate(period, dataset, admin_user)
    return dataset, aggregation


def coverage(aggregation) -> str:
    return f"Figures from 1 of {aggregation.expected} member hotlines"


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_every_chart_shows_the_coverage_of_the_periods_it_shows(client, home, released):
    dataset, aggregation = released
    page = make_stats_page(home, dataset)
    html = client.get(page.url).content.decode()
    # Five charts show 2026 (the KPI tiles and the country table: the latest year; the series: every year).
    assert html.count('class="stats-coverage"') == 5
    assert html.count(f"<strong>2026</strong>: {coverage(aggregation)}") == 6  # and once at the top of the page


def test_chart_and_dataset_csv_carry_the_coverage_and_the_dataset_csv_imports_again(client, home, released):
    dataset, aggregation = released
    page = make_stats_page(home, dataset)
    for block in page.body:
        rows = read_csv(client.get(reverse("stats:chart_csv", args=[page.pk, block.id])))
        assert rows[0][-1] == "Coverage and changes"
        assert any(row[-1] == coverage(aggregation) for row in rows[1:]), block.block_type
    rows = read_csv(client.get(dataset.get_csv_url()))
    assert rows[0][-2:] == ["coverage", "changed_after_release"]
    assert {row[-2] for row in rows[1:] if row[0] == "2026"} == {coverage(aggregation)}
    assert {row[-2] for row in rows[1:] if row[0] == "2014"} == {""}
    text = "\n".join(",".join(row) for row in rows)
    parsed, _columns, errors = parse_csv(text, set(Measure.objects.values_list("code", flat=True)))
    assert errors == [] and len(parsed) == len(rows) - 1


def test_a_correction_after_release_is_noted_beside_the_charts_and_in_the_downloads(client, home, released,
                                                                                   admin_user):
    dataset, aggregation = released
    submission = aggregation.submissions.get()
    corrected = workflow.submit(submission.submitted_by, aggregation.period, submission.organisation, {
        "reports_received": "5100", "reports_illegal": "1000", "items_removed": "900",
        "removed_within_3_days": "850"})
    workflow.decide(corrected.pk, admin_user, approve=True)
    aggregate(aggregation.period, dataset, admin_user)
    page = make_stats_page(home, dataset)
    html = client.get(page.url).content.decode()
    assert "Changed after release:" in html and "reports_received 5000 → 5100" in html
    rows = read_csv(client.get(dataset.get_csv_url()))
    assert any("reports_received 5000 → 5100" in row[-1] for row in rows if row[0] == "2026")
    email = render_email_dataset_kpis(dataset, Viewer.anonymous())
    assert "changed after release" in email and "5000 → 5100" in email


def test_email_blocks_say_where_the_figures_come_from(released):
    dataset, aggregation = released
    assert coverage(aggregation) in render_email_dataset_kpis(dataset, Viewer.anonymous())
    assert coverage(aggregation) in render_email_dataset_bar_chart(dataset, Viewer.anonymous(), period="2026")
    assert "Figures from" not in render_email_dataset_kpis(dataset, Viewer.anonymous(), period="2014")


def test_the_coverage_is_said_in_the_readers_language(released):
    from django.template.loader import render_to_string
    from django.utils import translation

    from portal.stats.models import PeriodNote

    dataset, aggregation = released
    note = PeriodNote.objects.get(dataset=dataset, period="2026")
    assert (note.contributors, note.expected) == (1, aggregation.expected)
    with translation.override("fr"):
        french = render_to_string("stats/blocks/_period_notes.html", {"period_notes": [note]})
    with translation.override("de"):
        german = render_to_string("stats/blocks/_period_notes.html", {"period_notes": [note]})
    assert f"Chiffres de 1 hotlines membres sur {aggregation.expected}." in french
    assert f"Zahlen von 1 der {aggregation.expected} Mitglieds-Hotlines." in german
