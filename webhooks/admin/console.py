"""The operator console: server-rendered pages under ``/admin``, signed in with ADMIN_TOKEN.

Every view needs a signed-in session except the sign-in form and the stylesheet; every POST
needs this session's CSRF token. With no ADMIN_TOKEN, or one under 32 characters, the console
refuses everything (the start log says why).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue

from integrator.bootstrap import Container
from integrator.domain.stages import Stage
from integrator.jobqueue.jobs import queue_stats
from integrator.jobqueue.status import JobStatus
from integrator.pipeline.operator import OperatorError
from integrator.read_models import queries
from integrator.read_models.production import production_page
from webhooks.admin.access import (
    EXTENSION,
    UNAVAILABLE,
    AdminAccess,
    ServerKeySessionInterface,
    access_of,
    database_unavailable,
)
from webhooks.admin.actions import (
    ITEM_ACTIONS,
    NotFound,
    act_on_item,
    configured_suppliers,
    retry_job,
)
from webhooks.admin.auth import (
    CSRF_FIELD,
    csrf_matches,
    csrf_token,
    is_signed_in,
    sign_in,
    tokens_match,
)
from webhooks.admin.formatting import FILTERS
from webhooks.admin.throttle import client_key
from webhooks.extensions import container_of

console = Blueprint(
    "console",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
PUBLIC_ENDPOINTS = frozenset({"admin.console.sign_in", "admin.console.static"})
SESSION_LIFETIME = timedelta(hours=12)


@console.record_once
def _configure(state: BlueprintSetupState) -> None:
    """Session cookie and sign-in limiter for the app the console is registered on."""
    app = cast(Flask, state.app)
    container = container_of(app)
    settings = container.settings
    app.extensions[EXTENSION] = AdminAccess.build(settings, container.db)
    app.session_interface = ServerKeySessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME="integrator_admin",
        SESSION_COOKIE_PATH="/admin",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_https,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    app.jinja_env.filters.update(FILTERS)


def _container() -> Container:
    return container_of(current_app)


def _page(template: str, http_status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(f"admin/{template}", **context), http_status


def _refuse(status: int, message: str) -> ResponseReturnValue:
    return _page("refused.html", status, message=message)


@console.context_processor
def _shared() -> dict[str, Any]:
    signed_in = is_signed_in(session, g.get("admin_epoch"))
    return {
        "csrf_field": CSRF_FIELD,
        "csrf_token": (lambda: csrf_token(session)),
        "signed_in": signed_in,
    }


@console.before_request
def _guard() -> ResponseReturnValue | None:
    access = access_of(current_app)
    if access.closed_reason:
        return _refuse(403, f"The console is closed: {access.closed_reason}.")
    if request.endpoint == "admin.console.static":
        return None
    if database_unavailable(request):
        return _refuse(503, "The database cannot be reached; try again in a moment.")
    try:
        g.admin_epoch = access.current_epoch()
    except UNAVAILABLE:
        return _refuse(503, "The database cannot be reached; try again in a moment.")
    if request.endpoint not in PUBLIC_ENDPOINTS and not is_signed_in(session, g.admin_epoch):
        if request.method in ("GET", "HEAD"):
            return redirect(url_for(".sign_in", next=request.full_path.rstrip("?")))
        return _refuse(403, "Sign in first.")
    if request.method == "POST" and not csrf_matches(session, request.form.get(CSRF_FIELD)):
        return _refuse(403, "The form's CSRF token is missing or out of date; reload the page.")
    return None


# no scripts at all, styles from our own stylesheet only, never framed (clickjacking)
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


@console.after_request
def _protect(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "admin.console.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def _has_control_characters(text: str) -> bool:
    return any(ord(character) < 0x20 or ord(character) == 0x7F for character in text)


def _safe_next(target: str | None) -> str | None:
    """Only a path inside the console: never another site (no open redirect)."""
    if not target or "\\" in target or target.startswith("//"):
        return None
    if _has_control_characters(target):
        return None  # a header cannot carry it (CR/LF would split the response)
    if target == "/admin" or target.startswith("/admin/"):
        return target
    return None


@console.route("/sign-in", methods=["GET", "POST"], endpoint="sign_in")
def sign_in_page() -> ResponseReturnValue:
    wanted = request.values.get("next")
    if wanted is not None and _has_control_characters(wanted):
        return _refuse(400, "next: control characters (CR, LF, …) are not allowed in a path.")
    next_page = _safe_next(wanted)
    if request.method == "GET":
        return _page("sign_in.html", next_page=next_page)
    access = access_of(current_app)
    client = client_key(request.remote_addr)
    try:
        if access.throttle.blocked(client):
            body, status = _page(
                "sign_in.html", 429, next_page=next_page, error="Too many tries; wait a minute."
            )
            return body, status, {"Retry-After": str(access.throttle.retry_after(client))}
        if not tokens_match(request.form.get("token"), _container().settings.admin_token):
            access.throttle.failed(client)  # only failures count
            return _page(
                "sign_in.html", 401, next_page=next_page, error="That is not the admin token."
            )
    except UNAVAILABLE:
        return _refuse(503, "The database cannot be reached; try again in a moment.")
    if g.admin_epoch is None:
        return _refuse(
            503,
            "Another process of this service runs with a different ADMIN_TOKEN; "
            "restart every web process with the same one.",
        )
    sign_in(session, g.admin_epoch)
    session.permanent = True
    return redirect(next_page or url_for(".orders"))


@console.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    """Signs out every session of the console, in every browser and every process."""
    try:
        access_of(current_app).sign_out_everyone()
    except UNAVAILABLE:
        return _refuse(503, "The database cannot be reached; try again in a moment.")
    session.clear()
    return redirect(url_for(".sign_in"))


@console.get("/")
def index() -> ResponseReturnValue:
    return redirect(url_for(".orders"))


@console.get("/orders")
def orders() -> ResponseReturnValue:
    try:
        wanted = queries.OrderFilter.from_args(request.args)
    except queries.FilterError as error:
        return _refuse(400, str(error))
    found = queries.list_orders(_container().db, wanted)
    return _page(
        "orders.html",
        page=found,
        stages=[s.value for s in Stage],
        suppliers=configured_suppliers(_container()),
        problems=queries.PROBLEMS,
    )


@console.get("/orders/<int(max=9223372036854775807):order_id>")
def order(order_id: int) -> ResponseReturnValue:
    detail = queries.order_detail(_container().db, order_id)
    if detail is None:
        return _refuse(404, f"There is no order {order_id}.")
    return _page(
        "order.html",
        order=detail,
        suppliers=configured_suppliers(_container(), detail["shop_domain"]),
    )


@console.get("/holds")
def holds() -> ResponseReturnValue:
    container = _container()
    rows = queries.holds(container.db)
    suppliers = {
        row["shop_domain"]: configured_suppliers(container, row["shop_domain"]) for row in rows
    }
    return _page("holds.html", rows=rows, suppliers=suppliers)


@console.post("/items/<int(max=9223372036854775807):line_item_id>/<action>")
def item_action(line_item_id: int, action: str) -> ResponseReturnValue:
    if action not in ITEM_ACTIONS:
        abort(404)
    supplier = request.form.get("supplier") or None
    try:
        stage = act_on_item(_container(), action, line_item_id, supplier)
    except NotFound as error:
        return _refuse(404, str(error))
    except OperatorError as error:
        flash(f"Item {line_item_id}: {error}", "error")
    else:
        flash(f"Item {line_item_id}: {action} done, now {stage.replace('_', ' ')}.", "ok")
    return redirect(_safe_next(request.form.get("next")) or url_for(".holds"))


@console.get("/jobs")
def jobs() -> ResponseReturnValue:
    status = request.args.get("status") or None
    if status is not None and status not in queries.JOB_STATUSES:
        return _refuse(400, f"status: must be one of {', '.join(queries.JOB_STATUSES)}")
    db = _container().db
    return _page(
        "jobs.html",
        rows=queries.jobs(db, status),
        stats=queue_stats(db),
        status=status,
        statuses=queries.JOB_STATUSES,
    )


@console.post("/jobs/<int(max=9223372036854775807):job_id>/retry")
def job_retry(job_id: int) -> ResponseReturnValue:
    try:
        retry_job(_container(), job_id)
    except NotFound as error:
        return _refuse(404, str(error))
    except OperatorError as error:
        flash(str(error), "error")
    else:
        flash(f"Job {job_id} is queued again.", "ok")
    return redirect(url_for(".jobs", status=JobStatus.DEAD))


@console.get("/production")
def production() -> ResponseReturnValue:
    return _page("production.html", **production_page(_container().db))
