"""KPIs on hand-checked numbers, including zero denominators and missing buckets."""

import pytest

from portal.stats.services.kpis import (
    format_change,
    format_count,
    format_percent,
    removal_denominator,
    removal_time_shares,
    share_removed_within_three_days,
    sum_figures,
    year_on_year_change,
)


def test_share_within_three_days_on_the_2014_headline():
    # 20,475 of 22,500 items came down within three days: 91%.
    assert share_removed_within_three_days({"items_removed": 22_500, "removed_within_3_days": 20_475}) == 0.91
    assert format_percent(0.91) == "91%"


def test_share_is_none_for_zero_or_missing_denominator():
    assert share_removed_within_three_days({"items_removed": 0, "removed_within_3_days": 0}) is None
    assert share_removed_within_three_days({"removed_within_3_days": 5}) is None
    assert format_percent(None) == "n/a"


def test_share_is_none_when_within_three_days_is_not_reported():
    assert share_removed_within_three_days({"items_removed": 100, "removed_4_to_7_days": 10}) is None


def test_denominator_falls_back_to_the_buckets_only_when_all_three_are_reported():
    assert removal_denominator({"removed_within_3_days": 6, "removed_4_to_7_days": 3, "removed_over_7_days": 1}) == 10
    assert share_removed_within_three_days(
        {"removed_within_3_days": 6, "removed_4_to_7_days": 3, "removed_over_7_days": 1}
    ) == 0.6
    assert removal_denominator({"removed_within_3_days": 6, "removed_4_to_7_days": 3}) is None


def test_removal_time_shares_count_missing_buckets_as_not_reported():
    shares = removal_time_shares({"items_removed": 200, "removed_within_3_days": 150, "removed_4_to_7_days": 20})
    assert shares == {
        "removed_within_3_days": 0.75,
        "removed_4_to_7_days": 0.1,
        "removed_over_7_days": 0.0,
        "not_reported": 0.15,
    }
    assert sum(shares.values()) == pytest.approx(1)


def test_removal_time_shares_without_denominator_are_all_none():
    assert set(removal_time_shares({"items_removed": 0}).values()) == {None}


def test_year_on_year_change():
    assert year_on_year_change(1200, 1000) == pytest.approx(0.2)
    assert year_on_year_change(900, 1000) == pytest.approx(-0.1)
    assert year_on_year_change(5, 0) is None
    assert year_on_year_change(None, 10) is None
    assert year_on_year_change(10, None) is None
    assert format_change(0.2) == "+20.0%"
    assert format_change(-0.1) == "-10.0%"
    assert format_change(None) == "n/a"


def test_sum_figures_leaves_unreported_measures_missing():
    assert sum_figures([{"a": 1, "b": 2}, {"a": 3}]) == {"a": 4, "b": 2}
    assert format_count(1234567) == "1,234,567"
