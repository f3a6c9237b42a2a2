"""The ``limits`` storage in our database: the moving window the supplier limiters count in."""

from __future__ import annotations

import threading

from limits import parse
from limits.strategies import MovingWindowRateLimiter

from integrator.db.database import Database
from integrator.db.rate_limits import SqlRateLimitStorage


class StoppedClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_moving_window_counts_every_call_of_the_last_window(db: Database) -> None:
    clock = StoppedClock()
    limiter = MovingWindowRateLimiter(SqlRateLimitStorage(db, clock=clock))
    five_a_minute = parse("5/minute")
    assert [limiter.hit(five_a_minute, "printful") for _ in range(6)] == [True] * 5 + [False]
    assert limiter.hit(five_a_minute, "printify")  # each key counts on its own

    clock.now += 59.9  # the first five are still in the window
    assert not limiter.hit(five_a_minute, "printful")
    stats = limiter.get_window_stats(five_a_minute, "printful")
    assert stats.remaining == 0 and stats.reset_time == 1_000_060.0

    clock.now += 0.2  # now they have left it
    assert limiter.hit(five_a_minute, "printful")
    assert limiter.get_window_stats(five_a_minute, "printful").remaining == 4


def test_concurrent_callers_never_get_more_than_the_limit(db: Database) -> None:
    """Eight callers, each with its own storage object (as processes have): 30 allowed."""
    limit = parse("30/minute")
    allowed: list[bool] = []
    lock = threading.Lock()

    def caller() -> None:
        limiter = MovingWindowRateLimiter(SqlRateLimitStorage(db))
        for _ in range(10):
            outcome = limiter.hit(limit, "gelato")
            with lock:
                allowed.append(outcome)

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 30 and allowed.count(False) == 50
