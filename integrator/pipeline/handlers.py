"""The registry of job kinds → handlers, built from the container."""

from __future__ import annotations

import logging
from collections.abc import Callable

from integrator.bootstrap import Container
from integrator.jobqueue.worker import Handler, JobContext
from integrator.pipeline.job_kinds import JobKind

log = logging.getLogger(__name__)


def noop(_context: JobContext) -> None:
    """Do nothing: used by the queue's tests and benchmarks."""


def _bound(container: Container, function: Callable[[Container, JobContext], object]) -> Handler:
    def handle(context: JobContext) -> None:
        outcome = function(container, context)
        log.info(
            "job.handled",
            extra={"job_id": context.job.id, "kind": context.job.kind, "outcome": str(outcome)},
        )

    return handle


def _ingest(container: Container, context: JobContext) -> str:
    from integrator.pipeline.order_sync import line_count_hint, sync_order

    return sync_order(
        container,
        str(context.payload["shop"]),
        str(context.payload["order_id"]),
        line_count_hint(context.payload.get("lines")),
    )


def build_handlers(container: Container) -> dict[str, Handler]:
    from integrator.pipeline import (
        callbacks,
        cancellation,
        delivery_dispatch,
        fulfillment_requests,
        order_changes,
        reconcile,
        submission,
        tracking,
    )

    table: dict[str, Callable[[Container, JobContext], object]] = {
        JobKind.SHOPIFY_DELIVERY: delivery_dispatch.handle_delivery,
        JobKind.ORDER_INGEST: _ingest,
        JobKind.ORDER_UPDATE: order_changes.update_order,
        JobKind.FULFILLMENT_ORDER_CHANGED: order_changes.fulfillment_order_changed,
        JobKind.ORDER_CANCEL: cancellation.cancel_order,
        JobKind.SUPPLIER_SUBMIT: submission.submit,
        JobKind.SUPPLIER_CALLBACK: callbacks.handle_callback,
        JobKind.SHOPIFY_SYNC_SHIPMENT: tracking.sync_shipment,
        JobKind.SHOPIFY_UPDATE_TRACKING: tracking.sync_tracking_update,
        JobKind.SHOPIFY_MIRROR_STAGE: tracking.mirror_order_stage,
        JobKind.SHOPIFY_FULFILLMENT_REQUESTS: fulfillment_requests.poll_requests_job,
        JobKind.SHOPIFY_FULFILLMENT_SERVICE_SETUP: fulfillment_requests.setup_service_job,
        **reconcile.JOB_KINDS,
    }
    handlers = {kind: _bound(container, function) for kind, function in table.items()}
    handlers["noop"] = noop
    return handlers
