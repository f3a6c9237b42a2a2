"""The lease fence when the old and the new claim have the same owner.

Every thread of one worker claims under the worker's id, so a job whose lease expired can be
rescued and claimed again by another thread of the same worker while the first thread still
runs it. The owner alone cannot tell the two claims apart: the attempt number does. Whatever
the old claim does afterwards (ack, fail, snooze, release, extend) must change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import update

from integrator.db.database import Database
from integrator.db.models import Job
from integrator.db.timestamps import utcnow
from integrator.jobqueue import jobs
from integrator.jobqueue.errors import RetryableJobError, RetryLater, TerminalJobError
from integrator.jobqueue.worker import JobContext, Worker

WORKER = "host:4242:threads"


@dataclass(frozen=True)
class Row:
    status: str
    locked_by: str | None
    attempts: int
    last_error: str | None
    finished: bool


def row(db: Database, job_id: int) -> Row:
    with db.read() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return Row(
            job.status, job.locked_by, job.attempts, job.last_error, job.finished_at is not None
        )


def lease_of(db: Database, job_id: int) -> object:
    with db.read() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job.lease_until


def expire_lease(db: Database, job_id: int) -> None:
    """The lease ran out (the thread was stalled longer than the lease): no sleeping needed."""
    with db.write() as session:
        session.execute(
            update(Job).where(Job.id == job_id).values(lease_until=utcnow() - timedelta(seconds=5))
        )


def rescued_and_reclaimed(db: Database) -> tuple[int, jobs.ClaimedJob, jobs.ClaimedJob]:
    """One job claimed by WORKER, expired, rescued, and claimed again by WORKER."""
    with db.write() as session:
        job_id = jobs.enqueue(session, "noop", {"n": 1})
    assert job_id is not None
    (old,) = jobs.claim(db, WORKER)
    expire_lease(db, job_id)
    assert jobs.rescue_expired(db) == (1, 0)
    (new,) = jobs.claim(db, WORKER)
    assert (old.id, old.locked_by, old.attempts) == (job_id, WORKER, 1)
    assert (new.id, new.locked_by, new.attempts) == (job_id, WORKER, 2)
    return job_id, old, new


RUNNING_UNDER_NEW_CLAIM = Row("running", WORKER, 2, None, False)


def test_the_old_claim_cannot_ack_a_job_reclaimed_by_the_same_worker(db: Database) -> None:
    job_id, old, new = rescued_and_reclaimed(db)

    assert jobs.ack(db, old) is False

    assert row(db, job_id) == RUNNING_UNDER_NEW_CLAIM
    assert jobs.ack(db, new) is True
    assert row(db, job_id) == Row("done", None, 2, None, True)


@pytest.mark.parametrize("retryable", [True, False])
def test_the_old_claim_cannot_fail_a_job_reclaimed_by_the_same_worker(
    db: Database, retryable: bool
) -> None:
    job_id, old, _new = rescued_and_reclaimed(db)

    assert jobs.fail(db, old, "the stalled thread's late error", retryable=retryable) == "lost"

    assert row(db, job_id) == RUNNING_UNDER_NEW_CLAIM


def test_the_old_claim_cannot_snooze_release_or_extend_the_new_lease(db: Database) -> None:
    job_id, old, _new = rescued_and_reclaimed(db)
    lease = lease_of(db, job_id)

    assert jobs.snooze(db, old, 60, "waiting") is False
    assert jobs.release(db, old) is False
    assert jobs.extend_lease(db, old, 3600) is False

    assert row(db, job_id) == RUNNING_UNDER_NEW_CLAIM
    assert lease_of(db, job_id) == lease


@pytest.mark.parametrize(
    "raised",
    [
        None,
        RetryableJobError("supplier timed out"),
        TerminalJobError("supplier said 400"),
        RetryLater(30, "waiting for Shopify"),
    ],
    ids=["returns", "retryable", "terminal", "retry-later"],
)
def test_a_stalled_thread_finishing_late_leaves_the_other_threads_claim_alone(
    db: Database, raised: Exception | None
) -> None:
    """Thread A runs the job; its lease expires; thread B of the same worker rescues and
    claims it; then A's handler returns (or raises) and the worker records A's outcome."""
    with db.write() as session:
        job_id = jobs.enqueue(session, "slow")
    assert job_id is not None
    reclaimed: list[jobs.ClaimedJob] = []

    def stalled_then_finishes(context: JobContext) -> None:
        expire_lease(db, context.job.id)
        assert jobs.rescue_expired(db) == (1, 0)
        reclaimed.extend(jobs.claim(db, WORKER))
        if raised is not None:
            raise raised

    worker = Worker(db, {"slow": stalled_then_finishes}, worker_id=WORKER)
    (first,) = jobs.claim(db, WORKER)

    assert worker.process(first) == "lost"

    (second,) = reclaimed
    assert second.attempts == 2
    assert row(db, job_id) == RUNNING_UNDER_NEW_CLAIM
    assert jobs.ack(db, second) is True
    assert row(db, job_id).status == "done"
