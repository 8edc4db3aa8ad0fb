"""Definitions and caveats next to every number: on the page beside charts and tiles, in the API and its
OpenAPI document, and in the email-safe statistics blocks."""

from portal.core.privacy import Viewer
from portal.stats.models import Measure
from portal.stats.services.email import render_email_dataset_bar_chart, render_email_dataset_kpis
from tests.portal.stats.conftest import make_stats_page

ILLEGAL_CAVEAT = "Assessed under the law of the hotline's country"


def test_the_shipped_measures_carry_a_definition_caveat_and_limit(db):
    illegal = Measure.objects.get(code="reports_illegal")
    assert illegal.description.startswith("Reports that analysts assessed")
    assert illegal.caveat.startswith(ILLEGAL_CAVEAT)
    assert illegal.at_most.code == "reports_received"


def test_the_page_shows_definitions_beside_the_charts_and_tiles(client, home, dataset):
    html = client.get(make_stats_page(home, dataset).url).content.decode()
    assert html.count('class="stats-definitions"') >= 3
    assert "Public reports received by hotlines." in html
    assert "Not: Not the number of distinct items or websites" in html


def test_the_api_gives_each_measure_its_definition_and_caveat(client, dataset):
    measures = client.get(f"/api/stats/datasets/{dataset.slug}/observations/").json()["measures"]
    assert measures["reports_illegal"]["definition"].startswith("Reports that analysts assessed")
    assert measures["reports_illegal"]["caveat"].startswith(ILLEGAL_CAVEAT)
    schema = client.get("/api/stats/openapi.json").json()["components"]["schemas"]["MeasureInfo"]
    assert {"definition", "caveat"} <= set(schema["properties"])
    assert schema["properties"]["caveat"]["description"].startswith("What the figure is not")


def test_email_blocks_say_what_each_figure_counts(dataset):
    kpis = render_email_dataset_kpis(dataset, Viewer.anonymous())
    assert "computed from the hotlines&#x27; counts, never averaged from percentages" in kpis
    assert "Public reports received by hotlines." in kpis
    chart = render_email_dataset_bar_chart(dataset, Viewer.anonymous(), measure="reports_illegal")
    assert "Not: Assessed under the law of the hotline&#x27;s country" in chart
