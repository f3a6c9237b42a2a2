"""Shopify topics: what each stored delivery causes. Every handler is safe to run twice."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.orm import Session

from integrator.bootstrap import Container
from integrator.db.models import (
    DataExport,
    LineItem,
    Order,
    Shop,
    SupplierOrder,
    WebhookDelivery,
)
from integrator.db.timestamps import utcnow
from integrator.domain.model import legacy_id
from integrator.domain.stages import Stage
from integrator.jobqueue.errors import RetryableJobError, TerminalJobError
from integrator.jobqueue.jobs import enqueue
from integrator.jobqueue.worker import JobContext
from integrator.pipeline.inbox import load_delivery, mark_delivery
from integrator.pipeline.replay import replay_refusal
from integrator.pipeline.timeline import move, refresh_order
from integrator.pipeline.topics import FULFILLMENT_ORDER_TOPICS
from integrator.suppliers.base import CancelResult
from integrator.suppliers.errors import RetryableSupplierError, SupplierError

log = logging.getLogger(__name__)

TopicHandler = Callable[[Container, Session, WebhookDelivery, dict[str, Any]], str]


def order_id_of(topic: str, body: dict[str, Any]) -> str | None:
    """The Shopify order a delivery is about, where its body names one."""
    if topic == "orders/edited":
        raw = (body.get("order_edit") or {}).get("order_id")
    elif topic == "refunds/create":
        raw = body.get("order_id")
    elif topic.startswith("orders/"):
        raw = body.get("admin_graphql_api_id") or body.get("id")
    else:
        return None
    return legacy_id(raw) if raw else None


def _enqueue_order_job(
    session: Session, delivery: WebhookDelivery, body: dict[str, Any], kind: str, key: str
) -> str:
    """Enqueue ``kind`` for the delivery's order; ``key`` may use {shop}, {order_id}, {delivery}."""
    order_id = order_id_of(delivery.topic, body)
    if not order_id:
        raise TerminalJobError(f"{delivery.topic} payload without an order id")
    shop = delivery.shop_domain or ""
    unique_key = key.format(shop=shop, order_id=order_id, delivery=delivery.id)
    payload: dict[str, object] = {"shop": shop, "order_id": order_id}
    lines = body.get("line_items")
    if isinstance(lines, list) and lines:
        payload["lines"] = len(lines)  # sizes the enrichment query's first page
    enqueue(session, kind, payload, unique_key=unique_key, fair_key=shop or None)
    return f"{kind}_enqueued"


def on_order_trigger(
    container: Container, session: Session, delivery: WebhookDelivery, body: dict[str, Any]
) -> str:
    if container.config(delivery.shop_domain).shopify.trigger_topic.value != delivery.topic:
        return "not_the_trigger_topic"
    return _enqueue_order_job(session, delivery, body, "order.ingest", "ingest:{shop}:{order_id}")


def on_order_changed(
    container: Container, session: Session, delivery: WebhookDelivery, body: dict[str, Any]
) -> str:
    """orders/updated, orders/edited, refunds/create: read the order again and follow it."""
    # every change is news (a new address, an edit), so the key is the delivery, not the order
    return _enqueue_order_job(session, delivery, body, "order.update", "update:{delivery}")


def fulfillment_order_ids(body: dict[str, Any]) -> list[str]:
    """The fulfillment orders a ``fulfillment_orders/*`` body names (moves name two)."""
    keys = (
        "fulfillment_order",
        "original_fulfillment_order",
        "moved_fulfillment_order",
        "submitted_fulfillment_order",
        "remaining_fulfillment_order",
    )
    found = [str((body.get(key) or {}).get("id") or "") for key in keys]
    return list(dict.fromkeys(fo for fo in found if fo.startswith("gid://")))


def on_fulfillment_order_event(
    container: Container, session: Session, delivery: WebhookDelivery, body: dict[str, Any]
) -> str:
    """fulfillment_orders/*: find the order the fulfillment order belongs to, then follow it."""
    ids = fulfillment_order_ids(body)
    if not ids:
        raise TerminalJobError(f"{delivery.topic} payload without a fulfillment order id")
    enqueue(
        session,
        "fulfillment_order.changed",
        {"shop": delivery.shop_domain or "", "topic": delivery.topic, "fulfillment_orders": ids},
        unique_key=f"fulfillment-order:{delivery.id}",
    )
    return "fulfillment_order.changed_enqueued"


def on_order_cancelled(
    container: Container, session: Session, delivery: WebhookDelivery, body: dict[str, Any]
) -> str:
    return _enqueue_order_job(session, delivery, body, "order.cancel", "cancel:{shop}:{order_id}")


def on_app_uninstalled(
    container: Container, session: Session, delivery: WebhookDelivery, body: dict[str, Any]
) -> str:
    shop = delivery.shop_domain or ""
    row = session.scalar(select(Shop).where(Shop.domain == shop))
    if row is None:
        row = Shop(domain=shop)
        session.add(row)
    row.status = "uninstalled"
    row.uninstalled_at = row.uninstalled_at or utcnow()
    row.access_token_encrypted = None
    row.refresh_token_encrypted = None
    row.token_expires_at = None
    if container.shopify_client is not None:
        container.shopify_client.tokens.drop(shop)
    return "uninstalled"


def _customer_orders(session: Session, shop: str, body: dict[str, Any]) -> list[Order]:
    customer = body.get("customer") or {}
    ids = [legacy_id(x) for x in body.get("orders_to_redact") or body.get("orders_requested") or []]
    conditions: list[ColumnElement[bool]] = [Order.shopify_order_id.in_(ids)] if ids else []
    if customer.get("id"):
        conditions.append(Order.customer_id == legacy_id(customer["id"]))
    if customer.get("email"):
        conditions.append(Order.email == customer["email"])
    if not conditions:
        return []
    return list(session.scalars(select(Order).where(Order.shop_domain == shop, or_(*conditions))))


def on_customer_data_request(
    container: Container, session: Session, delivery: WebhookDelivery, body: dict[str, Any]
) -> str:
    shop = delivery.shop_domain or ""
    orders = _customer_orders(session, shop, body)
    export = {
        "shop": shop,
        "customer": {"id": (body.get("customer") or {}).get("id")},
        "orders": [
            {
                "order_id": o.shopify_order_id,
                "name": o.name,
                "email": o.email,
                "shipping_address": o.shipping_address,
                "items": [
                    {
                        "title": i.title,
                        "sku": i.sku,
                        "quantity": i.quantity,
                        "properties": i.properties,
                        "stage": i.stage,
                    }
                    for i in o.line_items
                ],
            }
            for o in orders
        ],
    }
    request_id = str((body.get("data_request") or {}).get("id") or f"delivery-{delivery.id}")
    if session.scalar(select(DataExport.id).where(DataExport.request_id == request_id)) is None:
        session.add(
            DataExport(
                shop_domain=shop,
                request_id=request_id,
                payload=export,
                customer_id=str((body.get("customer") or {}).get("id") or ""),
            )
        )
    return f"export:{len(orders)}_orders"


def redact_orders(session: Session, orders: list[Order]) -> int:
    """Erase personal data from orders, their items, supplier copies and raw deliveries."""
    for order in orders:
        order.email = None
        order.shipping_address = None
        order.customer_id = None
        order.redacted_at = utcnow()
        for item in order.line_items:
            item.properties = {}
        for supplier_order in order.supplier_orders:
            supplier_order.request_copy = None
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.order_id == order.id)
            .values(body=None, pruned_at=utcnow())
        )
        # deliveries not linked yet still name the order in their body: find them by shop + id
        for candidate in session.scalars(
            select(WebhookDelivery).where(
                WebhookDelivery.shop_domain == order.shop_domain, WebhookDelivery.body.is_not(None)
            )
        ):
            if candidate.body and order.shopify_order_id.encode() in candidate.body:
                candidate.body = None
                candidate.pruned_at = utcnow()
    return len(orders)


def on_customer_redact(
    container: Container, session: Session, delivery: WebhookDelivery, body: dict[str, Any]
) -> str:
    orders = _customer_orders(session, delivery.shop_domain or "", body)
    return f"redacted:{redact_orders(session, orders)}_orders"


def on_shop_redact(
    container: Container, session: Session, delivery: WebhookDelivery, body: dict[str, Any]
) -> str:
    shop = delivery.shop_domain or ""
    orders = list(session.scalars(select(Order).where(Order.shop_domain == shop)))
    for order in orders:
        session.delete(order)
    session.execute(delete(DataExport).where(DataExport.shop_domain == shop))
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.shop_domain == shop)
        .values(body=None, pruned_at=utcnow())
    )
    row = session.scalar(select(Shop).where(Shop.domain == shop))
    if row is not None:
        row.status = "redacted"
        row.access_token_encrypted = None
        row.refresh_token_encrypted = None
    return f"shop_redacted:{len(orders)}_orders"


TOPIC_HANDLERS: dict[str, TopicHandler] = {
    "orders/paid": on_order_trigger,
    "orders/create": on_order_trigger,
    "orders/updated": on_order_changed,
    "orders/edited": on_order_changed,
    "refunds/create": on_order_changed,
    "orders/cancelled": on_order_cancelled,
    "app/uninstalled": on_app_uninstalled,
    "customers/data_request": on_customer_data_request,
    "customers/redact": on_customer_redact,
    "shop/redact": on_shop_redact,
    **{topic: on_fulfillment_order_event for topic in FULFILLMENT_ORDER_TOPICS},
}


def handle_delivery(container: Container, context: JobContext) -> str:
    delivery_id = int(str(context.payload["delivery_id"]))
    with container.db.write() as session:
        delivery = load_delivery(session, delivery_id)
        if delivery is None:
            return "gone"
        if delivery.outcome == "processed":
            return "already_processed"
        handler = TOPIC_HANDLERS.get(delivery.topic)
        if handler is None or delivery.body is None:
            mark_delivery(session, delivery_id, "ignored", "no handler or body pruned")
            return "ignored"
        body = json.loads(delivery.body)
        refusal = replay_refusal(
            delivery.topic,
            delivery.shop_domain,
            delivery.triggered_at,
            delivery.received_at,
            body,
            container.settings.webhook_max_age,
        )
        if refusal is not None:
            mark_delivery(session, delivery_id, "flagged", refusal)
            log.warning("webhook.flagged", extra={"delivery_id": delivery_id, "reason": refusal})
            return "flagged"
        outcome = handler(container, session, delivery, body)
        mark_delivery(session, delivery_id, "processed", outcome)
        order_id = order_id_of(delivery.topic, body)
        if order_id and delivery.shop_domain:
            delivery.order_id = session.scalar(
                select(Order.id).where(
                    Order.shop_domain == delivery.shop_domain, Order.shopify_order_id == order_id
                )
            )
    return outcome


# --- cancellation ------------------------------------------------------------------------


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
                status="cancelled",
                cancelled_at=utcnow(),
            )
            session.add(order)
            return "cancelled_before_ingest"
        order.status = "cancelled"
        order.cancelled_at = order.cancelled_at or utcnow()
        _cancel_unsubmitted(session, order)
        remote = [
            (so.id, so.supplier, so.supplier_order_id)
            for so in order.supplier_orders
            if so.status in ("submitted", "in_production", "held") and so.supplier_order_id
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
        if supplier_order.status == "pending":
            supplier_order.status = "cancelled"
    refresh_order(session, order)


def _is_pending(session: Session, supplier_order_id: int) -> bool:
    return (
        session.scalar(select(SupplierOrder.status).where(SupplierOrder.id == supplier_order_id))
        == "pending"
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
            supplier_order.status = "cancelled"
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
            supplier_order.status = "cancel_refused"
            supplier_order.last_error = reason
            order.attention = (
                f"order cancelled in Shopify but {supplier} could not cancel "
                f"({reason or 'already in production'}): items will still be made and shipped"
            )
        refresh_order(session, order)
    return f"{supplier}:{supplier_order.status}"


# --- changes after payment ---------------------------------------------------------------


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
    if status is None or status == "cancelled":
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
