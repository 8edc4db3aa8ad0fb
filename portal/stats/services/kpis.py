"""KPIs computed from observation figures. Pure functions: no database, no Django.

Figures are dicts keyed by measure code; a missing key means "not reported", which is different from 0.
Every function returns ``None`` when the answer cannot be computed honestly (a zero or missing denominator),
and the formatting helpers show ``None`` as "n/a".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

ITEMS_REMOVED = "items_removed"
WITHIN_3_DAYS = "removed_within_3_days"
DAYS_4_TO_7 = "removed_4_to_7_days"
OVER_7_DAYS = "removed_over_7_days"
REMOVAL_BUCKETS = (WITHIN_3_DAYS, DAYS_4_TO_7, OVER_7_DAYS)
NOT_REPORTED = "not_reported"

Figures = Mapping[str, int]


def removal_denominator(values: Figures) -> int | None:
    """The number of removed items that removal-time shares are taken of.

    ``items_removed`` when reported; otherwise the sum of the three time buckets if all three are reported
    (a partial set of buckets cannot stand for the total). ``None`` when neither is available.
    """
    total = values.get(ITEMS_REMOVED)
    buckets = [values.get(bucket) for bucket in REMOVAL_BUCKETS]
    if total is None and None not in buckets:
        return sum(buckets)
    return total


def share(numerator: int | None, denominator: int | None) -> float | None:
    """numerator / denominator, or None if either is missing or the denominator is zero."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def share_removed_within_three_days(values: Figures) -> float | None:
    """Share (0-1) of removed items that came down within three days; None when it cannot be computed."""
    return share(values.get(WITHIN_3_DAYS), removal_denominator(values))


def removal_time_shares(values: Figures) -> dict[str, float | None]:
    """Share of removed items in each time bucket, plus the share whose removal time was not reported.

    Missing buckets count as not reported, so the shares always add up to 1 when there is a denominator;
    all values are None when there is none.
    """
    denominator = removal_denominator(values)
    if not denominator:
        return dict.fromkeys((*REMOVAL_BUCKETS, NOT_REPORTED))
    shares: dict[str, float | None] = {}
    reported = 0
    for bucket in REMOVAL_BUCKETS:
        count = values.get(bucket)
        shares[bucket] = (count or 0) / denominator
        reported += count or 0
    shares[NOT_REPORTED] = max(denominator - reported, 0) / denominator
    return shares


def year_on_year_change(current: int | float | None, previous: int | float | None) -> float | None:
    """Relative change from the previous period (0.1 = +10%); None if either is missing or previous is 0."""
    if current is None or not previous:
        return None
    return (current - previous) / previous


def sum_figures(rows: Iterable[Figures]) -> dict[str, int]:
    """Add figures measure by measure; a measure reported by no row stays missing (not 0)."""
    totals: dict[str, int] = {}
    for values in rows:
        for code, number in values.items():
            if number is not None:
                totals[code] = totals.get(code, 0) + number
    return totals


def format_count(value: int | float | None) -> str:
    """A count with thousands separators, or "n/a"."""
    if value is None:
        return "n/a"
    return f"{round(value):,}"


def format_percent(value: float | None, digits: int = 0) -> str:
    """A share as a percentage ("91%"), or "n/a"."""
    if value is None:
        return "n/a"
    return f"{value * 100:.{digits}f}%"


def format_change(value: float | None) -> str:
    """A relative change with its sign ("+12.5%", "-3.0%"), or "n/a"."""
    if value is None:
        return "n/a"
    sign = "+" if value > 0 else ("-" if value < 0 else "±")
    return f"{sign}{abs(value) * 100:.1f}%"
