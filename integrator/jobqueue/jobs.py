"""The durable job queue, in the application's own database (see docs/adr/0001).

* ``enqueue`` runs inside the caller's transaction, so work is never lost or announced early;
  a ``unique_key`` makes a second enqueue of the same work a no-op (``ON CONFLICT DO NOTHING``).
* ``claim`` is one statement: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and on SQLite the
  ``BEGIN IMMEDIATE`` of every write transaction serialises claimers. It takes the most urgent
  jobs first: a job kind's priority (:data:`KIND_PRIORITY`) puts the later steps of work already
  started (submission, callbacks, the Shopify sync) before new deliveries (docs/adr/0008);
  among jobs of equal priority, the one with the fewest jobs of its shop queued ahead of it
  (``fair_rank``), so shops take turns when one of them bursts.
* An enqueue announces itself: on PostgreSQL a ``NOTIFY`` in the enqueuing transaction (sent
  by PostgreSQL on commit), and in this process through :class:`~integrator.db.database.Database`
  after the commit, so that an idle worker wakes at once instead of polling.
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

from sqlalchemy import (
    CursorResult,
    Result,
    Row,
    Table,
    Update,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from integrator.db.database import ENQUEUED_IN, Database
from integrator.db.models import Job
from integrator.db.timestamps import utcnow
from integrator.jobqueue.status import JobStatus

JOBS: Table = Job.__table__  # type: ignore[assignment]
C = JOBS.c

DEFAULT_MAX_ATTEMPTS = 10
NOTIFY_CHANNEL = "integrator_jobs"
# Claimed first = lowest number. Each step of an order outranks the one before it, so a job
# that finishes work already started is never queued behind the first job of a new order:
# under a burst, orders complete in about the order they came, instead of all near the end.
KIND_PRIORITY: dict[str, int] = {
    "shopify.sync_shipment": 10,
    "shopify.update_tracking": 10,
    "alert.post": 15,
    "supplier.callback": 20,
    "shopify.mirror_stage": 25,
    "order.cancel": 25,
    "supplier.submit": 30,
    "order.update": 35,
    "fulfillment_order.changed": 35,
    "order.ingest": 40,
    "shopify.delivery": 50,
}
DEFAULT_PRIORITY = 100  # background kinds (reconciliation, polls) wait for the order flow
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
    priority: int = DEFAULT_PRIORITY

    @property
    def claim_key(self) -> tuple[int, int]:
        """This claim of the job: a job rescued and claimed again is a different claim."""
        return (self.id, self.attempts)


# Statements are built once, with bound parameters: building SQLAlchemy constructs per call
# cost as much as the commit itself on the hot path (bench/job_queue.py).
_INSERTS = {
    name: dialect.insert(JOBS).on_conflict_do_nothing(index_elements=["unique_key"]).returning(C.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_KEYED_INSERTS = {
    name: dialect.insert(JOBS)
    .on_conflict_do_nothing(index_elements=["unique_key"])
    .returning(C.id, C.unique_key)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_FENCE = and_(
    C.id == bindparam("b_id"),
    C.locked_by == bindparam("b_owner"),
    C.attempts == bindparam("b_attempts"),
    C.status == JobStatus.RUNNING,
)
_ACK = (
    update(JOBS)
    .where(_FENCE)
    .values(status=JobStatus.DONE, finished_at=bindparam("b_now"), locked_by=None, lease_until=None)
)
_EXTEND = update(JOBS).where(_FENCE).values(lease_until=bindparam("b_until"))
_RELEASE = (
    update(JOBS)
    .where(_FENCE)
    .values(status=JobStatus.QUEUED, locked_by=None, lease_until=None, attempts=C.attempts - 1)
)
_REQUEUE = (
    update(JOBS)
    .where(_FENCE)
    .values(
        status=JobStatus.QUEUED,
        run_at=bindparam("b_run_at"),
        last_error=bindparam("b_error"),
        locked_by=None,
        lease_until=None,
    )
)
_SNOOZE = _REQUEUE.values(attempts=C.attempts - 1)
_BURY = (
    update(JOBS)
    .where(_FENCE)
    .values(
        status=JobStatus.DEAD,
        last_error=bindparam("b_error"),
        finished_at=bindparam("b_now"),
        locked_by=None,
        lease_until=None,
    )
)


def _claim_statement(skip_locked: bool, by_kind: bool) -> Update:
    due = and_(C.status == JobStatus.QUEUED, C.run_at <= bindparam("b_now"))
    if by_kind:
        due = and_(due, C.kind.in_(bindparam("b_kinds", expanding=True)))
    candidates = (
        select(C.id)
        .where(due)
        .order_by(C.priority, C.fair_rank, C.run_at, C.id)
        .limit(bindparam("b_limit"))
    )
    if skip_locked:
        candidates = candidates.with_for_update(skip_locked=True)
    return (
        update(JOBS)
        .where(C.id.in_(candidates.scalar_subquery()))
        .values(
            status=JobStatus.RUNNING,
            locked_by=bindparam("b_owner"),
            lease_until=bindparam("b_until"),
            attempts=C.attempts + 1,
            started_at=bindparam("b_now"),
        )
        .returning(
            C.id, C.kind, C.payload, C.attempts, C.max_attempts, C.priority, C.fair_rank, C.run_at
        )
    )


_CLAIMS = {
    (lock, kind): _claim_statement(lock, kind) for lock in (False, True) for kind in (False, True)
}


def enqueue(
    session: Session | Connection,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    unique_key: str | None = None,
    run_at: datetime | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    priority: int | None = None,
    fair_key: str | None = None,
) -> int | None:
    """Add a job in the caller's transaction; return its id, or None if the unique key exists.
    ``priority`` defaults to the kind's (:data:`KIND_PRIORITY`); ``fair_key`` (the shop) puts
    the job behind its own shop's queued jobs rather than behind every shop's."""
    now = utcnow()
    bind = session.get_bind() if isinstance(session, Session) else session
    values = {
        "kind": kind,
        "payload": payload or {},
        "unique_key": unique_key,
        "status": JobStatus.QUEUED,
        "priority": KIND_PRIORITY.get(kind, DEFAULT_PRIORITY) if priority is None else priority,
        "attempts": 0,
        "max_attempts": max_attempts,
        "run_at": run_at or now,
        "created_at": now,
        "fair_key": fair_key,
        "fair_rank": _next_ranks(session, [fair_key])[0],
    }
    statement = _INSERTS["postgresql" if bind.dialect.name == "postgresql" else "sqlite"]
    job_id: int | None = session.execute(statement, values).scalar_one_or_none()
    if job_id is not None:
        _announce(session, bind.dialect.name == "postgresql")
    return job_id


def enqueue_many(
    session: Session | Connection,
    jobs: Sequence[tuple[str, dict[str, Any], str]],
    fair_keys: Sequence[str | None] | None = None,
) -> dict[str, int]:
    """Add ``(kind, payload, unique_key)`` jobs in one statement of the caller's transaction;
    return the new ids by unique key (a key that exists already is left out). ``fair_keys``,
    one per job, as :func:`enqueue`'s ``fair_key``."""
    if not jobs:
        return {}
    keys = list(fair_keys) if fair_keys is not None else [None] * len(jobs)
    ranks = _next_ranks(session, keys)
    now = utcnow()
    values = [
        {
            "kind": kind,
            "payload": payload,
            "unique_key": unique_key,
            "status": JobStatus.QUEUED,
            "priority": KIND_PRIORITY.get(kind, DEFAULT_PRIORITY),
            "attempts": 0,
            "max_attempts": DEFAULT_MAX_ATTEMPTS,
            "run_at": now,
            "created_at": now,
            "fair_key": fair_key,
            "fair_rank": rank,
        }
        for (kind, payload, unique_key), fair_key, rank in zip(jobs, keys, ranks, strict=True)
    ]
    bind = session.get_bind() if isinstance(session, Session) else session
    statement = _KEYED_INSERTS["postgresql" if bind.dialect.name == "postgresql" else "sqlite"]
    ids = {str(key): int(job_id) for job_id, key in session.execute(statement, values)}
    if ids:
        _announce(session, bind.dialect.name == "postgresql")
    return ids


_QUEUED_RANKS = (
    select(C.fair_key, func.max(C.fair_rank))
    .where(C.fair_key.in_(bindparam("b_keys", expanding=True)), C.status == JobStatus.QUEUED)
    .group_by(C.fair_key)
)


def _next_ranks(session: Session | Connection, keys: Sequence[str | None]) -> list[int]:
    """Each new job's rank: one past the last queued job of its key (0 without a key), so the
    claim order interleaves keys: every shop's first queued job before any shop's second.
    Two transactions enqueuing at once may give equal ranks: fairness is approximate, never
    a lock."""
    wanted = sorted({key for key in keys if key})
    if not wanted:
        return [0] * len(keys)
    last: dict[str, int] = {
        str(key): int(rank) for key, rank in session.execute(_QUEUED_RANKS, {"b_keys": wanted})
    }
    ranks: list[int] = []
    for key in keys:
        if not key:
            ranks.append(0)
            continue
        last[key] = last[key] + 1 if key in last else 0
        ranks.append(last[key])
    return ranks


def _announce(session: Session | Connection, postgresql: bool) -> None:
    """Tell workers about the new job once per transaction: PostgreSQL delivers the NOTIFY on
    commit (never for a rolled-back job); :class:`Database` wakes this process's worker after
    its commit."""
    transaction = session.get_transaction()
    if session.info.get(ENQUEUED_IN) is transaction:
        return
    session.info[ENQUEUED_IN] = transaction
    if postgresql:
        session.execute(_NOTIFY)


_NOTIFY = text(f"NOTIFY {NOTIFY_CHANNEL}")


def claim(
    db: Database,
    worker_id: str,
    *,
    limit: int = 1,
    lease_seconds: float = 60.0,
    kinds: Sequence[str] | None = None,
) -> list[ClaimedJob]:
    """Take up to ``limit`` due jobs for ``worker_id`` with a lease; never the same job twice."""
    with db.write_connection() as connection:
        return _claim(connection, db, worker_id, limit, lease_seconds, kinds)


def _claim(
    connection: Connection,
    db: Database,
    worker_id: str,
    limit: int,
    lease_seconds: float,
    kinds: Sequence[str] | None,
) -> list[ClaimedJob]:
    now = utcnow()
    params: dict[str, Any] = {
        "b_now": now,
        "b_limit": limit,
        "b_owner": worker_id,
        "b_until": now + timedelta(seconds=lease_seconds),
    }
    if kinds:
        params["b_kinds"] = list(kinds)
    statement = _CLAIMS[(not db.is_sqlite, bool(kinds))]
    rows: Sequence[Row[Any]] = connection.execute(statement, params).all()
    # RETURNING comes in no particular order: put the batch back in the claim's order
    rows = sorted(rows, key=lambda row: (row.priority, row.fair_rank, row.run_at, row.id))
    return [
        ClaimedJob(
            row.id,
            row.kind,
            row.payload or {},
            row.attempts,
            row.max_attempts,
            worker_id,
            row.priority,
        )
        for row in rows
    ]


def ack_and_claim(
    db: Database,
    finished: Sequence[ClaimedJob],
    worker_id: str,
    *,
    limit: int,
    lease_seconds: float = 60.0,
    kinds: Sequence[str] | None = None,
) -> tuple[list[bool], list[ClaimedJob]]:
    """Mark ``finished`` jobs done and claim up to ``limit`` more, in one transaction (one
    commit, one turn of SQLite's write lock, instead of one per job). Each ack is fenced as
    :func:`ack` is; the first list says which still held their lease."""
    now = utcnow()
    with db.write_connection() as connection:
        acked = [
            bool(_count(connection.execute(_ACK, {**_fence_of(job), "b_now": now})))
            for job in finished
        ]
        claimed = (
            _claim(connection, db, worker_id, limit, lease_seconds, kinds) if limit > 0 else []
        )
    return acked, claimed


def next_run_at(db: Database, kinds: Sequence[str] | None = None) -> datetime | None:
    """When the next queued job is due (a read: no write lock), or None for an empty queue."""
    query = select(func.min(C.run_at)).where(C.status == JobStatus.QUEUED)
    if kinds:
        query = query.where(C.kind.in_(list(kinds)))
    with db.read() as session:
        found: datetime | None = session.execute(query).scalar_one_or_none()
    return found


def _fence_of(job: ClaimedJob) -> dict[str, Any]:
    return {"b_id": job.id, "b_owner": job.locked_by, "b_attempts": job.attempts}


def _fenced(db: Database, statement: Update, job: ClaimedJob, **params: Any) -> bool:
    """Run an update that only touches the job while ``job`` still holds its lease."""
    with db.write_connection() as connection:
        return bool(_count(connection.execute(statement, {**_fence_of(job), **params})))


def ack(db: Database, job: ClaimedJob) -> bool:
    """Mark the job done; False when the lease was lost (another worker owns it now)."""
    return _fenced(db, _ACK, job, b_now=utcnow())


def extend_lease(db: Database, job: ClaimedJob, lease_seconds: float) -> bool:
    """Push the lease forward while the handler still runs."""
    return _fenced(db, _EXTEND, job, b_until=utcnow() + timedelta(seconds=lease_seconds))


def extend_leases(db: Database, claimed: Sequence[ClaimedJob], lease_seconds: float) -> int:
    """:func:`extend_lease` for many jobs in one transaction; return how many still held."""
    until = utcnow() + timedelta(seconds=lease_seconds)
    with db.write_connection() as connection:
        return sum(
            _count(connection.execute(_EXTEND, {**_fence_of(job), "b_until": until}))
            for job in claimed
        )


def release_many(db: Database, claimed: Sequence[ClaimedJob]) -> int:
    """:func:`release` for many jobs in one transaction (jobs claimed but never started)."""
    if not claimed:
        return 0
    with db.write_connection() as connection:
        return sum(_count(connection.execute(_RELEASE, _fence_of(job))) for job in claimed)


def release(db: Database, job: ClaimedJob) -> bool:
    """Give a job back untouched (graceful shutdown): it does not count as an attempt."""
    return _fenced(db, _RELEASE, job)


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
        run_at = utcnow() + timedelta(seconds=delay)
        requeued = _fenced(db, _REQUEUE, job, b_run_at=run_at, b_error=error)
        return JobStatus.QUEUED if requeued else "lost"
    dead = _fenced(db, _BURY, job, b_error=error, b_now=utcnow())
    return JobStatus.DEAD if dead else "lost"


def snooze(db: Database, job: ClaimedJob, seconds: float, reason: str) -> bool:
    """Run the job again later without spending an attempt (e.g. waiting for Shopify)."""
    run_at = utcnow() + timedelta(seconds=seconds)
    return _fenced(db, _SNOOZE, job, b_run_at=run_at, b_error=reason[:ERROR_TEXT_LIMIT])


def rescue_expired(db: Database) -> tuple[int, int]:
    """Requeue running jobs whose lease expired (their worker died); dead if out of attempts."""
    now = utcnow()
    expired = and_(C.status == JobStatus.RUNNING, C.lease_until < now)
    with db.write_connection() as connection:
        dead = _count(
            connection.execute(
                update(JOBS)
                .where(and_(expired, C.attempts >= C.max_attempts))
                .values(
                    status=JobStatus.DEAD,
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
                .values(status=JobStatus.QUEUED, run_at=now, locked_by=None, lease_until=None)
            )
        )
    return requeued, dead


def retry_dead(db: Database, *, job_id: int | None = None, kind: str | None = None) -> int:
    """Revive dead jobs (one by id, or all of a kind) with a fresh attempt budget."""
    condition = C.status == JobStatus.DEAD
    if job_id is not None:
        condition = and_(condition, C.id == job_id)
    if kind is not None:
        condition = and_(condition, C.kind == kind)
    with db.write_connection() as connection:
        result = connection.execute(
            update(JOBS)
            .where(condition)
            .values(status=JobStatus.QUEUED, attempts=0, run_at=utcnow(), finished_at=None)
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
            select(func.min(C.run_at))
            .where(or_(C.status == JobStatus.QUEUED))
            .where(C.run_at <= now)
        ).scalar_one_or_none()
    lag = (now - oldest).total_seconds() if oldest else 0.0
    # plain str keys: the counts are printed and serialized as the values they hold
    return {
        "counts": {str(k): int(v) for k, v in counts.items()},
        "oldest_due_seconds": max(lag, 0.0),
    }


def purge_done(db: Database, older_than: timedelta) -> int:
    """Delete finished jobs older than ``older_than`` (dead ones are kept for the operator)."""
    cutoff = utcnow() - older_than
    with db.write_connection() as connection:
        result = connection.execute(
            text("DELETE FROM jobs WHERE status = 'done' AND finished_at < :cutoff"),
            {"cutoff": cutoff},
        )
        return _count(result)
