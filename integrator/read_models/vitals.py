"""The figures ``/healthz`` and ``/metrics`` read on every call, at a bounded cost.

Both endpoints are unauthenticated and polled, so their queries must not grow with the
tables: each one reads an index range and stops after ``COUNT_CAP`` rows (a count of done jobs
or delivered items is history, and a full count would scan all of it). A group that holds more
than the cap reports the cap: "at least 10,000" is what an operator needs to know there.
The oldest due job is the first entry of the claim index (status, run_at).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, literal, select, union_all
from sqlalchemy.orm import Session

from integrator.db.database import Database
from integrator.db.models import Job, LineItem
from integrator.db.timestamps import utcnow
from integrator.domain.stages import Stage
from integrator.jobqueue.status import JobStatus

COUNT_CAP = 10_000
JOB_STATUSES = tuple(JobStatus)
LIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DEAD)


@dataclass(frozen=True)
class Vitals:
    jobs: dict[str, int]  # per status, capped at COUNT_CAP
    oldest_due_seconds: float
    items: dict[str, int]  # per stage, capped at COUNT_CAP


def _capped_counts(session: Session, groups: dict[str, Select[Any]]) -> dict[str, int]:
    """One round trip: for each named query, how many rows it has, counting at most the cap."""
    parts = [
        select(literal(name).label("name"), func.count().label("n")).select_from(
            query.limit(COUNT_CAP).subquery()
        )
        for name, query in groups.items()
    ]
    rows = session.execute(union_all(*parts)).all()
    return {str(name): int(count) for name, count in rows}


def _oldest_due_seconds(session: Session) -> float:
    now = utcnow()
    oldest = session.scalar(
        select(Job.run_at)
        .where(Job.status == JobStatus.QUEUED, Job.run_at <= now)
        .order_by(Job.run_at)
        .limit(1)
    )
    return max((now - oldest).total_seconds(), 0.0) if oldest else 0.0


def read_vitals(db: Database, *, statuses: tuple[str, ...], stages: bool) -> Vitals:
    """Job counts for ``statuses``, the queue's lag, and (if asked) items per stage."""
    groups: dict[str, Select[Any]] = {
        f"job:{status}": select(Job.id).where(Job.status == status) for status in statuses
    }
    if stages:
        groups |= {
            f"stage:{stage.value}": select(LineItem.id).where(LineItem.stage == stage.value)
            for stage in Stage
        }
    with db.read() as session:
        counts = _capped_counts(session, groups)
        oldest = _oldest_due_seconds(session)
    return Vitals(
        jobs={str(status): counts[f"job:{status}"] for status in statuses},
        oldest_due_seconds=oldest,
        items={stage.value: counts[f"stage:{stage.value}"] for stage in Stage} if stages else {},
    )
