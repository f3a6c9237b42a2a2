"""Operator actions on line items and jobs, shared by the console and the admin API."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from integrator.bootstrap import Container
from integrator.jobqueue.jobs import retry_dead
from integrator.jobqueue.status import JobStatus
from integrator.pipeline.operator import (
    OperatorError,
    cancel_item,
    release_item,
    reroute_item,
    retry_item,
)
from integrator.read_models.queries import job_status, line_item_exists

log = logging.getLogger(__name__)

ITEM_ACTIONS = ("retry", "reroute", "release", "cancel")
_SIMPLE: dict[str, Callable[[Container, int], str]] = {
    "retry": retry_item,
    "release": release_item,
    "cancel": cancel_item,
}


class NotFound(LookupError):
    """No such line item or job."""


def act_on_item(
    container: Container, action: str, line_item_id: int, supplier: str | None = None
) -> str:
    """Run ``action`` on the item and return its new stage.

    :raises NotFound: for an unknown item.
    :raises OperatorError: when the action is not allowed now (the message says why).
    """
    if action not in ITEM_ACTIONS:
        raise OperatorError(f"unknown action {action!r}")
    if not line_item_exists(container.db, line_item_id):
        raise NotFound(f"no line item {line_item_id}")
    if action == "reroute":
        if not supplier:
            raise OperatorError("choose the supplier to re-route to")
        stage = reroute_item(container, line_item_id, supplier)
    else:
        stage = _SIMPLE[action](container, line_item_id)
    log.info(
        "operator.item_action",
        extra={
            "action": action,
            "line_item_id": line_item_id,
            "supplier": supplier,
            "stage": stage,
        },
    )
    return stage


def retry_job(container: Container, job_id: int) -> None:
    """Put a dead job back in the queue with a fresh attempt budget.

    :raises NotFound: for an unknown job.
    :raises OperatorError: when the job is not dead.
    """
    status = job_status(container.db, job_id)
    if status is None:
        raise NotFound(f"no job {job_id}")
    if status != JobStatus.DEAD or not retry_dead(container.db, job_id=job_id):
        raise OperatorError(f"job {job_id} is {status}; only dead jobs can be retried")
    log.info("operator.job_retry", extra={"job_id": job_id})


def configured_suppliers(container: Container, shop: str | None = None) -> list[str]:
    """Suppliers an item may be re-routed to (those configured for the shop)."""
    if container.configs is None:
        return []
    return sorted(container.config(shop).suppliers)


def to_json(value: Any) -> Any:
    """Make query results JSON-ready: times as ISO 8601 UTC strings."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value
