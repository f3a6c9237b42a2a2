"""``integrator jobs list|show|retry``."""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from integrator.cli.common import opened_database
from integrator.db.database import Database
from integrator.db.models import Job
from integrator.jobqueue import jobs as queue
from integrator.jobqueue.status import JobStatus


@click.group()
def jobs() -> None:
    """List, show and retry jobs (dead ones included)."""


@jobs.command("list")
@click.option("--status", type=click.Choice([status.value for status in JobStatus]))
@click.option("--kind")
@click.option("--limit", default=50, show_default=True)
def list_jobs(status: str | None, kind: str | None, limit: int) -> None:
    """List the newest jobs."""
    with opened_database() as db:
        _print_jobs(db, status, kind, limit)


def _print_jobs(db: Database, status: str | None, kind: str | None, limit: int) -> None:
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if status:
        query = query.where(Job.status == status)
    if kind:
        query = query.where(Job.kind == kind)
    with db.read() as session:
        rows = session.scalars(query).all()
        for job in rows:
            error = (job.last_error or "").splitlines()[0][:60] if job.last_error else ""
            click.echo(
                f"{job.id:>8}  {job.kind:<24} {job.status:<8} attempts={job.attempts}/{job.max_attempts}"
                f"  run_at={job.run_at:%Y-%m-%d %H:%M:%S}  {error}"
            )
    stats = queue.queue_stats(db)
    click.echo(f"totals: {stats['counts']}  oldest due: {stats['oldest_due_seconds']:.0f}s")


@jobs.command("show")
@click.argument("job_id", type=int)
def show_job(job_id: int) -> None:
    """Show one job with its payload and last error."""
    with opened_database() as db, db.read() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise click.ClickException(f"no job {job_id}")
        fields = {column.name: getattr(job, column.name) for column in Job.__table__.columns}
    click.echo(json.dumps(fields, indent=2, default=str))


@jobs.command("retry")
@click.argument("job_id", type=int, required=False)
@click.option("--kind", help="retry every dead job of this kind")
def retry_job(job_id: int | None, kind: str | None) -> None:
    """Revive a dead job, or every dead job of a kind."""
    if job_id is None and kind is None:
        raise click.UsageError("give a JOB_ID or --kind")
    with opened_database() as db:
        count = queue.retry_dead(db, job_id=job_id, kind=kind)
    if count == 0:
        raise click.ClickException("no dead job matched")
    click.echo(f"requeued {count} job(s)")
