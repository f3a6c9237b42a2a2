"""The durable job queue, in the application's own database (see docs/adr/0001).

* ``enqueue`` runs inside the caller's transaction, so work is never lost or announced early;
  a ``unique_key`` makes a second enqueue of the same work a no-op (``ON CONFLICT DO NOTHING``).
* ``claim`` is one statement: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and on SQLite the
  ``BEGIN IMMEDIATE`` of every write transaction serialises claimers.
* A claimed job holds a lease (``locked_by``, ``lease_until``); every later write about it is
  fenced on (id, locked_by, attempts), so a worker whose lease expired cannot overwrite the
  result of the worker that rescued its job.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, Result, Row, Table, and_, func, or_, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from integrator.db.clock import utcnow
from integrator.db.database import Database
from integrator.db.models import Job
from integrator.db.upsert import insert_or_ignore

JOBS: Table = Job.__table__  # type: ignore[assignment]
C = JOBS.c

DEFAULT_MAX_ATTEMPTS = 10
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 3600.0
ERROR_TEXT_LIMIT = 4000


def _count(result: Result[Any]) -> int:
    """Rows touched by an UPDATE/DELETE (``rowcount`` lives on CursorResult only)."""
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    locked_by: str


def enqueue(
    session: Session | Connection,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    unique_key: str | None = None,
    run_at: datetime | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    priority: int = 100,
) -> int | None:
    """Add a job in the caller's transaction; return its id, or None if the unique key exists."""
    values = {
        "kind": kind,
        "payload": payload or {},
        "unique_key": unique_key,
        "status": "queued",
        "priority": priority,
        "attempts": 0,
        "max_attempts": max_attempts,
        "run_at": run_at or utcnow(),
        "created_at": utcnow(),
    }
    return insert_or_ignore(session, Job, values, conflict=["unique_key"])


def _claimable(now: datetime, kinds: Sequence[str] | None) -> Any:
    condition = and_(C.status == "queued", C.run_at <= now)
    if kinds:
        condition = and_(condition, C.kind.in_(kinds))
    return condition


def claim(
    db: Database,
    worker_id: str,
    *,
    limit: int = 1,
    lease_seconds: float = 60.0,
    kinds: Sequence[str] | None = None,
) -> list[ClaimedJob]:
    """Take up to ``limit`` due jobs for ``worker_id`` with a lease; never the same job twice."""
    now = utcnow()
    candidates = (
        select(C.id).where(_claimable(now, kinds)).order_by(C.priority, C.run_at, C.id).limit(limit)
    )
    if not db.is_sqlite:
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(JOBS)
        .where(C.id.in_(candidates.scalar_subquery()))
        .values(
            status="running",
            locked_by=worker_id,
            lease_until=now + timedelta(seconds=lease_seconds),
            attempts=C.attempts + 1,
            started_at=now,
        )
        .returning(C.id, C.kind, C.payload, C.attempts, C.max_attempts)
    )
    with db.engine.begin() as connection:
        rows: Sequence[Row[Any]] = connection.execute(statement).all()
    return [
        ClaimedJob(row.id, row.kind, row.payload or {}, row.attempts, row.max_attempts, worker_id)
        for row in rows
    ]


def _fenced(job: ClaimedJob) -> Any:
    return and_(
        C.id == job.id,
        C.locked_by == job.locked_by,
        C.attempts == job.attempts,
        C.status == "running",
    )


def _fenced_update(db: Database, job: ClaimedJob, **values: Any) -> bool:
    statement = update(JOBS).where(_fenced(job)).values(**values)
    with db.engine.begin() as connection:
        return bool(_count(connection.execute(statement)))


def ack(db: Database, job: ClaimedJob) -> bool:
    """Mark the job done; False when the lease was lost (another worker owns it now)."""
    return _fenced_update(
        db, job, status="done", finished_at=utcnow(), locked_by=None, lease_until=None
    )


def extend_lease(db: Database, job: ClaimedJob, lease_seconds: float) -> bool:
    """Push the lease forward while the handler still runs."""
    return _fenced_update(db, job, lease_until=utcnow() + timedelta(seconds=lease_seconds))


def release(db: Database, job: ClaimedJob) -> bool:
    """Give a job back untouched (graceful shutdown): it does not count as an attempt."""
    return _fenced_update(
        db, job, status="queued", locked_by=None, lease_until=None, attempts=C.attempts - 1
    )


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [base·2^(n-1) / 2, base·2^(n-1)], capped."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return (rng or random).uniform(ceiling / 2, ceiling)


def fail(
    db: Database,
    job: ClaimedJob,
    error: str,
    *,
    retryable: bool,
    retry_after: float | None = None,
) -> str:
    """Record a failure: back to the queue with backoff, or dead. Return the new status,
    or "lost" when the lease was lost meanwhile (the rescuing worker owns the outcome)."""
    error = error[:ERROR_TEXT_LIMIT]
    if retryable and job.attempts < job.max_attempts:
        delay = max(backoff_seconds(job.attempts), retry_after or 0.0)
        requeued = _fenced_update(
            db,
            job,
            status="queued",
            run_at=utcnow() + timedelta(seconds=delay),
            last_error=error,
            locked_by=None,
            lease_until=None,
        )
        return "queued" if requeued else "lost"
    dead = _fenced_update(
        db,
        job,
        status="dead",
        last_error=error,
        finished_at=utcnow(),
        locked_by=None,
        lease_until=None,
    )
    return "dead" if dead else "lost"


def snooze(db: Database, job: ClaimedJob, seconds: float, reason: str) -> bool:
    """Run the job again later without spending an attempt (e.g. waiting for Shopify)."""
    return _fenced_update(
        db,
        job,
        status="queued",
        run_at=utcnow() + timedelta(seconds=seconds),
        attempts=C.attempts - 1,
        last_error=reason[:ERROR_TEXT_LIMIT],
        locked_by=None,
        lease_until=None,
    )


def rescue_expired(db: Database) -> tuple[int, int]:
    """Requeue running jobs whose lease expired (their worker died); dead if out of attempts."""
    now = utcnow()
    expired = and_(C.status == "running", C.lease_until < now)
    with db.engine.begin() as connection:
        dead = _count(
            connection.execute(
                update(JOBS)
                .where(and_(expired, C.attempts >= C.max_attempts))
                .values(
                    status="dead",
                    last_error=func.coalesce(C.last_error, "") + " [lease expired on last attempt]",
                    finished_at=now,
                    locked_by=None,
                    lease_until=None,
                )
            )
        )
        requeued = _count(
            connection.execute(
                update(JOBS)
                .where(expired)
                .values(status="queued", run_at=now, locked_by=None, lease_until=None)
            )
        )
    return requeued, dead


def retry_dead(db: Database, *, job_id: int | None = None, kind: str | None = None) -> int:
    """Revive dead jobs (one by id, or all of a kind) with a fresh attempt budget."""
    condition = C.status == "dead"
    if job_id is not None:
        condition = and_(condition, C.id == job_id)
    if kind is not None:
        condition = and_(condition, C.kind == kind)
    with db.engine.begin() as connection:
        result = connection.execute(
            update(JOBS)
            .where(condition)
            .values(status="queued", attempts=0, run_at=utcnow(), finished_at=None)
        )
        return _count(result)


def queue_stats(db: Database) -> dict[str, Any]:
    """Counts by status and the age of the oldest due queued job, in seconds."""
    now = utcnow()
    with db.read() as session:
        counts: dict[str, int] = dict(
            session.execute(select(C.status, func.count()).group_by(C.status)).all()
        )
        oldest = session.execute(
            select(func.min(C.run_at)).where(or_(C.status == "queued")).where(C.run_at <= now)
        ).scalar_one_or_none()
    lag = (now - oldest).total_seconds() if oldest else 0.0
    return {"counts": {k: int(v) for k, v in counts.items()}, "oldest_due_seconds": max(lag, 0.0)}


def purge_done(db: Database, older_than: timedelta) -> int:
    """Delete finished jobs older than ``older_than`` (dead ones are kept for the operator)."""
    cutoff = utcnow() - older_than
    with db.engine.begin() as connection:
        result = connection.execute(
            text("DELETE FROM jobs WHERE status = 'done' AND finished_at < :cutoff"),
            {"cutoff": cutoff},
        )
        return _count(result)
