"""Models of the stats app: the figures (``datasets``) and the statistics page (``pages``).

Two modules so the app's layers point one way: the page model is built from the chart blocks, and the blocks
and the services read the figures. Code the page model uses (``portal.stats.blocks``, ``portal.stats.services``)
imports the figures from ``portal.stats.models.datasets``; everything else may use this package, which has
every model.
"""

from portal.stats.models.datasets import (
    Dataset,
    DatasetQuerySet,
    ImportRun,
    Measure,
    Observation,
    PeriodNote,
    country_codes,
    get_visible_dataset_or_404,
    period_key,
    period_label,
)
from portal.stats.models.pages import StatisticsPage

__all__ = [
    "Dataset",
    "DatasetQuerySet",
    "ImportRun",
    "Measure",
    "Observation",
    "PeriodNote",
    "StatisticsPage",
    "country_codes",
    "get_visible_dataset_or_404",
    "period_key",
    "period_label",
]
