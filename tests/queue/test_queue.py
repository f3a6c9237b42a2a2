"""The durable job queue, on whichever database the run uses (SQLite or PostgreSQL)."""

from __future__ import annotations

import random
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from integrator.db.database import Database
from integrator.db.models import Job
from integrator.db.timestamps import utcnow
from integrator.jobqueue import jobs
from integrator.jobqueue.errors import RetryableJobError, RetryLater, TerminalJobError
from integrator.jobqueue.worker import JobContext, Worker


def job_row(db: Database, job_id: int) -> Job:
    with db.read() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def test_enqueue_claim_ack(db: Database) -> None:
    with db.write() as session:
        job_id = jobs.enqueue(session, "noop", {"x": 1})
    assert job_id is not None
    claimed = jobs.claim(db, "w1")
    assert [(c.id, c.kind, c.payload, c.attempts) for c in claimed] == [
        (job_id, "noop", {"x": 1}, 1)
    ]
    assert jobs.claim(db, "w2") == []  # held by w1
    assert jobs.ack(db, claimed[0])
    row = job_row(db, job_id)
    assert (row.status, row.locked_by, row.finished_at is not None) == ("done", None, True)


def test_enqueue_rolls_back_with_the_callers_transaction(db: Database) -> None:
    with pytest.raises(RuntimeError), db.write() as session:
        jobs.enqueue(session, "noop")
        raise RuntimeError("the caller failed after enqueueing")
    with db.read() as session:
        assert session.scalars(select(Job)).all() == []


def test_unique_key_makes_second_enqueue_a_no_op(db: Database) -> None:
    with db.write() as session:
        first = jobs.enqueue(session, "noop", {"n": 1}, unique_key="order:1")
        second = jobs.enqueue(session, "noop", {"n": 2}, unique_key="order:1")
    with db.write() as session:
        third = jobs.enqueue(session, "noop", {"n": 3}, unique_key="order:1")
    assert first is not None and second is None and third is None
    with db.read() as session:
        rows = session.scalars(select(Job)).all()
    assert [(r.unique_key, r.payload) for r in rows] == [("order:1", {"n": 1})]


def test_future_jobs_wait_for_run_at(db: Database) -> None:
    with db.write() as session:
        jobs.enqueue(session, "noop", run_at=utcnow() + timedelta(hours=1))
    assert jobs.claim(db, "w1") == []


def test_ack_is_fenced_on_the_lease_owner(db: Database) -> None:
    with db.write() as session:
        job_id = jobs.enqueue(session, "noop")
    first = jobs.claim(db, "w1", lease_seconds=0.05)[0]
    time.sleep(0.1)
    assert jobs.rescue_expired(db) == (1, 0)
    second = jobs.claim(db, "w2")[0]
    assert second.id == job_id and second.attempts == 2
    assert not jobs.ack(db, first)  # the dead worker's late ack changes nothing
    assert jobs.fail(db, first, "late", retryable=True) == "lost"
    assert job_row(db, job_id).locked_by == "w2"
    assert jobs.ack(db, second)
    assert job_row(db, job_id).status == "done"


def test_retry_schedule_then_dead_with_error_kept(db: Database) -> None:
    with db.write() as session:
        job_id = jobs.enqueue(session, "flaky", max_attempts=3)
    outcomes, delays = [], []
    for _ in range(3):
        with db.write() as session:  # make it due now, whatever the backoff said
            session.execute(update(Job).where(Job.id == job_id).values(run_at=utcnow()))
        claimed = jobs.claim(db, "w1")[0]
        before = utcnow()
        outcomes.append(jobs.fail(db, claimed, f"boom {claimed.attempts}", retryable=True))
        delays.append((job_row(db, job_id).run_at - before).total_seconds())
    assert outcomes == ["queued", "queued", "dead"]
    row = job_row(db, job_id)
    assert (row.status, row.attempts, row.last_error) == ("dead", 3, "boom 3")
    assert 0.9 <= delays[0] <= 2.1 and 1.9 <= delays[1] <= 4.1  # exponential with jitter


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(7)
    for attempt in range(1, 20):
        ceiling = min(jobs.BACKOFF_CAP_SECONDS, jobs.BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
        samples = {jobs.backoff_seconds(attempt, rng) for _ in range(20)}
        assert all(ceiling / 2 <= s <= ceiling for s in samples)
        assert len(samples) > 1  # jittered


def test_terminal_error_is_dead_at_once(db: Database) -> None:
    def reject(_context: JobContext) -> None:
        raise TerminalJobError("supplier said 400: variant discontinued")

    with db.write() as session:
        job_id = jobs.enqueue(session, "submit", max_attempts=10)
    Worker(db, {"submit": reject}).drain()
    row = job_row(db, job_id)
    assert (row.status, row.attempts, row.last_error) == (
        "dead",
        1,
        "supplier said 400: variant discontinued",
    )


def test_retryable_error_honours_retry_after(db: Database) -> None:
    def throttled(_context: JobContext) -> None:
        raise RetryableJobError("429", retry_after=120)

    with db.write() as session:
        job_id = jobs.enqueue(session, "sync")
    Worker(db, {"sync": throttled}).drain()
    row = job_row(db, job_id)
    assert row.status == "queued" and row.attempts == 1
    assert (row.run_at - utcnow()).total_seconds() > 100


def test_retry_later_spends_no_attempt(db: Database) -> None:
    def not_ready(_context: JobContext) -> None:
        raise RetryLater(30, "fulfillment order not created yet")

    with db.write() as session:
        job_id = jobs.enqueue(session, "sync")
    Worker(db, {"sync": not_ready}).drain()
    row = job_row(db, job_id)
    assert (row.status, row.attempts, row.last_error) == (
        "queued",
        0,
        "fulfillment order not created yet",
    )


def test_unknown_exception_is_retried_then_dead(db: Database) -> None:
    def buggy(_context: JobContext) -> None:
        raise KeyError("missing")

    with db.write() as session:
        job_id = jobs.enqueue(session, "buggy", max_attempts=1)
    Worker(db, {"buggy": buggy}).drain()
    row = job_row(db, job_id)
    assert row.status == "dead" and row.last_error == "KeyError: 'missing'"


def test_retry_dead_by_id_and_by_kind(db: Database) -> None:
    with db.write() as session:
        ids = [jobs.enqueue(session, kind, max_attempts=1) for kind in ("a", "b", "b")]
    Worker(db, {}).drain()  # no handlers: all dead
    assert {job_row(db, i).status for i in ids if i} == {"dead"}
    assert jobs.retry_dead(db, job_id=ids[0]) == 1
    assert jobs.retry_dead(db, kind="b") == 2
    rows = [job_row(db, i) for i in ids if i]
    assert [(r.status, r.attempts) for r in rows] == [("queued", 0)] * 3
    Worker(db, {"a": lambda _c: None, "b": lambda _c: None}).drain()
    assert {job_row(db, i).status for i in ids if i} == {"done"}


def test_rescue_marks_dead_when_attempts_are_spent(db: Database) -> None:
    with db.write() as session:
        job_id = jobs.enqueue(session, "noop", max_attempts=1)
    jobs.claim(db, "w1", lease_seconds=0.01)
    time.sleep(0.05)
    assert jobs.rescue_expired(db) == (0, 1)
    assert job_row(db, job_id).status == "dead"


def test_release_returns_the_job_without_spending_an_attempt(db: Database) -> None:
    with db.write() as session:
        job_id = jobs.enqueue(session, "noop")
    claimed = jobs.claim(db, "w1")[0]
    assert jobs.release(db, claimed)
    row = job_row(db, job_id)
    assert (row.status, row.attempts, row.locked_by) == ("queued", 0, None)


def test_worker_threads_run_every_job_once(db: Database) -> None:
    seen: list[int] = []

    def record(context: JobContext) -> None:
        seen.append(context.job.id)

    with db.write() as session:
        ids = {jobs.enqueue(session, "rec") for _ in range(60)}
    worker = Worker(db, {"rec": record}, threads=4, poll_interval=0.05)
    import threading

    runner = threading.Thread(target=worker.run)
    runner.start()
    deadline = time.monotonic() + 30
    while len(seen) < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.stop()
    runner.join(10)
    assert sorted(seen) == sorted(i for i in ids if i)
    stats = jobs.queue_stats(db)
    assert stats["counts"] == {"done": 60}
