"""A request id for every HTTP request: taken from ``X-Request-Id`` (when sane) or made here,
sent back in the response, and put on every log record written while the request runs.

One access log line per request says method, path (never the query string), status and time,
plus what the view added with :func:`add_to_access_log` (a webhook's outcome and ids: one line
per delivery instead of two, each costing a record, a JSON encoding and a write); no header,
body or token is ever logged.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar
from typing import Any

from flask import Blueprint, Response, g, request

HEADER = "X-Request-Id"
SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

log = logging.getLogger("webhooks.access")
request_context = Blueprint("request_context", __name__)


def request_id_from(header: str | None) -> str:
    """The caller's id if it is short and plain (it ends up in logs), else a new one."""
    if header and SANE_ID.match(header):
        return header
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to records made during a request (for handlers that want it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True


def install_log_record_factory() -> None:
    """Stamp the request id on every log record, whichever logger or handler takes it."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_request_id", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        request_id = current_request_id.get()
        if request_id is not None:
            record.request_id = request_id
        return record

    factory.adds_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def add_to_access_log(**fields: object) -> None:
    """Put ``fields`` on this request's access log line (ids and outcomes, never secrets)."""
    g.access_log_fields = fields


@request_context.record_once
def _install(_state: Any) -> None:
    install_log_record_factory()


@request_context.before_app_request
def _begin() -> None:
    g.request_id = request_id_from(request.headers.get(HEADER))
    g.request_id_token = current_request_id.set(g.request_id)
    g.request_started = time.perf_counter()


@request_context.after_app_request
def _finish(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers[HEADER] = request_id
        elapsed_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        log.info(
            "http.request",
            extra={
                **g.get("access_log_fields", {}),
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(elapsed_ms, 1),
            },
        )
    return response


@request_context.teardown_app_request
def _end(_error: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        current_request_id.reset(token)
