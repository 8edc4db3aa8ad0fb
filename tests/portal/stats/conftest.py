"""Fixtures for the statistics tests: datasets, observations and a statistics page."""

import json

import pytest

from portal.stats.models import Dataset, Observation, StatisticsPage, period_key


def make_dataset(slug="network", **kwargs):
    defaults = {"title": f"Dataset {slug}", "source": "Hotline network"}
    defaults.update(kwargs)
    return Dataset.objects.create(slug=slug, **defaults)


def add_observation(dataset, year, country="", organisation="", quarter=None, **values):
    return Observation.objects.create(
        dataset=dataset, year=year, quarter=quarter, period_key=period_key(year, quarter), country=country,
        organisation=organisation, values=values,
    )


def figures(received, illegal, items, within, middle, over):
    return {
        "reports_received": received, "reports_illegal": illegal, "items_removed": items,
        "removed_within_3_days": within, "removed_4_to_7_days": middle, "removed_over_7_days": over,
    }


ALL_BLOCKS = [
    {"type": "kpi_tiles", "value": {"heading": "Key figures", "period": "", "country": ""}},
    {"type": "time_series", "value": {"heading": "Reports over time", "measure": "reports_received",
                                      "chart_type": "line", "countries": "DE", "include_network": True,
                                      "granularity": "year", "description": ""}},
    {"type": "time_series", "value": {"heading": "Speed over time", "measure": "share_within_3_days",
                                      "chart_type": "bar", "countries": "", "include_network": True,
                                      "granularity": "year", "description": ""}},
    {"type": "removal_times", "value": {"heading": "Removal times", "country": "", "granularity": "year"}},
    {"type": "country_table", "value": {"heading": "By country", "period": "",
                                        "measures": ["reports_received", "items_removed"], "show_share": True}},
]


def make_stats_page(parent, dataset, slug="statistics", blocks=None):
    page = StatisticsPage(title="Network statistics", slug=slug, dataset=dataset,
                          body=json.dumps(blocks if blocks is not None else ALL_BLOCKS))
    parent.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


@pytest.fixture
def dataset(db):
    """A public dataset: network rows 2013-2014 and Germany/Netherlands rows."""
    ds = make_dataset("network", title="Network statistics 2013-2014")
    add_observation(ds, 2013, **figures(1000, 500, 400, 300, 60, 40))
    add_observation(ds, 2014, **figures(1200, 600, 500, 455, 30, 15))
    add_observation(ds, 2014, "DE", **figures(300, 150, 100, 90, 5, 5))
    add_observation(ds, 2014, "NL", **figures(200, 100, 80, 60, 10, 10))
    return ds


@pytest.fixture
def members_only(db):
    """A dataset restricted to logged-in members, with a figure no public page may show."""
    ds = make_dataset("members-figures", title="Members-only figures", restriction=Dataset.LOGIN)
    add_observation(ds, 2016, **figures(777_777, 500, 400, 399, 1, 0))
    return ds
