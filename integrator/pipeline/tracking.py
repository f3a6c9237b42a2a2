"""Shopify side of a shipment: one fulfillment per shipment, tracking updates, stage mirror.

The shipment row is the journal of its sync: every fulfillment Shopify made for it (with what
each fulfilled), and the fulfillment orders of a create whose answer never came. Each entry is
written as soon as it is known, between two calls to Shopify, never inside one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrator.bootstrap import Container
from integrator.db.models import Alert, LineItem, Order, Shipment
from integrator.db.timestamps import utcnow
from integrator.domain.model import FulfillmentOrderLineRef
from integrator.domain.statuses import ShipmentSyncStatus
from integrator.jobqueue.errors import RetryLater
from integrator.jobqueue.jobs import enqueue
from integrator.jobqueue.worker import JobContext
from integrator.pipeline.job_kinds import JobKind
from integrator.pipeline.shopify_errors import as_job_error
from integrator.shopify.fulfillment import (
    FulfillmentOutcome,
    FulfillmentResult,
    MadeFulfillment,
    ShipmentToFulfil,
    Tracking,
    mirror_stage,
    sync_fulfillment,
    update_tracking,
)

log = logging.getLogger(__name__)

NOT_READY_WAIT_SECONDS = 120


@dataclass(frozen=True)
class ShipmentToSync:
    shipment_id: int
    shop: str
    fulfil: ShipmentToFulfil
    not_ready_since: datetime | None
    sync_status: str = ShipmentSyncStatus.PENDING
    tracking_synced: str | None = None


def load_shipment(container: Container, shipment_id: int) -> ShipmentToSync | None:
    with container.db.read() as session:
        shipment = session.get(Shipment, shipment_id)
        if shipment is None:
            return None
        order = session.get(Order, shipment.order_id)
        assert order is not None
        parts = session.scalars(
            select(LineItem).where(LineItem.supplier_order_id == shipment.supplier_order_id)
        ).all()
        others = session.scalars(
            select(Shipment.fulfillments).where(
                Shipment.order_id == shipment.order_id, Shipment.id != shipment.id
            )
        ).all()
        fulfil = ShipmentToFulfil(
            order_id=order.shopify_order_id,
            items=tuple((str(i["line_item_id"]), int(i["quantity"])) for i in shipment.items),
            tracking=Tracking(shipment.tracking_number, shipment.carrier, shipment.tracking_url),
            made=tuple(MadeFulfillment.from_json(entry) for entry in shipment.fulfillments or ()),
            uncertain=tuple(shipment.uncertain_fulfillment_orders or ()),
            hints={part.shopify_line_item_id: _hints(part) for part in parts},
            others=frozenset(str(entry["id"]) for made in others for entry in made or ()),
        )
        return ShipmentToSync(
            shipment.id,
            order.shop_domain,
            fulfil,
            shipment.not_ready_since,
            shipment.sync_status,
            shipment.tracking_synced,
        )


def _hints(part: LineItem) -> tuple[FulfillmentOrderLineRef, ...]:
    return tuple(
        FulfillmentOrderLineRef(
            str(ref["fulfillment_order_id"]),
            str(ref["line_id"]),
            str(ref.get("location_id") or ""),
            int(ref["quantity"]),
        )
        for ref in part.fulfillment_order_lines or ()
    )


class ShipmentJournal:
    """Writes the sync's progress on the shipment row, one short transaction per entry."""

    def __init__(self, container: Container, shipment_id: int) -> None:
        self._container = container
        self._shipment_id = shipment_id

    def attempting(self, fulfillment_order_ids: tuple[str, ...]) -> None:
        with self._container.db.write() as session:
            shipment = session.get(Shipment, self._shipment_id, with_for_update=True)
            assert shipment is not None
            shipment.uncertain_fulfillment_orders = list(fulfillment_order_ids)

    def made(self, fulfillment: MadeFulfillment) -> None:
        with self._container.db.write() as session:
            shipment = session.get(Shipment, self._shipment_id, with_for_update=True)
            assert shipment is not None
            remembered = list(shipment.fulfillments or ())
            if any(str(entry["id"]) == fulfillment.id for entry in remembered):
                return
            shipment.fulfillments = [*remembered, fulfillment.as_json()]
            shipment.uncertain_fulfillment_orders = []
            shipment.shopify_fulfillment_id = shipment.shopify_fulfillment_id or fulfillment.id
            _count_fulfilled(session, shipment, fulfillment)
            if fulfillment.order_updated_at is not None:
                order = session.get(Order, shipment.order_id)
                assert order is not None
                seen = fulfillment.order_updated_at.astimezone(UTC).replace(tzinfo=None)
                if order.shopify_updated_at is None or seen > order.shopify_updated_at:
                    order.shopify_updated_at = seen

    def settled(self) -> None:
        with self._container.db.write() as session:
            shipment = session.get(Shipment, self._shipment_id, with_for_update=True)
            assert shipment is not None
            shipment.uncertain_fulfillment_orders = []


def _count_fulfilled(session: Session, shipment: Shipment, fulfillment: MadeFulfillment) -> None:
    for line_item_id, quantity in fulfillment.items:
        part = session.scalar(
            select(LineItem).where(
                LineItem.supplier_order_id == shipment.supplier_order_id,
                LineItem.shopify_line_item_id == line_item_id,
            )
        )
        if part is not None:
            part.fulfilled_quantity = min(part.quantity, part.fulfilled_quantity + quantity)


def record_result(
    container: Container, shipment_id: int, result: FulfillmentResult
) -> FulfillmentResult:
    """Store the outcome; a not_ready that lasted too long becomes a flag and an alert."""
    with container.db.write() as session:
        shipment = session.get(Shipment, shipment_id, with_for_update=True)
        assert shipment is not None
        order = session.get(Order, shipment.order_id)
        assert order is not None
        shipment.sync_detail = result.reason or result.outcome.value
        if result.is_synced:
            remembered = [str(entry["id"]) for entry in shipment.fulfillments or ()]
            shipment.shopify_fulfillment_id = shipment.shopify_fulfillment_id or next(
                iter(remembered), None
            )
            shipment.sync_status = ShipmentSyncStatus.SYNCED
            shipment.synced_at = utcnow()
            shipment.tracking_synced = shipment.tracking_number
            shipment.not_ready_since = None
            return result
        if result.outcome == FulfillmentOutcome.NOT_READY:
            since = shipment.not_ready_since or utcnow()
            shipment.not_ready_since = since
            patience = container.config(order.shop_domain).reconcile.not_ready_after
            if utcnow() - since <= timedelta(seconds=patience):
                shipment.sync_status = ShipmentSyncStatus.WAITING
                return result
            result = FulfillmentResult(
                FulfillmentOutcome.REJECTED,
                result.made,
                f"Shopify not ready for {_hours(utcnow() - since)}: {result.reason}",
            )
            _alert_not_ready(session, container, shipment, order, result.reason)
        shipment.sync_detail = result.reason
        shipment.sync_status = ShipmentSyncStatus.FLAGGED
        order.attention = (
            f"tracking sync for shipment {shipment.supplier_shipment_id}: {result.reason}"
        )
    return result


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:.1f} hours"


def _alert_not_ready(
    session: Session, container: Container, shipment: Shipment, order: Order, reason: str
) -> None:
    first_item = session.scalar(
        select(LineItem.id).where(LineItem.supplier_order_id == shipment.supplier_order_id)
    )
    subject = f"shipment:{shipment.id}:not_ready"
    if session.scalar(select(Alert.id).where(Alert.subject == subject)) is not None:
        return
    alert = Alert(
        kind="tracking_not_ready",
        subject=subject,
        order_id=order.id,
        line_item_id=first_item,
        message=f"{order.name}: shipment {shipment.supplier_shipment_id} {reason}",
    )
    session.add(alert)
    session.flush()
    log.warning("shipment.not_ready_too_long", extra={"shipment_id": shipment.id})
    if container.config(order.shop_domain).alerts.webhook_url:
        enqueue(session, JobKind.ALERT_POST, {"alert_id": alert.id}, unique_key=f"alert:{alert.id}")


def sync_shipment(container: Container, context: JobContext) -> str:
    shipment = load_shipment(container, int(str(context.payload["shipment_id"])))
    if shipment is None:
        return "gone"
    if shipment.sync_status == ShipmentSyncStatus.SYNCED:
        return "already_synced"
    notify = container.config(shipment.shop).shopify.notify_customer
    journal = ShipmentJournal(container, shipment.shipment_id)
    with as_job_error():
        result = sync_fulfillment(
            container.shopify, shipment.shop, shipment.fulfil, notify, journal
        )
    result = record_result(container, shipment.shipment_id, result)
    log.info(
        "shipment.sync",
        extra={"shipment_id": shipment.shipment_id, "outcome": result.outcome.value},
    )
    if result.should_retry:
        raise RetryLater(NOT_READY_WAIT_SECONDS, f"Shopify not ready: {result.reason}")
    return result.outcome.value


def sync_tracking_update(container: Container, context: JobContext) -> str:
    """New tracking for a shipment: every fulfillment made for it carries it."""
    shipment = load_shipment(container, int(str(context.payload["shipment_id"])))
    if shipment is None:
        return "gone"
    if not shipment.fulfil.made:
        raise RetryLater(NOT_READY_WAIT_SECONDS, "fulfillment not created yet")
    if shipment.tracking_synced == shipment.fulfil.tracking.number:
        return "already_current"
    notify = container.config(shipment.shop).shopify.notify_customer
    results = []
    with as_job_error():
        for made in shipment.fulfil.made:
            results.append(
                update_tracking(
                    container.shopify, shipment.shop, made.id, shipment.fulfil.tracking, notify
                )
            )
    refused = [r for r in results if not r.is_synced]
    outcome = refused[0] if refused else results[0]
    record_result(container, shipment.shipment_id, outcome)
    return outcome.outcome.value


def mirror_order_stage(container: Container, context: JobContext) -> str:
    """Show the order's current stage in Shopify (a job queued at an earlier stage mirrors the
    stage the order is at when it runs, so quick successions cost one write)."""
    with container.db.read() as session:
        order = session.get(Order, int(str(context.payload["order_id"])))
        if order is None or not order.production_stage:
            return "nothing"
        shop, order_id, stage = order.shop_domain, order.shopify_order_id, order.production_stage
        shown = order.mirrored_stage
        if shown == stage:
            return "current"
    with as_job_error():
        # a retry may follow an attempt that added a tag and failed before recording it
        thorough = context.job.attempts > 1
        mirror_stage(container.shopify, shop, order_id, stage, shown, thorough=thorough)
    with container.db.write() as session:
        row = session.get(Order, int(str(context.payload["order_id"])))
        if row is not None:
            row.mirrored_stage = stage
    return "mirrored"
