"""Figures before their release: who may read them early (marked "embargoed until …"), and what they see.

Until the release time no row is in the dataset (``aggregation.py``), so no channel that reads the dataset (the
page's charts, CSV downloads, the API, the home page, feeds, search, the sitemap, newsletter blocks) can show
them. The only way to read them early is the statistics page's "embargoed" section, rendered from the scheduled
version's snapshot for a viewer the version's preview audience admits, who must also be able to read the dataset.
Such pages are never stored by the page cache (it keeps anonymous responses only, and anonymous visitors are
never admitted).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from wagtail.models import PageViewRestriction

from portal.core.privacy import as_viewer
from portal.stats.models.datasets import COUNT, Measure
from portal.stats.services.kpis import format_count, format_percent, share_removed_within_three_days

from ..models import Aggregation
from .versions import snapshot_codes


def scheduled(dataset) -> list[Aggregation]:
    """The versions waiting for their release time: per period, the newest version (an older one a correction
    replaced is never released), if it is not released yet."""
    return list(Aggregation.objects.not_replaced()
                .filter(dataset=dataset, released_at__isnull=True, release_at__isnull=False)
                .select_related("period").prefetch_related("preview_groups", "contributors")
                .order_by("-period__period_key"))


def _signed_in(viewer) -> bool:
    """Only a signed-in member (or a superuser) ever reads figures early; anonymous visitors never do."""
    return viewer.authenticated or viewer.superuser


def _preview_group_ids(aggregation: Aggregation) -> list[int]:
    """The groups the version's preview is narrowed to (none unless the preview is for chosen groups)."""
    if aggregation.preview != Aggregation.GROUPS:
        return []
    return [group.pk for group in aggregation.preview_groups.all()]


def may_preview(aggregation: Aggregation, viewer) -> bool:
    """Whether this viewer may read the version before its release: the dataset's readers, narrowed by the
    version's preview audience (nobody, any member, or members of chosen groups)."""
    if not aggregation.in_preview:
        return False
    viewer = as_viewer(viewer)
    if not _signed_in(viewer) or not aggregation.dataset.is_visible_to(viewer):
        return False
    restriction = PageViewRestriction(restriction_type=aggregation.preview)
    return viewer.passes(restriction, _preview_group_ids(aggregation))


@dataclass
class EmbargoedRow:
    place: str
    values: list[str]
    share: str


@dataclass
class EmbargoedFigures:
    aggregation: Aggregation
    columns: list[Measure]
    rows: list[EmbargoedRow]

    @property
    def release_at(self):
        return timezone.localtime(self.aggregation.release_at)


def _place(row: dict) -> str:
    from django_countries import countries

    if row["organisation"]:
        return f"{row['organisation']} ({row['country']})" if row["country"] else row["organisation"]
    if row["country"]:
        return str(countries.name(row["country"]) or row["country"])
    return ""


def _count(value) -> str:
    return "n/a" if value is None else format_count(value)


def _row(row: dict, columns: list[Measure]) -> EmbargoedRow:
    values = row["values"]
    return EmbargoedRow(place=_place(row), values=[_count(values.get(measure.code)) for measure in columns],
                        share=format_percent(share_removed_within_three_days(values)))


def _figures(aggregation: Aggregation, measures: list[Measure]) -> EmbargoedFigures:
    """One scheduled version as a table: the measures it has, the network total first, then countries, then
    hotlines."""
    used = snapshot_codes(aggregation.snapshot)
    columns = [measure for measure in measures if measure.code in used]
    ordered = sorted(aggregation.snapshot,
                     key=lambda row: (bool(row["country"]), bool(row["organisation"]), _place(row)))
    return EmbargoedFigures(aggregation=aggregation, columns=columns, rows=[_row(row, columns) for row in ordered])


def embargoed_figures(dataset, viewer) -> list[EmbargoedFigures]:
    """What this viewer may read of the dataset's scheduled figures (nothing for most viewers)."""
    viewer = as_viewer(viewer)
    if not _signed_in(viewer):
        return []  # anonymous visitors never read figures early (and their pages cost no query for it)
    readable = [aggregation for aggregation in scheduled(dataset) if may_preview(aggregation, viewer)]
    if not readable:
        return []
    measures = list(Measure.objects.filter(kind=COUNT).order_by("sort_order", "code"))
    return [_figures(aggregation, measures) for aggregation in readable]
