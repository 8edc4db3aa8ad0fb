"""The numbers behind the chart blocks (portal.stats.services.tables and the DatasetData lookups they read):
the edges the chart tests do not reach."""

import pytest

from portal.stats.blocks import CountryTableBlock, KPITilesBlock, RemovalTimeBlock, TimeSeriesBlock
from portal.stats.services.data import load_dataset_data
from tests.portal.stats.conftest import add_observation, figures, make_dataset


@pytest.fixture
def organisations(db):
    """2014: France only through two hotlines' rows, a network-wide row of one organisation, and 2013 for DE."""
    ds = make_dataset("orgs", title="Organisations")
    add_observation(ds, 2014, "FR", organisation="Hotline A", reports_received=5, items_removed=4,
                    removed_within_3_days=4)
    add_observation(ds, 2014, "FR", organisation="Hotline B", reports_received=7, items_removed=6)
    add_observation(ds, 2014, "", organisation="Network office", reports_received=1)
    add_observation(ds, 2013, "DE", **figures(10, 5, 4, 3, 1, 0))
    return load_dataset_data(ds)


def test_a_country_without_its_own_row_is_the_sum_of_its_organisations(organisations):
    assert organisations.country_values("FR", 20140) == {"reports_received": 12, "items_removed": 10,
                                                          "removed_within_3_days": 4}
    assert organisations.country_values("DE", 20140) == {}


def test_the_network_is_the_sum_of_countries_or_else_of_its_own_organisation_rows(organisations):
    assert organisations.network_values(20140)["reports_received"] == 12  # FR's hotlines, not the office too
    assert organisations.network_values(20130)["reports_received"] == 10
    only_office = make_dataset("office", title="Office only")
    add_observation(only_office, 2014, "", organisation="Network office", reports_received=1)
    add_observation(only_office, 2014, "", organisation="Other office", reports_received=2)
    assert load_dataset_data(only_office).network_values(20140) == {"reports_received": 3}


def test_removal_times_show_time_not_reported_only_where_it_happens(organisations, dataset):
    block = RemovalTimeBlock()
    value = block.to_python({"heading": "Speed", "country": "FR", "granularity": "year"})
    table = block.chart_table(value, organisations)
    assert table.columns == ["Within 3 days", "4 to 7 days", "Over 7 days", "Time not reported"]
    assert table.rows[-1] == ("2014", [0.4, 0.0, 0.0, 0.6])
    complete = block.chart_table(block.to_python({"heading": "", "country": "", "granularity": "year"}),
                                 load_dataset_data(dataset))
    assert complete.columns == ["Within 3 days", "4 to 7 days", "Over 7 days"]
    assert complete.title == "Removal times: Network total"


def test_country_table_leaves_out_countries_without_figures_and_a_missing_period(organisations):
    block = CountryTableBlock()
    value = block.to_python({"heading": "", "period": "2014", "measures": ["items_removed"], "show_share": True})
    table = block.chart_table(value, organisations)
    assert table.rows == [("France", [10, 0.4])]
    assert (table.title, table.column_kinds) == ("Figures by country, 2014", ["count", "percent"])
    missing = block.chart_table(block.to_python({**value, "period": "1999", "heading": "By country"}),
                                organisations)
    assert (missing.rows, missing.title) == ([], "By country")
    assert missing.is_empty()


def test_kpi_tiles_without_an_earlier_year_or_any_figures(organisations):
    block = KPITilesBlock()
    table = block.chart_table(block.to_python({"heading": "", "period": "2013", "country": "DE"}), organisations)
    assert table.title == "Key figures: Germany, 2013"
    assert dict(table.formatted_rows())["Change in reports received since the year before"] == ["n/a"]
    empty = block.chart_table(block.to_python({"heading": "Headline", "period": "1999", "country": ""}),
                              organisations)
    assert (empty.title, empty.rows) == ("Headline", [])


@pytest.mark.parametrize(
    ("countries", "include_network", "columns"),
    [("", False, ["Network total"]), ("fr, de", False, ["France", "Germany"]),
     ("fr", True, ["Network total", "France"])],
)
def test_time_series_shows_the_network_when_asked_or_when_no_country_is(organisations, countries, include_network,
                                                                          columns):
    block = TimeSeriesBlock()
    value = block.to_python({"heading": "", "measure": "share_within_3_days", "chart_type": "line",
                             "countries": countries, "include_network": include_network, "granularity": "year"})
    table = block.chart_table(value, organisations)
    assert table.columns == columns
    assert (table.title, table.kind, table.value_label) == ("Share removed within 3 days", "percent",
                                                            "Share removed within 3 days")


def test_quarterly_and_yearly_periods_are_kept_apart(dataset):
    add_observation(dataset, 2014, "DE", quarter=2, items_removed=1)
    data = load_dataset_data(dataset)
    assert data.periods_of("year") == [(20130, "2013"), (20140, "2014")]
    assert data.periods_of("quarter") == [(20142, "2014-Q2")]
    assert data.chosen_period("") == (20140, "2014")
    assert data.chosen_period(" 2014-Q2 ") == (20142, "2014-Q2")
