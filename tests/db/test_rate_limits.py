"""The ``limits`` storage in our database: the moving window the supplier limiters count in."""

from __future__ import annotations

import threading

import pytest
import requests
from limits import parse
from limits.strategies import MovingWindowRateLimiter

from integrator.db.database import Database
from integrator.db.rate_limits import SqlRateLimitStorage
from integrator.sandbox.suppliers.base import PublishedRateLimit
from integrator.sandbox.suppliers.printful import PrintfulSandbox
from integrator.sandbox.suppliers.transport import in_process_session
from integrator.suppliers.errors import RetryableSupplierError
from integrator.suppliers.printful import PrintfulAdapter


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


def printful_process(store: SqlRateLimitStorage, session: requests.Session) -> PrintfulAdapter:
    """One process's Printful adapter, its limits in the shared database ``store``."""
    return PrintfulAdapter(
        "printful",
        {"api_key": "k", "rate_limit_per_minute": 100},
        base_url="http://printful.sandbox",
        session=session,
        limits_storage=store,
    )


def test_counters_reads_the_live_counters_of_the_keys_asked(db: Database) -> None:
    clock = StoppedClock()
    store = SqlRateLimitStorage(db, clock=clock)
    store.incr("open", 30)
    store.incr("failures", 10, amount=2)
    store.incr("elsewhere", 30)

    assert store.counters(["open", "failures", "hold"]) == {
        "open": (1, clock.now + 30),
        "failures": (2, clock.now + 10),
    }
    clock.now += 10  # the failures' window is over
    assert store.counters(["open", "failures"]) == {"open": (1, clock.now + 20)}


def test_a_supplier_call_sees_the_hold_and_the_breaker_other_processes_left(
    db: Database,
) -> None:
    """The one read before each call (breaker, 429 hold, failures) on the database store: a
    429 seen by one process holds the other; failures counted by one open the breaker for
    the other; a success of the other forgets them."""
    sandbox = PrintfulSandbox(api_key="k", rate_limit=PublishedRateLimit(calls=1, window=60))
    session = in_process_session({"http://printful.sandbox": sandbox})
    here = printful_process(SqlRateLimitStorage(db), session)
    there = printful_process(SqlRateLimitStorage(db), session)

    assert here.http.get("/store").status == 200
    with pytest.raises(RetryableSupplierError) as refused:
        here.http.get("/store")
    assert refused.value.status == 429
    with pytest.raises(RetryableSupplierError, match="rate limit") as held:
        there.http.get("/store")
    assert held.value.retry_after is not None and 55 <= held.value.retry_after <= 60
    assert sandbox.calls.summary()["refused"] == 1  # the second process never called

    SqlRateLimitStorage(db).reset()  # the hold is over; an account without a limit now
    unlimited = in_process_session(
        {"http://printful.sandbox": PrintfulSandbox(api_key="k", rate_limit=None)}
    )
    here = printful_process(SqlRateLimitStorage(db), unlimited)
    there = printful_process(SqlRateLimitStorage(db), unlimited)
    for _ in range(here.breaker.threshold - 1):
        here.breaker.record_failure()
    assert there.http.get("/store").status == 200  # a success: the failures are forgotten
    here.breaker.record_failure()
    assert not there.breaker.is_open()
    for _ in range(here.breaker.threshold):
        here.breaker.record_failure()
    with pytest.raises(RetryableSupplierError, match="circuit open"):
        there.http.get("/store")
