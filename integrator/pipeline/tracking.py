"""Shopify side of a shipment: one fulfillment per shipment, tracking updates, stage mirror."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from integrator.bootstrap import Container
from integrator.db.clock import utcnow
from integrator.db.models import Order, Shipment
from integrator.pipeline.shopify_errors import as_job_error
from integrator.queue.errors import RetryLater
from integrator.queue.worker import JobContext
from integrator.shopify.fulfillment import (
    FulfillmentOutcome,
    FulfillmentResult,
    Tracking,
    create_fulfillment,
    mirror_stage,
    update_tracking,
)

log = logging.getLogger(__name__)

NOT_READY_WAIT_SECONDS = 120


@dataclass(frozen=True)
class ShipmentToSync:
    shipment_id: int
    shop: str
    order_id: str
    items: list[tuple[str, int]]
    tracking: Tracking
    fulfillment_id: str | None
    synced_tracking: str | None


def load_shipment(container: Container, shipment_id: int) -> ShipmentToSync | None:
    with container.db.read() as session:
        shipment = session.get(Shipment, shipment_id)
        if shipment is None:
            return None
        order = session.get(Order, shipment.order_id)
        assert order is not None
        return ShipmentToSync(
            shipment_id=shipment.id,
            shop=order.shop_domain,
            order_id=order.shopify_order_id,
            items=[(str(i["line_item_id"]), int(i["quantity"])) for i in shipment.items],
            tracking=Tracking(shipment.tracking_number, shipment.carrier, shipment.tracking_url),
            fulfillment_id=shipment.shopify_fulfillment_id,
            synced_tracking=shipment.tracking_synced,
        )


def record_result(container: Container, shipment_id: int, result: FulfillmentResult) -> None:
    with container.db.write() as session:
        shipment = session.get(Shipment, shipment_id, with_for_update=True)
        assert shipment is not None
        shipment.sync_detail = result.reason or result.outcome.value
        if result.is_synced:
            shipment.shopify_fulfillment_id = (
                result.fulfillment_id or shipment.shopify_fulfillment_id
            )
            shipment.sync_status = "synced"
            shipment.synced_at = utcnow()
            shipment.tracking_synced = shipment.tracking_number
        elif result.outcome in (FulfillmentOutcome.CLOSED_ELSEWHERE, FulfillmentOutcome.REJECTED):
            shipment.sync_status = "flagged"
            order = session.get(Order, shipment.order_id)
            assert order is not None
            order.attention = (
                f"tracking sync for shipment {shipment.supplier_shipment_id}: {result.reason}"
            )
        else:
            shipment.sync_status = "waiting"


def sync_shipment(container: Container, context: JobContext) -> str:
    shipment = load_shipment(container, int(str(context.payload["shipment_id"])))
    if shipment is None:
        return "gone"
    if shipment.fulfillment_id:
        return "already_synced"
    notify = container.config(shipment.shop).shopify.notify_customer
    with as_job_error():
        result = create_fulfillment(
            container.shopify,
            shipment.shop,
            shipment.order_id,
            shipment.items,
            shipment.tracking,
            notify,
        )
    record_result(container, shipment.shipment_id, result)
    log.info(
        "shipment.sync",
        extra={"shipment_id": shipment.shipment_id, "outcome": result.outcome.value},
    )
    if result.should_retry:
        raise RetryLater(NOT_READY_WAIT_SECONDS, f"Shopify not ready: {result.reason}")
    return result.outcome.value


def sync_tracking_update(container: Container, context: JobContext) -> str:
    shipment = load_shipment(container, int(str(context.payload["shipment_id"])))
    if shipment is None:
        return "gone"
    if not shipment.fulfillment_id:
        raise RetryLater(NOT_READY_WAIT_SECONDS, "fulfillment not created yet")
    if shipment.synced_tracking == shipment.tracking.number:
        return "already_current"
    notify = container.config(shipment.shop).shopify.notify_customer
    with as_job_error():
        result = update_tracking(
            container.shopify, shipment.shop, shipment.fulfillment_id, shipment.tracking, notify
        )
    record_result(container, shipment.shipment_id, result)
    return result.outcome.value


def mirror_order_stage(container: Container, context: JobContext) -> str:
    with container.db.read() as session:
        order = session.get(Order, int(str(context.payload["order_id"])))
        if order is None or not order.production_stage:
            return "nothing"
        shop, order_id, stage = order.shop_domain, order.shopify_order_id, order.production_stage
        if order.mirrored_stage == stage:
            return "current"
    with as_job_error():
        mirror_stage(container.shopify, shop, order_id, stage)
    with container.db.write() as session:
        row = session.get(Order, int(str(context.payload["order_id"])))
        if row is not None:
            row.mirrored_stage = stage
    return "mirrored"
