"""The send throttle admits the configured rate and window cap across callers sharing one cache."""

from django.core.cache import cache

from newsletter.services.throttle import Throttle


def setup_function():
    cache.clear()


def test_steady_rate_spreads_a_second_into_short_slots():
    throttle = Throttle("rate-test", rate_per_second=50)  # slots of 0.1 s admitting 5 each
    now = 1_000_000.02
    granted = [throttle.try_acquire(now) for _ in range(7)]
    assert granted[:5] == [0.0] * 5
    assert all(0.07 < wait < 0.09 for wait in granted[5:])  # until the next slot starts
    assert throttle.try_acquire(now + 0.09) == 0.0  # a new slot, a new allowance


def test_no_one_second_window_holds_much_more_than_the_rate():
    throttle = Throttle("window-test", rate_per_second=10)
    moments = [1_000_000 + step / 100 for step in range(300)]  # try every 10 ms for 3 s
    admitted = [t for t in moments if throttle.try_acquire(t) == 0.0]
    assert 29 <= len(admitted) <= 31
    busiest = max(sum(1 for t in admitted if start <= t < start + 1.0) for start in admitted)
    assert busiest <= 11


def test_two_workers_share_one_allowance():
    first, second = Throttle("shared", rate_per_second=30), Throttle("shared", rate_per_second=30)
    now = 2_000_000.0
    results = [first.try_acquire(now), second.try_acquire(now), first.try_acquire(now), second.try_acquire(now)]
    assert results.count(0.0) == 3  # 30 per second: 3 per 0.1 s slot, whoever asks


def test_fractional_rate_spreads_messages_over_seconds():
    throttle = Throttle("slow", rate_per_second=0.5)  # one message every two seconds
    now = 3_000_000.0
    assert throttle.try_acquire(now) == 0.0
    assert throttle.try_acquire(now + 1) > 0
    assert throttle.try_acquire(now + 2) == 0.0


def test_window_cap_limits_a_warm_up_domain():
    throttle = Throttle("warmup", window_cap=10, window_seconds=60)
    now = 60 * 66_667 + 20.0  # 20 s into a window
    assert [throttle.try_acquire(now) for _ in range(10)] == [0.0] * 10
    assert throttle.try_acquire(now) > 0
    # Half-way through the next window, half of the previous window's ten still count: five more fit.
    later = now + 70  # 30 s into the next window
    admitted = sum(1 for _ in range(10) if throttle.try_acquire(later) == 0.0)
    assert admitted == 5


def test_refused_window_does_not_consume_rate():
    throttle = Throttle("both", rate_per_second=100, window_cap=1, window_seconds=60)
    now = 5_000_000.0
    assert throttle.try_acquire(now) == 0.0
    assert throttle.try_acquire(now) > 0
    assert cache.get(f"throttle:both:rate:{int(now // 0.1)}") == 1
