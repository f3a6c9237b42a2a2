"""``GET /metrics``: Prometheus text. Counters are kept by the code that counts; the gauges
that describe the database (queue and items per stage) are read from it at scrape time, by
bounded indexed queries (``webhooks.vitals``: a group over 10,000 rows reports 10,000)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from integrator.db.database import Database
from integrator.metrics import ITEMS_PER_STAGE, OLDEST_QUEUED, QUEUE_JOBS
from webhooks.extensions import container_of
from webhooks.vitals import JOB_STATUSES, read_vitals

log = logging.getLogger(__name__)
metrics = Blueprint("metrics", __name__)


def refresh_gauges(db: Database) -> None:
    """Set the queue and items-per-stage gauges from the database (every stage, zeros too)."""
    vitals = read_vitals(db, statuses=JOB_STATUSES, stages=True)
    for status, count in vitals.jobs.items():
        QUEUE_JOBS.labels(status).set(count)
    OLDEST_QUEUED.set(vitals.oldest_due_seconds)
    for stage, count in vitals.items.items():
        ITEMS_PER_STAGE.labels(stage).set(count)


@metrics.get("/metrics")
def scrape() -> Response:
    try:
        refresh_gauges(container_of(current_app).db)
    except SQLAlchemyError:
        # still serve the counters; the stale gauges and /healthz tell the database is down
        log.warning("metrics.refresh_failed", exc_info=True)
    return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)
