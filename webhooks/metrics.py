"""``GET /metrics``: Prometheus text. Counters are kept by the code that counts; the gauges
that describe the database (queue and items per stage) are read from it at scrape time, by
bounded indexed queries (``integrator.read_models.vitals``: a group over 10,000 rows reports 10,000)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from integrator.read_models.gauges import refresh_gauges
from webhooks.extensions import container_of

log = logging.getLogger(__name__)
metrics = Blueprint("metrics", __name__)


@metrics.get("/metrics")
def scrape() -> Response:
    try:
        refresh_gauges(container_of(current_app).db)
    except SQLAlchemyError:
        # still serve the counters; the stale gauges and /healthz tell the database is down
        log.warning("metrics.refresh_failed", exc_info=True)
    return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)
