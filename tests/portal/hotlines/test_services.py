"""Choosing what the directory shows: a country's hotlines, filters, the fallback, the browser's country."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.hotlines import services


@pytest.mark.parametrize(("header", "country"), [
    ("fr-BE,fr;q=0.9,en;q=0.8", "BE"),
    ("fr;q=0.9,en;q=0.8", "FR"),
    ("en-US,en;q=0.9", "US"),
    ("en,de;q=0.5", "DE"),  # English names no country; German does
    ("en", None),
    ("", None),
    ("de-CH", "CH"),
    ("zh-Hans-CN", "CN"),
    ("xx-QQ", None),  # not a country
])
def test_the_country_comes_from_the_browsers_languages(header, country):
    assert services.preferred_country(header) == country


@given(st.text(max_size=200))
def test_any_accept_language_header_gives_a_country_or_none(header):
    result = services.preferred_country(header)
    assert result is None or (len(result) == 2 and result.isupper())


@pytest.mark.django_db
def test_a_country_gets_its_own_active_hotlines(hotlines):
    shown, matched, fallback = services.hotlines_for_country(services.active_hotlines(), "FR")
    assert [h.name for h in shown] == ["Ligne Claire", "Signal Jeunesse"]
    assert matched and not fallback


@pytest.mark.django_db
def test_filters_narrow_and_never_leave_a_reporter_with_nothing(hotlines):
    active = services.active_hotlines()
    shown, matched, _ = services.hotlines_for_country(active, "FR", accepts="sextortion")
    assert [h.name for h in shown] == ["Signal Jeunesse"] and matched
    shown, matched, _ = services.hotlines_for_country(active, "FR", accepts="other-illegal")
    assert len(shown) == 2 and not matched  # nothing matches: every hotline of the country, said so


@pytest.mark.django_db
def test_a_country_without_hotline_gets_its_neighbour_else_the_international_channel(hotlines):
    active = services.active_hotlines()
    shown, _, fallback = services.hotlines_for_country(active, "LU")
    assert fallback and [h.name for h in shown] == ["Meldpunt Lage Landen"]
    shown, _, fallback = services.hotlines_for_country(active, "GR")
    assert fallback and [h.name for h in shown] == ["International Channel"]
