"""``order.cancel``: an order cancelled in Shopify; unsent items cancelled here, sent ones at
the supplier (what it will not cancel is flagged on the order)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrator.bootstrap import Container
from integrator.db.models import LineItem, Order, SupplierOrder
from integrator.db.timestamps import utcnow
from integrator.domain.stages import Stage
from integrator.domain.statuses import AT_SUPPLIER, OrderStatus, SupplierOrderStatus
from integrator.jobqueue.errors import RetryableJobError
from integrator.jobqueue.worker import JobContext
from integrator.pipeline.timeline import move, refresh_order
from integrator.suppliers.base import CancelResult
from integrator.suppliers.errors import RetryableSupplierError, SupplierError


def cancel_order(container: Container, context: JobContext) -> str:
    shop, order_id = str(context.payload["shop"]), str(context.payload["order_id"])
    with container.db.write() as session:
        order = session.scalar(
            select(Order).where(Order.shop_domain == shop, Order.shopify_order_id == order_id)
        )
        if order is None:
            # cancelled before we ingested it: remember, so a late orders/paid does nothing
            order = Order(
                shop_domain=shop,
                shopify_order_id=order_id,
                status=OrderStatus.CANCELLED,
                cancelled_at=utcnow(),
            )
            session.add(order)
            return "cancelled_before_ingest"
        order.status = OrderStatus.CANCELLED
        order.cancelled_at = order.cancelled_at or utcnow()
        _cancel_unsubmitted(session, order)
        remote = [
            (so.id, so.supplier, so.supplier_order_id)
            for so in order.supplier_orders
            if so.status in AT_SUPPLIER and so.supplier_order_id
        ]
    outcomes = [_cancel_at_supplier(container, shop, *entry) for entry in remote]
    return ",".join(outcomes) or "cancelled_locally"


def _cancel_unsubmitted(session: Session, order: Order) -> None:
    for item in order.line_items:
        unstarted = item.stage in (
            Stage.RECEIVED.value,
            Stage.ROUTED.value,
            Stage.ON_HOLD.value,
            Stage.FAILED.value,
        )
        if unstarted and (
            item.supplier_order_id is None or _is_pending(session, item.supplier_order_id)
        ):
            move(
                session,
                item,
                Stage.CANCELLED,
                source="shopify",
                detail="order cancelled in Shopify",
            )
    for supplier_order in order.supplier_orders:
        if supplier_order.status == SupplierOrderStatus.PENDING:
            supplier_order.status = SupplierOrderStatus.CANCELLED
    refresh_order(session, order)


def _is_pending(session: Session, supplier_order_id: int) -> bool:
    return (
        session.scalar(select(SupplierOrder.status).where(SupplierOrder.id == supplier_order_id))
        == SupplierOrderStatus.PENDING
    )


def _cancel_at_supplier(
    container: Container, shop: str, supplier_order_pk: int, supplier: str, remote_id: str
) -> str:
    adapter = container.adapter(supplier, shop)
    try:
        outcome = adapter.cancel(remote_id)
    except RetryableSupplierError as error:
        raise RetryableJobError(
            f"{supplier} cancel: {error}", retry_after=error.retry_after
        ) from error
    except SupplierError as error:
        outcome = None
        reason = f"{supplier} refused to cancel: {error}"
    with container.db.write() as session:
        supplier_order = session.get(SupplierOrder, supplier_order_pk, with_for_update=True)
        assert supplier_order is not None
        order = supplier_order.order
        items = list(
            session.scalars(select(LineItem).where(LineItem.supplier_order_id == supplier_order_pk))
        )
        if outcome is not None and outcome.result in (
            CancelResult.CANCELLED,
            CancelResult.NOT_FOUND,
        ):
            supplier_order.status = SupplierOrderStatus.CANCELLED
            for item in items:
                move(
                    session,
                    item,
                    Stage.CANCELLED,
                    source=f"supplier:{supplier}",
                    detail=f"cancelled at {supplier}: {outcome.reason or outcome.result.value}",
                )
        else:
            reason = outcome.reason if outcome is not None else reason
            supplier_order.status = SupplierOrderStatus.CANCEL_REFUSED
            supplier_order.last_error = reason
            order.attention = (
                f"order cancelled in Shopify but {supplier} could not cancel "
                f"({reason or 'already in production'}): items will still be made and shipped"
            )
        refresh_order(session, order)
    return f"{supplier}:{supplier_order.status}"
