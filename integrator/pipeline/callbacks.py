"""Supplier events (callbacks and polls) → item stages, shipments and tracking-sync jobs."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from integrator.bootstrap import Container
from integrator.db.models import LineItem, Shipment, SupplierOrder
from integrator.db.timestamps import as_utc, utcnow
from integrator.db.upsert import insert_or_ignore
from integrator.domain.model import EventKind, ShipmentInfo, SupplierEvent, SupplierLine
from integrator.domain.stages import Stage
from integrator.domain.statuses import ShipmentSyncStatus, SupplierOrderStatus
from integrator.jobqueue.errors import RetryableJobError, TerminalJobError
from integrator.jobqueue.jobs import enqueue
from integrator.jobqueue.worker import JobContext
from integrator.pipeline.inbox import load_delivery, mark_delivery
from integrator.pipeline.job_kinds import JobKind
from integrator.pipeline.records import spec_from_json
from integrator.pipeline.stage_mirror import enqueue_mirror
from integrator.pipeline.timeline import move, refresh_order, release_hold
from integrator.suppliers.base import SupplierAdapter
from integrator.suppliers.errors import (
    CallbackPayloadError,
    RetryableSupplierError,
    SupplierError,
)

log = logging.getLogger(__name__)

# a callback can beat the record of its own submission; wait this long for it, this many times
UNMATCHED_WAIT_SECONDS = 20
UNMATCHED_PATIENCE = 6
# the supplier calls a callback needs (e.g. Printful listing a shipment it just announced) are
# retried with the queue's backoff this many times (about four minutes), then given up on
COMPLETION_PATIENCE = 8

SUPPLIER_ORDER_STATUS = {
    Stage.SUBMITTED: SupplierOrderStatus.SUBMITTED,
    Stage.IN_PRODUCTION: SupplierOrderStatus.IN_PRODUCTION,
    Stage.ON_HOLD: SupplierOrderStatus.HELD,
    Stage.SHIPPED: SupplierOrderStatus.SHIPPED,
    Stage.DELIVERED: SupplierOrderStatus.DELIVERED,
    Stage.CANCELLED: SupplierOrderStatus.CANCELLED,
    Stage.FAILED: SupplierOrderStatus.FAILED,
    Stage.RETURNED: SupplierOrderStatus.RETURNED,
}


def find_supplier_order(
    session: Session, supplier: str, event: SupplierEvent, *, lock: bool = True
) -> SupplierOrder | None:
    conditions = []
    if event.supplier_order_id:
        conditions.append(SupplierOrder.supplier_order_id == event.supplier_order_id)
    if event.external_ref:
        conditions.append(SupplierOrder.external_ref == event.external_ref)
    if not conditions:
        return None
    query = (
        select(SupplierOrder)
        .where(SupplierOrder.supplier == supplier, or_(*conditions))
        .order_by(SupplierOrder.id.desc())
    )
    return session.scalars(query.with_for_update() if lock else query).first()


@dataclass(frozen=True)
class Completed:
    """A callback's events after the supplier calls they need; ``problem`` says why some
    could not be completed (they are applied as they are, and their orders flagged)."""

    events: list[SupplierEvent]
    problem: str | None = None


def complete_ours(
    container: Container,
    adapter: SupplierAdapter,
    supplier: str,
    events: list[SupplierEvent],
    *,
    last_try: bool = False,
) -> Completed:
    """Let the adapter make the supplier calls our events need (fetch a shipment's items,
    confirm a draft), outside any transaction. Events of orders that are not ours (a store
    shared with another app) are left alone: we never act on someone else's order.

    A failure worth retrying (the supplier is down, or has not listed a shipment it just
    announced) retries the job, up to ``last_try``; then, like a refusal, the events are
    applied as they are: what they do not say moves no line, and the order is flagged."""
    with container.db.read() as session:
        ours = [find_supplier_order(session, supplier, e, lock=False) is not None for e in events]
    try:
        completed = iter(
            adapter.complete_events([e for e, o in zip(events, ours, strict=True) if o])
        )
    except RetryableSupplierError as error:
        if not last_try:
            raise RetryableJobError(
                f"{supplier}: {error}", retry_after=error.retry_after
            ) from error
        return _uncompleted(supplier, events, f"{error} (gave up retrying)")
    except SupplierError as error:
        return _uncompleted(supplier, events, str(error))
    return Completed([next(completed) if o else e for e, o in zip(events, ours, strict=True)])


def _uncompleted(supplier: str, events: list[SupplierEvent], problem: str) -> Completed:
    log.warning("callback.completion_failed", extra={"source": supplier, "reason": problem[:200]})
    return Completed(events, problem[:300])


def flag_uncompleted(
    session: Session, supplier: str, events: list[SupplierEvent], problem: str
) -> None:
    """Tell the operator which supplier orders a callback could not be completed for."""
    for event in events:
        supplier_order = find_supplier_order(session, supplier, event)
        if supplier_order is not None:
            supplier_order.order.attention = (
                f"{supplier} {event.raw_status or 'callback'} could not be completed from "
                f"{supplier} ({problem}): what it does not say moved nothing; check order "
                f"{supplier_order.supplier_order_id or supplier_order.external_ref} there"
            )


def items_named(items: list[LineItem], line_item_ids: tuple[str, ...]) -> list[LineItem]:
    if not line_item_ids:
        return items
    wanted = set(line_item_ids)
    return [item for item in items if item.shopify_line_item_id in wanted]


def submitted_lines(items: list[LineItem]) -> list[SupplierLine]:
    return [
        SupplierLine(i.shopify_line_item_id, i.quantity, spec_from_json(i.spec), i.title, i.sku)
        for i in items
    ]


def apply_event(
    session: Session, container: Container, supplier: str, event: SupplierEvent, *, source: str
) -> str:
    """Apply one event; return "applied", "ignored" or "unmatched"."""
    supplier_order = find_supplier_order(session, supplier, event)
    if supplier_order is None:
        return "unmatched"
    return apply_to(session, container, supplier_order, event, source=source)


def apply_to(
    session: Session,
    container: Container,
    supplier_order: SupplierOrder,
    event: SupplierEvent,
    *,
    source: str,
) -> str:
    """Apply one event to its supplier order (found and locked); "applied" or "ignored"."""
    supplier = supplier_order.supplier
    supplier_order.last_heard_at = utcnow()
    items = list(
        session.scalars(
            select(LineItem)
            .where(LineItem.supplier_order_id == supplier_order.id)
            .with_for_update()
        )
    )
    released = _release_holds(session, items, event, supplier, source)
    if event.shipment is not None and event.shipment.items_pending:
        # the supplier did not say which items: moving "every line" would be a guess
        supplier_order.order.attention = (
            f"{supplier} {event.raw_status or 'shipment'} {event.shipment.shipment_id} does not "
            "say which items it covers: check the supplier order"
        )
        changed = released
    else:
        changed = released | _apply_to_items(
            session, container, supplier_order, items, event, source
        )
    if event.stage in SUPPLIER_ORDER_STATUS and changed:
        supplier_order.status = SUPPLIER_ORDER_STATUS[event.stage]
    if event.raw_status:
        supplier_order.raw_status = event.raw_status[:64]
    order = supplier_order.order
    if refresh_order(session, order):
        enqueue_mirror(session, container, order)
    return "applied" if changed else "ignored"


def _apply_to_items(
    session: Session,
    container: Container,
    supplier_order: SupplierOrder,
    items: list[LineItem],
    event: SupplierEvent,
    source: str,
) -> bool:
    supplier = supplier_order.supplier
    if event.shipment is not None:
        adapter = container.adapter(supplier, supplier_order.order.shop_domain)
        event = adapter.resolve_shipment_items(event, submitted_lines(items))
    if event.kind in (EventKind.SHIPMENT, EventKind.TRACKING_UPDATE) and event.shipment:
        return _apply_shipment(session, supplier_order, items, event, source)
    if event.kind is EventKind.DELIVERED and event.shipment:
        # a delivery names its parcel: record it if we missed its shipment, then deliver
        # exactly the items in it
        changed = _apply_shipment(session, supplier_order, items, event, source)
        delivered = _shipment_items(items, event.shipment)
        return changed | _apply_stage(session, delivered, Stage.DELIVERED, event, supplier, source)
    if event.kind is EventKind.DELIVERED or event.stage is not None:
        stage = Stage.DELIVERED if event.kind is EventKind.DELIVERED else event.stage
        assert stage is not None
        named = items_named(items, event.line_item_ids)
        if stage in (Stage.SHIPPED, Stage.DELIVERED):
            # without a parcel, "shipped" or "delivered" can only be about items a recorded
            # shipment carries: anything else would never reach Shopify as a fulfillment
            named = _in_shipments(session, supplier_order, named)
        return _apply_stage(session, named, stage, event, supplier, source)
    return False


def _release_holds(
    session: Session, items: list[LineItem], event: SupplierEvent, supplier: str, source: str
) -> bool:
    """The supplier lifted its hold: held items return to the stage they had reached."""
    if not event.releases_hold:
        return False
    released = False
    for item in items_named(items, event.line_item_ids):
        released |= release_hold(
            session,
            item,
            source=source,
            detail=event.reason or event.raw_status or "hold released by the supplier",
            supplier=supplier,
            dedupe_key=f"{event.dedupe_key}:release",
            occurred_at=event.occurred_at,
        )
    return released


def _shipment_items(items: list[LineItem], shipment: ShipmentInfo) -> list[LineItem]:
    """The items a shipment names; none when it names items only in the supplier's words."""
    if not shipment.items:
        return [] if shipment.supplier_skus else items
    return items_named(items, tuple(i.line_item_id for i in shipment.items))


def _in_shipments(
    session: Session, supplier_order: SupplierOrder, items: list[LineItem]
) -> list[LineItem]:
    """Those of ``items`` that a recorded shipment of the supplier order carries."""
    carried = {
        str(entry["line_item_id"])
        for shipment in session.scalars(
            select(Shipment).where(Shipment.supplier_order_id == supplier_order.id)
        )
        for entry in shipment.items
    }
    return [item for item in items if item.shopify_line_item_id in carried]


def _apply_stage(
    session: Session,
    items: list[LineItem],
    stage: Stage,
    event: SupplierEvent,
    supplier: str,
    source: str,
) -> bool:
    detail = event.reason or event.raw_status or None
    moved = False
    for item in items:
        moved |= move(
            session,
            item,
            stage,
            source=source,
            detail=detail,
            supplier=supplier,
            dedupe_key=f"{event.dedupe_key}:{stage.value}",
            occurred_at=event.occurred_at,
        )
    return moved


def _apply_shipment(
    session: Session,
    supplier_order: SupplierOrder,
    items: list[LineItem],
    event: SupplierEvent,
    source: str,
) -> bool:
    shipment_info = event.shipment
    assert shipment_info is not None
    shipped_items = shipment_info.items or tuple()
    if not shipped_items and shipment_info.supplier_skus:
        # the supplier named items we never sent it: shipping "everything" would be a guess
        supplier_order.order.attention = (
            f"{supplier_order.supplier} shipment {shipment_info.shipment_id} names SKUs "
            f"{', '.join(shipment_info.supplier_skus)} that are not in this order: check it"
        )
        return False
    if shipped_items:
        named = {si.line_item_id: si.quantity for si in shipped_items}
        chosen = [i for i in items if i.shopify_line_item_id in named]
        quantities = [{"line_item_id": k, "quantity": v} for k, v in named.items()]
    else:
        chosen = items
        quantities = [
            {"line_item_id": i.shopify_line_item_id, "quantity": i.quantity} for i in items
        ]
    shipment_id = insert_or_ignore(
        session,
        Shipment,
        {
            "order_id": supplier_order.order_id,
            "supplier_order_id": supplier_order.id,
            "supplier": supplier_order.supplier,
            "supplier_shipment_id": shipment_info.shipment_id,
            "carrier": shipment_info.carrier,
            "tracking_number": shipment_info.tracking_number,
            "tracking_url": shipment_info.tracking_url,
            "items": quantities,
            "shipped_at": as_utc(shipment_info.shipped_at or event.occurred_at or utcnow()),
            "created_at": utcnow(),
            "sync_status": ShipmentSyncStatus.PENDING,
        },
    )
    if shipment_id is None:
        return _maybe_update_tracking(session, supplier_order, event)
    enqueue(
        session,
        JobKind.SHOPIFY_SYNC_SHIPMENT,
        {"shipment_id": shipment_id},
        unique_key=f"sync:{shipment_id}",
    )
    for item in chosen:
        move(
            session,
            item,
            Stage.SHIPPED,
            source=source,
            detail=f"{shipment_info.carrier} {shipment_info.tracking_number}".strip(),
            supplier=supplier_order.supplier,
            dedupe_key=f"shipment:{shipment_info.shipment_id}",
            occurred_at=shipment_info.shipped_at or event.occurred_at,
        )
    return True


def _maybe_update_tracking(
    session: Session, supplier_order: SupplierOrder, event: SupplierEvent
) -> bool:
    """A repeated shipment with a new tracking number updates it, never adds a fulfillment."""
    info = event.shipment
    assert info is not None
    shipment = session.scalars(
        select(Shipment).where(
            Shipment.supplier_order_id == supplier_order.id,
            Shipment.supplier_shipment_id == info.shipment_id,
        )
    ).one()
    if not info.tracking_number or info.tracking_number == shipment.tracking_number:
        return False
    shipment.tracking_number = info.tracking_number
    shipment.carrier = info.carrier or shipment.carrier
    shipment.tracking_url = info.tracking_url or shipment.tracking_url
    enqueue(
        session,
        JobKind.SHOPIFY_UPDATE_TRACKING,
        {"shipment_id": shipment.id},
        unique_key=f"tracking:{shipment.id}:{info.tracking_number}",
    )
    return True


def handle_callback(container: Container, context: JobContext) -> str:
    delivery_id = int(str(context.payload["delivery_id"]))
    with container.db.read() as session:
        delivery = load_delivery(session, delivery_id)
        if delivery is None or delivery.body is None:
            return "gone"
        supplier, body = delivery.source, delivery.body
    adapter = container.adapter(supplier)
    try:
        events = adapter.parse_callback(body)
    except CallbackPayloadError as error:
        raise TerminalJobError(f"stored callback no longer parses: {error}") from error
    last_try = context.job.attempts >= min(COMPLETION_PATIENCE, context.job.max_attempts)
    completed = complete_ours(container, adapter, supplier, events, last_try=last_try)
    events = completed.events
    outcomes = []
    with container.db.write() as session:
        # each event's supplier order found (and locked) once, for applying and for linking
        matched = [find_supplier_order(session, supplier, event) for event in events]
        for event, supplier_order in zip(events, matched, strict=True):
            outcomes.append(
                "unmatched"
                if supplier_order is None
                else apply_to(
                    session, container, supplier_order, event, source=f"supplier:{supplier}"
                )
            )
        if completed.problem:
            flag_uncompleted(session, supplier, events, completed.problem)
        if "unmatched" in outcomes and context.job.attempts < UNMATCHED_PATIENCE:
            # rolls the whole callback back; it is applied again, whole, on the next attempt
            raise RetryableJobError(
                "callback for a supplier order not recorded yet", retry_after=UNMATCHED_WAIT_SECONDS
            )
        mark_delivery(session, delivery_id, "processed", ",".join(outcomes))
        link_delivery(session, delivery_id, next((so for so in matched if so), None))
    return ",".join(outcomes)


def link_delivery(session: Session, delivery_id: int, supplier_order: SupplierOrder | None) -> None:
    """Tie the raw callback to the order of its first matched event, so that redaction and
    the console find it."""
    from integrator.db.models import WebhookDelivery

    if supplier_order is None:
        return
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is not None:
        delivery.order_id = supplier_order.order_id
        delivery.shop_domain = supplier_order.order.shop_domain
