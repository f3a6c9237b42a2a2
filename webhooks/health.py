"""``GET /healthz``: liveness and readiness (database reachable, queue lag, dead jobs)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from integrator.queue.jobs import queue_stats

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> ResponseReturnValue:
    from webhooks.app import container_of

    container = container_of(current_app)
    if not container.db.ping():
        return jsonify(status="unavailable", database="unreachable"), 503
    stats = queue_stats(container.db)
    return jsonify(
        status="ok",
        database="ok",
        oldest_queued_job_seconds=round(stats["oldest_due_seconds"], 1),
        dead_jobs=stats["counts"].get("dead", 0),
        jobs=stats["counts"],
    )
