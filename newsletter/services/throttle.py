"""A send-rate limiter shared by every worker, kept in the Django cache (Redis in production).

Two limits apply together: a steady rate (messages per second, across all workers) and an optional
sliding-window cap (at most N messages per T seconds), so a new sending domain can warm up.
Counters live in fixed windows; the sliding window is approximated from the current and previous window,
weighted by how far into the current window we are (the usual two-window estimate).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from django.core.cache import cache as default_cache


@dataclass
class Throttle:
    """Grant permission to send, one message at a time, under a global rate and an optional window cap."""

    key: str
    rate_per_second: float | None = None
    window_cap: int | None = None
    window_seconds: int = 3600
    cache: object = field(default_factory=lambda: default_cache)

    def try_acquire(self, now: float | None = None) -> float:
        """Take one slot if the limits allow it now; otherwise return how many seconds to wait (nothing taken)."""
        now = time.time() if now is None else now
        wait = self._try_rate(now)
        if wait:
            return wait
        wait = self._try_window(now)
        if wait:
            self._release_rate(now)
            return wait
        return 0.0

    # Steady rate: time is cut into short slots of ``k / rate`` seconds that admit ``k`` messages each, with
    # k chosen so a slot lasts about a tenth of a second. Short slots keep bursts small: no one-second
    # window ever holds much more than the rate, not even across a slot boundary.
    def _slot(self, now: float) -> tuple[float, int, str]:
        per_slot = max(1, math.ceil(self.rate_per_second / 10))
        slot_seconds = per_slot / self.rate_per_second
        index = int(now // slot_seconds)
        return slot_seconds, per_slot, f"throttle:{self.key}:rate:{index}"

    def _try_rate(self, now: float) -> float:
        if not self.rate_per_second:
            return 0.0
        slot_seconds, capacity, key = self._slot(now)
        count = _incr(self.cache, key, ttl=int(slot_seconds) + 5)
        if count <= capacity:
            return 0.0
        self.cache.decr(key)
        return max(0.001, slot_seconds - (now % slot_seconds))

    def _release_rate(self, now: float) -> None:
        if self.rate_per_second:
            self.cache.decr(self._slot(now)[2])

    def _try_window(self, now: float) -> float:
        if not self.window_cap:
            return 0.0
        length = self.window_seconds
        index = int(now // length)
        current_key = f"throttle:{self.key}:window:{index}"
        previous = self.cache.get(f"throttle:{self.key}:window:{index - 1}", 0)
        elapsed_fraction = (now % length) / length
        count = _incr(self.cache, current_key, ttl=2 * length + 5)
        estimate = previous * (1 - elapsed_fraction) + count
        if estimate <= self.window_cap:
            return 0.0
        self.cache.decr(current_key)
        # The estimate only falls as the previous window slides out; look again after a short step.
        remaining = length - (now % length)
        return max(0.001, min(remaining, max(1.0, length / 100)))

def _incr(cache, key: str, ttl: int) -> int:
    """Atomically increment a counter, creating it with an expiry first (cache.add is atomic)."""
    cache.add(key, 0, ttl)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 0, ttl)
        return cache.incr(key)
