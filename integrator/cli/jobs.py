"""``integrator jobs list|show|retry``."""

from __future__ import annotations

import json
from typing import Any

import click

from integrator.cli.common import opened_database
from integrator.db.models import Job
from integrator.jobqueue import jobs as queue
from integrator.jobqueue.status import JobStatus
from integrator.read_models.queries import JOBS_PER_PAGE, JobFilter
from integrator.read_models.queries import jobs as read_jobs


@click.group()
def jobs() -> None:
    """List, show and retry jobs (dead ones included)."""


@jobs.command("list")
@click.option("--status", type=click.Choice([status.value for status in JobStatus]))
@click.option("--kind")
@click.option("--limit", default=JOBS_PER_PAGE, show_default=True, type=click.IntRange(min=1))
def list_jobs(status: str | None, kind: str | None, limit: int) -> None:
    """List the jobs not yet done (or of one --status), the ones due first: the console's list."""
    with opened_database() as db:
        rows = read_jobs(db, JobFilter(status=status, kind=kind, limit=limit))
        stats = queue.queue_stats(db)
    for job in rows:
        click.echo(_line(job))
    click.echo(f"totals: {stats['counts']}  oldest due: {stats['oldest_due_seconds']:.0f}s")


def _line(job: dict[str, Any]) -> str:
    error = job["last_error"].splitlines()[0][:60] if job["last_error"] else ""
    return (
        f"{job['id']:>8}  {job['kind']:<24} {job['status']:<8} "
        f"attempts={job['attempts']}/{job['max_attempts']}"
        f"  run_at={job['run_at']:%Y-%m-%d %H:%M:%S}  {error}"
    )


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
