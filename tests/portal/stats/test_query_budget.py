"""Query budgets for statistics: the statistics page, its CSV and the statistics API answer in a fixed number
of SQL queries whether the dataset holds 5 or 500 observations (the page and CSV read them in one query)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest

from portal.stats.models import Observation, period_key
from tests.portal.stats.conftest import figures, make_dataset, make_stats_page

pytestmark = pytest.mark.django_db

SIZES = (5, 500)
COUNTRIES = ["FR", "IE", "GB", "BE", "ES", "DE", "NL", "IT", "PL", "SE"]
# Measured on 28 Nov 2026: page 16 (most of it the site frame), CSV 2, API 5.
BUDGET_PAGE = 19
BUDGET_CSV = 4
BUDGET_API = 6


def grow(dataset, size: int) -> None:
    """Bring the dataset to ``size`` observations (years x countries), in one bulk insert."""
    have = dataset.observations.count()
    rows = []
    for number in range(have, size):
        year, country = 1900 + number // len(COUNTRIES), COUNTRIES[number % len(COUNTRIES)]
        rows.append(Observation(dataset=dataset, year=year, period_key=period_key(year, None), country=country,
                                organisation="", values=figures(10, 5, 4, 3, 1, 0)))
    Observation.objects.bulk_create(rows)


def count_queries(client, url: str) -> int:
    client.get(url)  # warm per-process caches, as a running server has them
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def test_statistics_page_csv_and_api(client, home):
    dataset = make_dataset("budget", title="Budget statistics")
    page = make_stats_page(home, dataset)
    counts = {}
    for size in SIZES:
        grow(dataset, size)
        counts[size] = (
            count_queries(client, page.url),
            count_queries(client, "/statistics-data/datasets/budget.csv"),
            count_queries(client, "/api/stats/datasets/budget/observations/"),
        )
    assert dataset.observations.count() == 500
    assert counts[5] == counts[500], counts
    page_count, csv_count, api_count = counts[500]
    assert page_count <= BUDGET_PAGE and csv_count <= BUDGET_CSV and api_count <= BUDGET_API, counts
