"""The kinds of job the pipeline enqueues and handles: one name per kind, checked by mypy,
instead of string literals spread over the modules that enqueue them. The value is what the
``jobs.kind`` column stores (and what ``integrator jobs list --kind`` takes)."""

from __future__ import annotations

from enum import StrEnum


class JobKind(StrEnum):
    SHOPIFY_DELIVERY = "shopify.delivery"
    ORDER_INGEST = "order.ingest"
    ORDER_UPDATE = "order.update"
    ORDER_CANCEL = "order.cancel"
    FULFILLMENT_ORDER_CHANGED = "fulfillment_order.changed"
    SUPPLIER_SUBMIT = "supplier.submit"
    SUPPLIER_CALLBACK = "supplier.callback"
    SUPPLIER_POLL = "supplier.poll"
    SHOPIFY_SYNC_SHIPMENT = "shopify.sync_shipment"
    SHOPIFY_UPDATE_TRACKING = "shopify.update_tracking"
    SHOPIFY_MIRROR_STAGE = "shopify.mirror_stage"
    SHOPIFY_FULFILLMENT_REQUESTS = "shopify.fulfillment_requests"
    SHOPIFY_FULFILLMENT_SERVICE_SETUP = "shopify.fulfillment_service_setup"
    ALERT_POST = "alert.post"


def reconcile_kind(pass_name: str) -> str:
    """The job kind of one reconciliation pass (``reconcile.<pass>``, one per pass name)."""
    return f"reconcile.{pass_name}"
