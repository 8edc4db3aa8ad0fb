"""Rate limits: counted atomically per window in the shared cache, reported with a retry time."""

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

import pytest

from newsletter.services.ratelimit import Rate, hit


def setup_function():
    cache.clear()


def test_limit_allows_count_then_throttles_until_the_window_ends():
    now = 1_000_000.0
    results = [hit("ip", "203.0.113.1", "3/60", now=now) for _ in range(4)]
    assert results[:3] == [None, None, None]
    assert results[3].scope == "ip" and results[3].retry_after == 20  # 1_000_000 % 60 == 40
    assert hit("ip", "203.0.113.1", "3/60", now=now + 21) is None  # next window


def test_identifiers_are_counted_separately_and_not_stored_in_clear():
    now = 2_000_000.0
    assert hit("address", "a@example.org", "1/60", now=now) is None
    assert hit("address", "b@example.org", "1/60", now=now) is None
    assert hit("address", "a@example.org", "1/60", now=now) is not None
    assert not any("example.org" in str(key) for key in cache._cache)  # locmem internals: keys only


def test_rate_parsing():
    assert Rate.parse("5/3600") == Rate(5, 3600)
    for bad in ("5", "x/10", "0/10", "5/0"):
        with pytest.raises(ImproperlyConfigured):
            Rate.parse(bad)
