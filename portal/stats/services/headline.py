"""Headline figures for the public home page, taken from the latest public dataset.

Only public datasets are considered: the home page is public, so a members-only dataset's figures never
appear there, whoever is looking.
"""

from __future__ import annotations

from django.db.models import Max

from portal.stats.models.datasets import Dataset, Observation
from portal.stats.services.data import DatasetData, Obs
from portal.stats.services.kpis import format_count, format_percent
from portal.stats.services.tables import COUNT, PERCENT, measure, share_within_three_days


def latest_public_dataset() -> Dataset | None:
    """The public dataset with the most recent figures (ties: the most recently updated)."""
    return (
        Dataset.objects.filter(restriction=Dataset.PUBLIC)
        .annotate(latest=Max("observations__period_key"))
        .filter(latest__isnull=False)
        .order_by("-latest", "-updated_at", "-pk")
        .first()
    )


# The figures of the home page's headline, each left out when it cannot be computed.
HEADLINE_FIGURES = [
    share_within_three_days("of removed illegal content was taken down within three days"),
    measure("reports_received", "reports received by hotlines"),
    measure("items_removed", "items of illegal content removed"),
]
FORMATS = {PERCENT: format_percent, COUNT: format_count}


def latest_headline_stats() -> list[dict[str, str]]:
    """A list of {"value", "label", "source"} dicts for the latest year (or quarter) of the latest public
    dataset; empty when there is no public dataset with figures. Two or three queries."""
    dataset = latest_public_dataset()
    if dataset is None:
        return []
    key = _headline_period_key(dataset)
    rows = Observation.objects.filter(dataset=dataset, period_key=key).values_list(
        "period_key", "year", "quarter", "country", "organisation", "values"
    )
    data = DatasetData(dataset=dataset, observations=[Obs(*row) for row in rows])
    values = data.network_values(key)
    source = _source(dataset, data.periods[0][1] if data.periods else "")
    read = [(figure, figure.read(values)) for figure in HEADLINE_FIGURES]
    return [{"value": FORMATS[figure.kind](value), "label": figure.label, "source": source}
            for figure, value in read if value is not None]


def _headline_period_key(dataset: Dataset) -> int:
    """The key of the dataset's latest year, or of its latest quarter when it only has quarters."""
    yearly = Observation.objects.filter(dataset=dataset, quarter__isnull=True).aggregate(
        latest=Max("period_key"))["latest"]
    return dataset.latest if yearly is None else yearly


def _source(dataset: Dataset, period: str) -> str:
    """Where the headline figures come from, saying so when they are illustrative."""
    source = f"{dataset.title}, {period}"
    if dataset.illustrative and "illustrative" not in dataset.title.lower():
        source += " (illustrative figures)"
    return source
