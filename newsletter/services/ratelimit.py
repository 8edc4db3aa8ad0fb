"""Fixed-window rate limits kept in the Django cache (Redis in production, so all web processes share them).

Counters are created with ``cache.add`` and bumped with ``cache.incr``, both atomic in Redis, so concurrent
requests cannot slip past a limit. Keys contain only a hash of the IP address or email address.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from newsletter.conf import conf

KEY_PREFIX = "newsletter:rl"


@dataclass(frozen=True)
class Rate:
    """``count`` requests per ``window`` seconds."""

    count: int
    window: int

    @classmethod
    def parse(cls, value: str | Rate) -> Rate:
        """Parse "5/3600" (five per hour)."""
        if isinstance(value, Rate):
            return value
        return cls(*_count_and_window(value))


def _count_and_window(value) -> tuple[int, int]:
    """The two numbers of "count/seconds"; ``ImproperlyConfigured`` unless they are positive integers."""
    try:
        count, window = (int(part) for part in str(value).split("/", 1))
    except ValueError as exc:
        raise ImproperlyConfigured(f"A rate limit must look like '5/3600' (count/seconds), got {value!r}") from exc
    if count < 1 or window < 1:
        raise ImproperlyConfigured(f"A rate limit needs a positive count and window, got {value!r}")
    return count, window


@dataclass(frozen=True)
class Throttled:
    """A limit was exceeded: which one, and how many seconds until its window resets."""

    scope: str
    retry_after: int


def _digest(identifier: str) -> str:
    return hashlib.sha256(identifier.encode()).hexdigest()[:32]


def hit(scope: str, identifier: str, rate: Rate | str, now: float | None = None) -> Throttled | None:
    """Count one request for ``identifier`` in ``scope``; return ``Throttled`` once the limit is exceeded."""
    rate = Rate.parse(rate)
    now = time.time() if now is None else now
    window_index = int(now // rate.window)
    key = f"{KEY_PREFIX}:{scope}:{_digest(identifier)}:{window_index}"
    if _count(key, timeout=rate.window + 1) > rate.count:
        retry_after = max(1, int(rate.window - (now % rate.window)))
        return Throttled(scope=scope, retry_after=retry_after)
    return None


def _count(key: str, timeout: int) -> int:
    """Count one more request in the window's counter; returns the window's count so far."""
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:
        # The counter expired between add and incr: this request starts a fresh window.
        cache.add(key, 1, timeout=timeout)
        return 1


def check_signup(ip: str, email: str | None) -> Throttled | None:
    """Apply the per-IP and (when an address is given) per-address signup limits from settings."""
    throttled = None
    if ip:
        throttled = hit("ip", ip, conf.NEWSLETTER_RATE_LIMIT_IP)
    if email:
        by_address = hit("address", email.strip().lower(), conf.NEWSLETTER_RATE_LIMIT_ADDRESS)
        throttled = throttled or by_address
    return throttled
