"""The admin JSON API under ``/admin/api`` (``Authorization: Bearer <ADMIN_TOKEN>``).

The same data and actions as the console; documented in ``docs/openapi.yaml``. No cookies
are read here, so no CSRF token is needed: a browser never sends the bearer token by itself.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from integrator.bootstrap import Container
from integrator.jobqueue.jobs import queue_stats
from integrator.jobqueue.status import JobStatus
from integrator.pipeline.operator import OperatorError
from integrator.read_models import queries
from integrator.read_models.production import production_stats
from webhooks.admin.access import UNAVAILABLE, access_of
from webhooks.admin.actions import NotFound, act_on_item, retry_job, to_json
from webhooks.admin.auth import bearer_token, tokens_match
from webhooks.admin.throttle import client_key
from webhooks.extensions import container_of

admin_api = Blueprint("api", __name__)
API_PREFIX = "/admin/api/"


def _container() -> Container:
    return container_of(current_app)


def _error(status: int, message: str, **headers: str) -> ResponseReturnValue:
    return jsonify(error=message), status, headers


@admin_api.before_request
def _require_token() -> ResponseReturnValue | None:
    """The bearer token, with failures throttled per client like sign-in (one budget)."""
    access = access_of(current_app)
    if access.closed_reason:
        return _error(403, f"the admin API is closed: {access.closed_reason}")
    client = client_key(request.remote_addr)
    try:
        if access.throttle.blocked(client):
            retry = str(access.throttle.retry_after(client))
            return _error(429, "too many failed tokens; wait", **{"Retry-After": retry})
        given = bearer_token(request.headers.get("Authorization"))
        if not tokens_match(given, _container().settings.admin_token):
            access.throttle.failed(client)  # only failures count
            return _error(401, "a valid bearer token is required", **{"WWW-Authenticate": "Bearer"})
    except UNAVAILABLE:
        return _error(503, "the database cannot be reached", **{"Retry-After": "5"})
    return None


def _json_error(error: HTTPException) -> ResponseReturnValue:
    """API clients get JSON errors, also for URLs and methods no route takes."""
    if not request.path.startswith(API_PREFIX):
        return error
    return _error(error.code or 500, error.description or error.name)


admin_api.register_error_handler(404, _json_error)
admin_api.register_error_handler(405, _json_error)
# a URL under /admin/api that no route matches never reaches the blueprint's own handlers
admin_api.record_once(lambda state: state.app.register_error_handler(404, _json_error))
admin_api.record_once(lambda state: state.app.register_error_handler(405, _json_error))


@admin_api.get("/orders")
def list_orders() -> ResponseReturnValue:
    try:
        wanted = queries.OrderFilter.from_args(request.args)
    except queries.FilterError as error:
        return _error(400, str(error))
    page = queries.list_orders(_container().db, wanted)
    return jsonify(
        orders=to_json(page.orders),
        total=page.total,
        page=page.page,
        per_page=page.per_page,
        pages=page.pages,
    )


@admin_api.get("/orders/<int(max=9223372036854775807):order_id>")
def get_order(order_id: int) -> ResponseReturnValue:
    detail = queries.order_detail(_container().db, order_id)
    if detail is None:
        return _error(404, f"no order {order_id}")
    return jsonify(to_json(detail))


@admin_api.get("/holds")
def list_holds() -> ResponseReturnValue:
    return jsonify(items=to_json(queries.holds(_container().db)))


@admin_api.get("/jobs")
def list_jobs() -> ResponseReturnValue:
    status = request.args.get("status") or None
    if status is not None and status not in queries.JOB_STATUSES:
        return _error(400, f"status: must be one of {', '.join(queries.JOB_STATUSES)}")
    db = _container().db
    stats = queue_stats(db)
    return jsonify(
        jobs=to_json(queries.jobs(db, status)),
        counts=stats["counts"],
        oldest_due_seconds=round(stats["oldest_due_seconds"], 1),
    )


@admin_api.post("/jobs/<int(max=9223372036854775807):job_id>/retry")
def retry_dead_job(job_id: int) -> ResponseReturnValue:
    try:
        retry_job(_container(), job_id)
    except NotFound as error:
        return _error(404, str(error))
    except OperatorError as error:
        return _error(409, str(error))
    return jsonify(id=job_id, status=JobStatus.QUEUED)


def _supplier_from_body() -> str | None:
    body: Any = request.get_json(silent=True)
    if isinstance(body, dict) and isinstance(body.get("supplier"), str):
        return str(body["supplier"])
    return None


def _item_action(line_item_id: int, action: str) -> ResponseReturnValue:
    supplier = _supplier_from_body() if action == "reroute" else None
    if action == "reroute" and not supplier:
        return _error(400, 'send {"supplier": "<configured supplier>"}')
    try:
        stage = act_on_item(_container(), action, line_item_id, supplier)
    except NotFound as error:
        return _error(404, str(error))
    except OperatorError as error:
        return _error(409, str(error))
    return jsonify(line_item_id=line_item_id, action=action, stage=stage)


@admin_api.post("/items/<int(max=9223372036854775807):line_item_id>/retry")
def retry_item(line_item_id: int) -> ResponseReturnValue:
    return _item_action(line_item_id, "retry")


@admin_api.post("/items/<int(max=9223372036854775807):line_item_id>/reroute")
def reroute_item(line_item_id: int) -> ResponseReturnValue:
    return _item_action(line_item_id, "reroute")


@admin_api.post("/items/<int(max=9223372036854775807):line_item_id>/release")
def release_item(line_item_id: int) -> ResponseReturnValue:
    return _item_action(line_item_id, "release")


@admin_api.post("/items/<int(max=9223372036854775807):line_item_id>/cancel")
def cancel_item(line_item_id: int) -> ResponseReturnValue:
    return _item_action(line_item_id, "cancel")


def _since(raw: str | None) -> datetime | None:
    if not raw:
        return None
    return datetime.combine(date.fromisoformat(raw), time())


@admin_api.get("/stats")
def stats() -> ResponseReturnValue:
    try:
        since = _since(request.args.get("since"))
    except ValueError:
        return _error(400, "since: not a date like 2026-01-31")
    return jsonify(to_json(production_stats(_container().db, since)))
