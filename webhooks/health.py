"""``GET /healthz``: liveness and readiness (database reachable, queue lag, dead jobs).

Polled by load balancers, unauthenticated: every figure comes from a bounded, indexed read
(``integrator.read_models.vitals``), so the answer costs the same with ten jobs or ten million done ones.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from integrator.jobqueue.status import JobStatus
from integrator.read_models.vitals import LIVE_JOB_STATUSES, read_vitals
from webhooks.extensions import container_of

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> ResponseReturnValue:
    container = container_of(current_app)
    if not container.db.ping():
        return jsonify(status="unavailable", database="unreachable"), 503
    vitals = read_vitals(container.db, statuses=LIVE_JOB_STATUSES, stages=False)
    return jsonify(
        status="ok",
        database="ok",
        oldest_queued_job_seconds=round(vitals.oldest_due_seconds, 1),
        dead_jobs=vitals.jobs[JobStatus.DEAD],
        jobs=vitals.jobs,
    )
