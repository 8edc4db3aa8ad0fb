"""Demo content for statistics: an illustrative dataset and a "Network statistics" page using every chart.

``seed(stdout)`` is idempotent: it creates what is missing and leaves what exists. The figures are made up
(clearly labelled illustrative) and consistent with the network headline of ``portal.demo.pages`` (its latest
year: in 2015, 93% of removed illegal content was taken down within three days; 2014: 91%).
"""

from __future__ import annotations

import csv
import io
import json
import sys

from portal.pages.models import HomePage
from portal.stats.models import Dataset, StatisticsPage
from portal.stats.services.importer import import_csv

DATASET_SLUG = "hotline-network-statistics-illustrative"
DATASET_TITLE = "Hotline network statistics (illustrative)"
PAGE_SLUG = "network-statistics"
MEASURES = [
    "reports_received", "reports_illegal", "items_removed",
    "removed_within_3_days", "removed_4_to_7_days", "removed_over_7_days",
]

# Network totals per year: reports received, assessed illegal, items removed, and the shares removed within
# 3 days and in 4-7 days (the rest took longer). 2014: 20,475 of 22,500 = 91%.
NETWORK = {
    2010: (29_000, 14_000, 9_800, 0.65, 0.20),
    2011: (32_000, 16_500, 12_400, 0.70, 0.18),
    2012: (37_500, 19_800, 15_600, 0.77, 0.15),
    2013: (41_000, 23_100, 18_900, 0.83, 0.11),
    2014: (48_600, 27_300, 22_500, 0.91, 0.06),
    2015: (55_200, 31_900, 26_400, 0.93, 0.05),
}
# A handful of member countries: their share of the network's volume and how their speed differs.
COUNTRIES = {"DE": (0.16, 0.02), "NL": (0.12, 0.03), "GB": (0.14, 0.01), "FR": (0.09, -0.04), "IE": (0.04, -0.02)}


def _buckets(items: int, fast: float, medium: float) -> tuple[int, int, int]:
    within = round(items * min(fast, 0.99))
    middle = min(round(items * medium), items - within)
    return within, middle, items - within - middle


def illustrative_rows(first_year: int = 2010, last_year: int = 2015) -> list[list[str]]:
    """CSV rows (header first) of the illustrative dataset: network totals and a handful of countries."""
    rows = [["period", "country", "organisation", *MEASURES]]
    for year in range(first_year, last_year + 1):
        received, illegal, items, fast, medium = NETWORK[year]
        network = (received, illegal, items, *_buckets(items, fast, medium))
        rows.append([str(year), "", "", *map(str, network)])
        for code, (weight, speed) in COUNTRIES.items():
            c_items = round(items * weight)
            figures = (round(received * weight), round(illegal * weight), c_items)
            rows.append([str(year), code, "", *map(str, figures), *map(str, _buckets(c_items, fast + speed, medium))])
    return rows


def illustrative_csv(first_year: int = 2010, last_year: int = 2015) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(illustrative_rows(first_year, last_year))
    return out.getvalue()


def page_body() -> str:
    """The StreamField JSON of the demo page: one of each chart block."""
    return json.dumps([
        {"type": "kpi_tiles", "value": {"heading": "Key figures", "period": "", "country": ""}},
        {"type": "time_series", "value": {"heading": "Reports received", "measure":
                                          "reports_received", "chart_type": "line", "countries": "DE, NL, GB",
                                          "include_network": True, "granularity": "year", "description": ""}},
        {"type": "time_series", "value": {"heading": "Share removed within three days", "measure":
                                          "share_within_3_days", "chart_type": "bar", "countries": "",
                                          "include_network": True, "granularity": "year", "description": ""}},
        {"type": "removal_times", "value": {"heading": "How fast content was removed", "country": "",
                                            "granularity": "year"}},
        {"type": "country_table", "value": {"heading": "Figures by country", "period": "",
                                            "measures": ["reports_received", "reports_illegal", "items_removed"],
                                            "show_share": True}},
    ])


def seed(stdout=None) -> None:
    """Create the illustrative dataset, import its figures and add the statistics page (idempotent)."""
    stdout = stdout or sys.stdout
    dataset, created = Dataset.objects.get_or_create(
        slug=DATASET_SLUG,
        defaults={
            "title": DATASET_TITLE,
            "description": "Illustrative yearly figures for the network and a handful of member countries, "
                           "2010-2015. They show the shape of the network's reporting, not real measurements.",
            "source": "Made up for the demo",  # the page's banner and the title already say "illustrative"
            "licence": "CC BY 4.0",
            "unit_notes": "Items removed are counted once per URL. The network total includes hotlines not listed "
                          "separately, so it is larger than the sum of the countries shown.",
            "illustrative": True,
        },
    )
    result = import_csv(dataset, illustrative_csv())
    if not result.ok:  # pragma: no cover - the demo figures are checked by the tests
        raise RuntimeError("; ".join(map(str, result.errors)))
    stdout.write(f"Statistics dataset {'created' if created else 'exists'}: {result.summary()}\n")

    home = HomePage.objects.first()
    if home is None:
        stdout.write("No home page: skipped the statistics page.\n")
        return
    if StatisticsPage.objects.child_of(home).filter(slug=PAGE_SLUG).exists():
        stdout.write("Statistics page exists.\n")
        return
    page = StatisticsPage(
        title="Network statistics",
        slug=PAGE_SLUG,
        intro="<p>How many reports the network's hotlines receive, how many are confirmed illegal, and how fast "
              "the content comes down.</p>",
        dataset=dataset,
        body=page_body(),
        listing_summary="Illustrative figures on reports, illegal content and removal times across the network.",
        show_in_menus=True,
    )
    home.add_child(instance=page)
    page.save_revision().publish()
    stdout.write("Statistics page created.\n")
