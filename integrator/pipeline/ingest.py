"""``order.ingest``: enrich a paid order from Shopify, route every item, store, enqueue submissions.

The GraphQL read happens before any transaction; the decisions, the supplier orders and the
submission jobs are written in one. Running it twice changes nothing: unique constraints on
(shop, order), (order, line item) and (order, supplier, sequence) carry the idempotency.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from integrator.bootstrap import Container
from integrator.db.models import Job, LineItem, Order, Shop, SupplierOrder
from integrator.db.timestamps import as_utc, utcnow
from integrator.db.upsert import insert_or_ignore
from integrator.domain.model import Disposition, EnrichedOrder, ItemDecision
from integrator.domain.stages import Stage
from integrator.jobqueue.errors import TerminalJobError
from integrator.jobqueue.jobs import enqueue
from integrator.jobqueue.worker import JobContext
from integrator.pipeline.records import address_to_json, spec_to_json
from integrator.pipeline.timeline import move, record_event
from integrator.store_config.decoration import SourceKind
from integrator.store_config.store import StoreConfig

log = logging.getLogger(__name__)


# marks an error after which the supplier may have made the order anyway (submission.ambiguous)
MAYBE_CREATED = "[maybe created] "


def metafield_keys(config: StoreConfig) -> list[str]:
    return [
        source.name
        for source in config.decoration.sources
        if source.kind is SourceKind.PRODUCT_METAFIELD
    ]


def shop_is_active(session: Session | Connection, container: Container, shop: str) -> bool:
    """The shop's row decides (uninstalled, redacted); without one, single-store mode's shop."""
    return shop in active_shops(session, container, {shop})


_SHOP_STATUSES = select(Shop.domain, Shop.status).where(
    Shop.domain.in_(bindparam("domains", expanding=True))
)


def active_shops(
    session: Session | Connection, container: Container, shops: Collection[str]
) -> set[str]:
    """Those of ``shops`` we work for, in one query (see :func:`shop_is_active`)."""
    statuses: dict[str, str] = {
        domain: status
        for domain, status in session.execute(_SHOP_STATUSES, {"domains": sorted(set(shops))})
    }
    single = container.settings.shopify_shop
    return {
        shop
        for shop in shops
        if statuses.get(shop) == "active"
        or (shop not in statuses and bool(single) and single == shop)
    }


def upsert_order(session: Session, order: EnrichedOrder) -> Order:
    """The order row, created once; address and status refreshed from the source of truth
    (the caller decides whether a changed address may still be used, see order_sync)."""
    insert_or_ignore(
        session,
        Order,
        {
            "shop_domain": order.shop,
            "shopify_order_id": order.order_id,
            "name": order.name,
            "status": "open",
            "created_at": utcnow(),
            "updated_at": utcnow(),
        },
    )
    row = session.scalars(
        select(Order)
        .where(Order.shop_domain == order.shop, Order.shopify_order_id == order.order_id)
        .with_for_update()
    ).one()
    row.name = order.name
    row.currency = order.currency
    row.financial_status = order.financial_status
    row.test = order.test
    if row.redacted_at is None:
        row.email = order.email or None
        row.shipping_address = address_to_json(order.shipping_address)
    if row.paid_at is None:
        # Shopify's time for the order, not ours: a webhook may arrive late and reconciliation
        # may find the order hours later; fulfillment time starts when the customer bought it
        row.paid_at = as_utc(order.created_at) if order.created_at else utcnow()
    return row


def move_first(session: Session, item: LineItem) -> None:
    record_event(session, item, Stage.RECEIVED, None, source="shopify", dedupe_key="received")


def _take_decision(item: LineItem, decision: ItemDecision) -> None:
    item.disposition = decision.disposition.value
    if decision.fulfillment_order_lines:
        item.fulfillment_order_lines = [
            {
                "fulfillment_order_id": ref.fulfillment_order_id,
                "line_id": ref.line_id,
                "location_id": ref.location_id,
                "quantity": ref.quantity,
            }
            for ref in decision.fulfillment_order_lines
        ]
    item.supplier = decision.supplier
    item.rule = decision.rule
    item.decoration = decision.decoration
    item.decoration_source = decision.decoration_source
    item.catalog_key = decision.catalog_key
    item.spec = spec_to_json(decision.spec)
    item.fallbacks = list(decision.fallbacks)
    item.reason = decision.reason


def apply_decision(
    session: Session, item: LineItem, decision: ItemDecision, *, first: bool = True
) -> None:
    """Store a routing decision and move the item to routed or on hold.

    The first routing of an item carries a dedupe key (ingest may run twice); a later one
    (operator release or retry) is a new event of its own.
    """
    _take_decision(item, decision)
    if decision.disposition is Disposition.ROUTE:
        move(
            session,
            item,
            Stage.ROUTED,
            source="routing",
            detail=decision.reason,
            supplier=decision.supplier,
            dedupe_key="routed" if first else None,
        )
    elif decision.disposition is Disposition.HOLD:
        move(
            session,
            item,
            Stage.ON_HOLD,
            source="routing",
            detail=decision.reason,
            dedupe_key="routing-hold" if first else None,
        )


def reassign(
    session: Session, item: LineItem, decision: ItemDecision, *, source: str, detail: str
) -> None:
    """Failover of a routed item: record the new supplier (or the hold) as a stage event."""
    _take_decision(item, decision)
    item.supplier_order_id = None
    if decision.disposition is Disposition.ROUTE:
        record_event(
            session,
            item,
            Stage.ROUTED,
            item.stage,
            source=source,
            detail=f"{detail}; {decision.reason}",
            supplier=decision.supplier,
        )
        item.stage_changed_at = utcnow()
    else:
        move(session, item, Stage.ON_HOLD, source=source, detail=f"{detail}; {decision.reason}")


def supplier_order_for(
    session: Session, container: Container, row: Order, supplier: str, line_item_id: str = ""
) -> SupplierOrder:
    """The open supplier order of (order, supplier) that can still take items, made if needed.

    A pending one whose submission has started (it may already have reached the supplier)
    takes no new item: a retry would find the supplier's order under the same reference
    without it (Prodigi's idempotency key, Printful's external id), and the item would never
    be made. The item gets a supplier order of its own (the next sequence, its own reference).
    Nor does one take a second part of a Shopify line item it holds (the supplier knows a line
    by its id): a further part of a line goes to a supplier order of its own.
    """
    orders = [so for so in row.supplier_orders if so.supplier == supplier]
    # locked, as load_submission locks the one it submits: an item joins a supplier order
    # before its submission reads the lines, or not at all
    candidates = session.scalars(
        select(SupplierOrder)
        .where(
            SupplierOrder.order_id == row.id,
            SupplierOrder.supplier == supplier,
            SupplierOrder.status == "pending",
        )
        .order_by(SupplierOrder.sequence)
        .with_for_update()
    ).all()
    pending = [
        so
        for so in candidates
        if so.status == "pending"
        and not (so.last_error or "").startswith(MAYBE_CREATED)
        and not submission_started(session, so)
        and not _holds_line(session, so.id, line_item_id)
    ]
    if pending:
        return pending[0]
    sequence = max((so.sequence for so in orders), default=-1) + 1
    reference = container.adapter(supplier, row.shop_domain).reference_for(
        row.shop_domain,
        row.shopify_order_id if sequence == 0 else f"{row.shopify_order_id}-{sequence}",
    )
    created = SupplierOrder(
        order_id=row.id,
        supplier=supplier,
        sequence=sequence,
        external_ref=reference,
        status="pending",
    )
    session.add(created)
    session.flush()
    row.supplier_orders.append(created)
    return created


def _holds_line(session: Session, supplier_order_id: int, line_item_id: str) -> bool:
    if not line_item_id:
        return False
    return (
        session.scalar(
            select(LineItem.id).where(
                LineItem.supplier_order_id == supplier_order_id,
                LineItem.shopify_line_item_id == line_item_id,
            )
        )
        is not None
    )


def submission_started(session: Session, supplier_order: SupplierOrder) -> bool:
    """A worker has claimed the order's submission job at least once (a snoozed claim is
    given back and does not count)."""
    started = session.scalar(
        select(Job.id).where(Job.unique_key == f"submit:{supplier_order.id}", Job.attempts > 0)
    )
    return started is not None


def assign_to_supplier_orders(
    session: Session, container: Container, row: Order, items: list[LineItem]
) -> list[int]:
    """Group routed, unassigned items into supplier orders; enqueue one submission each."""
    touched: dict[int, SupplierOrder] = {}
    for item in items:
        if item.stage != Stage.ROUTED.value or item.supplier is None or item.supplier_order_id:
            continue
        supplier_order = supplier_order_for(
            session, container, row, item.supplier, item.shopify_line_item_id
        )
        item.supplier_order_id = supplier_order.id
        session.flush()
        touched[supplier_order.id] = supplier_order
    for supplier_order_id in touched:
        enqueue(
            session,
            "supplier.submit",
            {"supplier_order_id": supplier_order_id},
            unique_key=f"submit:{supplier_order_id}",
        )
    return list(touched)


def ingest_order(container: Container, shop: str, order_id: str) -> str:
    """Enrich, route and store one order; return what happened (for logs and tests)."""
    from integrator.pipeline.order_sync import sync_order

    return sync_order(container, shop, order_id)


def enqueue_mirror(session: Session, container: Container, row: Order) -> None:
    """Mirror the production stage to Shopify (metafield + tag) when the store wants it."""
    if not container.config(row.shop_domain).shopify.mirror_stage or not row.production_stage:
        return
    enqueue(
        session,
        "shopify.mirror_stage",
        {"order_id": row.id},
        unique_key=f"mirror:{row.id}:{row.production_stage}",
    )


def handle_ingest(container: Container) -> object:
    def handle(context: JobContext) -> None:
        shop, order_id = str(context.payload["shop"]), str(context.payload["order_id"])
        if not shop or not order_id:
            raise TerminalJobError("order.ingest needs shop and order_id")
        ingest_order(container, shop, order_id)

    return handle
