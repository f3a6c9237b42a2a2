"""Supplier orders: which one a routed item joins (made if needed), and one submission job each."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrator.bootstrap import Container
from integrator.db.models import Job, LineItem, Order, SupplierOrder
from integrator.domain.stages import Stage
from integrator.domain.statuses import SupplierOrderStatus
from integrator.jobqueue.jobs import enqueue
from integrator.pipeline.job_kinds import JobKind


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
            SupplierOrder.status == SupplierOrderStatus.PENDING,
        )
        .order_by(SupplierOrder.sequence)
        .with_for_update()
    ).all()
    pending = [
        so
        for so in candidates
        if so.status == SupplierOrderStatus.PENDING
        and not so.maybe_created
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
        status=SupplierOrderStatus.PENDING,
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
            JobKind.SUPPLIER_SUBMIT,
            {"supplier_order_id": supplier_order_id},
            unique_key=f"submit:{supplier_order_id}",
        )
    return list(touched)
