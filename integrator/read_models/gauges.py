"""The Prometheus gauges that describe the database (queue and items per stage), set from it
at scrape time by bounded indexed queries (:mod:`integrator.read_models.vitals`)."""

from __future__ import annotations

from integrator.db.database import Database
from integrator.metrics import ITEMS_PER_STAGE, OLDEST_QUEUED, QUEUE_JOBS
from integrator.read_models.vitals import JOB_STATUSES, read_vitals


def refresh_gauges(db: Database) -> None:
    """Set the queue and items-per-stage gauges from the database (every stage, zeros too)."""
    vitals = read_vitals(db, statuses=JOB_STATUSES, stages=True)
    for status, count in vitals.jobs.items():
        QUEUE_JOBS.labels(status).set(count)
    OLDEST_QUEUED.set(vitals.oldest_due_seconds)
    for stage, count in vitals.items.items():
        ITEMS_PER_STAGE.labels(stage).set(count)
