"""Changes after payment: ``order.update`` (address, edits, refunds, holds) and
``fulfillment_order.changed`` read the order again and follow it (see order_sync)."""

from __future__ import annotations

from sqlalchemy import select

from integrator.bootstrap import Container
from integrator.db.models import Order
from integrator.domain.statuses import OrderStatus
from integrator.jobqueue.worker import JobContext


def update_order(container: Container, context: JobContext) -> str:
    """Read a known order again and follow what changed (address, edits, refunds, holds...)."""
    from integrator.pipeline.order_sync import sync_order

    shop, order_id = str(context.payload["shop"]), str(context.payload["order_id"])
    with container.db.read() as session:
        status = session.scalar(
            select(Order.status).where(
                Order.shop_domain == shop, Order.shopify_order_id == order_id
            )
        )
    if status is None or status == OrderStatus.CANCELLED:
        return "not_tracked"
    return sync_order(container, shop, order_id)


def fulfillment_order_changed(container: Container, context: JobContext) -> str:
    """A fulfillment order changed (routing done, hold released, moved...): follow its order."""
    from integrator.pipeline.order_sync import sync_order
    from integrator.pipeline.shopify_errors import as_job_error
    from integrator.shopify.fulfillment_orders import order_of_fulfillment_order

    shop = str(context.payload["shop"])
    outcomes = []
    named = context.payload.get("fulfillment_orders")
    for fulfillment_order_id in named if isinstance(named, list) else []:
        with as_job_error():
            order_id = order_of_fulfillment_order(
                container.shopify, shop, str(fulfillment_order_id)
            )
        if order_id is None:
            outcomes.append("not_visible")
            continue
        with container.db.read() as session:
            known = session.scalar(
                select(Order.status).where(
                    Order.shop_domain == shop, Order.shopify_order_id == order_id
                )
            )
        # an order we do not know yet comes with its trigger topic (or reconciliation)
        outcomes.append(sync_order(container, shop, order_id) if known else "order_not_known")
    return ",".join(outcomes) or "nothing"
