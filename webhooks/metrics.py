"""``GET /metrics``: Prometheus text. Counters are kept by the code that counts; the gauges
that describe the database (queue and items per stage) are read from it at scrape time."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from integrator.db.database import Database
from integrator.db.models import LineItem
from integrator.domain.stages import Stage
from integrator.metrics import ITEMS_PER_STAGE, OLDEST_QUEUED, QUEUE_JOBS
from integrator.queue.jobs import queue_stats

log = logging.getLogger(__name__)
metrics = Blueprint("metrics", __name__)
JOB_STATUSES = ("queued", "running", "done", "dead")


def refresh_gauges(db: Database) -> None:
    """Set the queue and items-per-stage gauges from the database (every stage, zeros too)."""
    stats = queue_stats(db)
    for status in JOB_STATUSES:
        QUEUE_JOBS.labels(status).set(stats["counts"].get(status, 0))
    OLDEST_QUEUED.set(stats["oldest_due_seconds"])
    with db.read() as session:
        counts = dict(
            session.execute(select(LineItem.stage, func.count()).group_by(LineItem.stage)).all()
        )
    for stage in Stage:
        ITEMS_PER_STAGE.labels(stage.value).set(counts.get(stage.value, 0))


@metrics.get("/metrics")
def scrape() -> Response:
    from webhooks.app import container_of

    try:
        refresh_gauges(container_of(current_app).db)
    except SQLAlchemyError:
        # still serve the counters; the stale gauges and /healthz tell the database is down
        log.warning("metrics.refresh_failed", exc_info=True)
    return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)
