"""Earlier versions of released figures: each correction is a new version of a period's figures in a dataset, and
every released version stays downloadable as CSV with what changed against the version released before it."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from operator import attrgetter

from portal.stats.models.datasets import Measure, period_label
from portal.stats.services.parser import NOTE_COLUMNS

from ..models import Aggregation


def released_versions(dataset) -> list[Aggregation]:
    """The released versions of every contributed period of the dataset, newest period and version first; each
    marked ``is_current`` (the newest of its period) and ``is_first`` (the first released of its period)."""
    versions = list(Aggregation.objects.filter(dataset=dataset, released_at__isnull=False)
                    .select_related("period").order_by("-period__period_key", "-version"))
    for _period, group in groupby(versions, key=attrgetter("period_id")):
        newest_first = list(group)
        for version in newest_first:
            version.is_current, version.is_first = version is newest_first[0], version is newest_first[-1]
    return versions


def snapshot_codes(snapshot: list[dict]) -> set[str]:
    """The measure codes a version's rows have figures for."""
    return {code for row in snapshot for code in row["values"]}


def _codes(snapshot: list[dict]) -> list[str]:
    """The measure codes in the rows, in the catalogue's order (codes no longer in it last, sorted)."""
    used = snapshot_codes(snapshot)
    order = [code for code in Measure.objects.values_list("code", flat=True) if code in used]
    return order + sorted(used - set(order))


def _cell(value) -> str:
    return "" if value is None else str(value)


def version_csv_rows(aggregation: Aggregation) -> Iterator[list[str]]:
    """The version's rows in the dataset CSV's format (it can be imported again), with its coverage and what it
    changed in the last two columns."""
    codes = _codes(aggregation.snapshot)
    period = aggregation.period
    label = period_label(period.year, period.quarter)
    coverage = aggregation.coverage.capitalize()
    changes = "; ".join(aggregation.changes)
    yield ["period", "country", "organisation", *codes, *NOTE_COLUMNS]
    for row in sorted(aggregation.snapshot, key=lambda row: (row["country"], row["organisation"])):
        yield [label, row["country"], row["organisation"], *(_cell(row["values"].get(code)) for code in codes),
               coverage, changes]
