"""The mandatory compliance topics: a customer's data exported or redacted, a shop's erased.
Retention reuses :func:`redact_orders`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.orm import Session

from integrator.bootstrap import Container
from integrator.db.models import DataExport, Order, Shop, WebhookDelivery
from integrator.db.timestamps import utcnow
from integrator.domain.model import legacy_id
from integrator.domain.statuses import ShopStatus


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
        row.status = ShopStatus.REDACTED
        row.access_token_encrypted = None
        row.refresh_token_encrypted = None
    return f"shop_redacted:{len(orders)}_orders"
