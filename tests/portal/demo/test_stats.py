"""The demo seed: an illustrative dataset consistent with the 2014 headline, and a page with every chart."""

import io

from portal.demo.stats import DATASET_SLUG, seed
from portal.stats.models import Dataset, Observation, StatisticsPage


def test_seed_is_idempotent_and_matches_the_2014_headline(client, home):
    seed(io.StringIO())
    out = io.StringIO()
    seed(out)
    assert "0 were created, 0 were updated" in out.getvalue()
    dataset = Dataset.objects.get(slug=DATASET_SLUG)
    assert dataset.illustrative and "illustrative" in dataset.title
    network = Observation.objects.get(dataset=dataset, year=2014, country="").values
    assert network["removed_within_3_days"] / network["items_removed"] == 0.91
    assert Observation.objects.filter(dataset=dataset).values("year").distinct().count() == 6
    assert StatisticsPage.objects.count() == 1
    page = StatisticsPage.objects.get()
    assert {child.block_type for child in page.body} >= {"kpi_tiles", "time_series", "removal_times",
                                                          "country_table"}
    html = client.get(page.url).content.decode()
    assert "Illustrative figures" in html and "91.0%" in html
