"""Headline figures for the public home page, taken from the latest public dataset.

Only public datasets are considered: the home page is public, so a members-only dataset's figures never
appear there, whoever is looking.
"""

from __future__ import annotations

from django.db.models import Max

from portal.stats.models.datasets import Dataset, Observation
from portal.stats.services.data import DatasetData, Obs
from portal.stats.services.kpis import format_count, format_percent, share_removed_within_three_days


def latest_public_dataset() -> Dataset | None:
    """The public dataset with the most recent figures (ties: the most recently updated)."""
    return (
        Dataset.objects.filter(restriction=Dataset.PUBLIC)
        .annotate(latest=Max("observations__period_key"))
        .filter(latest__isnull=False)
        .order_by("-latest", "-updated_at", "-pk")
        .first()
    )


def latest_headline_stats() -> list[dict[str, str]]:
    """A list of {"value", "label", "source"} dicts for the latest year (or quarter) of the latest public
    dataset; empty when there is no public dataset with figures. Two or three queries."""
    dataset = latest_public_dataset()
    if dataset is None:
        return []
    yearly = (
        Observation.objects.filter(dataset=dataset, quarter__isnull=True).aggregate(latest=Max("period_key"))["latest"]
    )
    key = yearly if yearly is not None else dataset.latest
    rows = Observation.objects.filter(dataset=dataset, period_key=key).values_list(
        "period_key", "year", "quarter", "country", "organisation", "values"
    )
    data = DatasetData(dataset=dataset, observations=[Obs(*row) for row in rows])
    values = data.network_values(key)
    period = data.periods[0][1] if data.periods else ""
    source = f"{dataset.title}, {period}"
    if dataset.illustrative and "illustrative" not in dataset.title.lower():
        source += " (illustrative figures)"
    stats = []
    share = share_removed_within_three_days(values)
    if share is not None:
        stats.append({"value": format_percent(share), "label": "of removed illegal content was taken down within "
                      "three days", "source": source})
    if values.get("reports_received") is not None:
        stats.append({"value": format_count(values["reports_received"]), "label": "reports received by hotlines",
                      "source": source})
    if values.get("items_removed") is not None:
        stats.append({"value": format_count(values["items_removed"]), "label": "items of illegal content removed",
                      "source": source})
    return stats
