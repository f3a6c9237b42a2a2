"""``shopify.delivery``: what each stored Shopify delivery causes, by topic. Every handler is
safe to run twice."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrator.bootstrap import Container
from integrator.db.models import Order, WebhookDelivery
from integrator.domain.model import legacy_id
from integrator.jobqueue.errors import TerminalJobError
from integrator.jobqueue.jobs import enqueue
from integrator.jobqueue.worker import JobContext
from integrator.pipeline.compliance import (
    on_customer_data_request,
    on_customer_redact,
    on_shop_redact,
)
from integrator.pipeline.inbox import load_delivery, mark_delivery
from integrator.pipeline.job_kinds import JobKind
from integrator.pipeline.replay import replay_refusal
from integrator.pipeline.topics import FULFILLMENT_ORDER_TOPICS, NOTIFICATION_TOPIC
from integrator.pipeline.uninstall import on_app_uninstalled

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
    return _enqueue_order_job(
        session, delivery, body, JobKind.ORDER_INGEST, "ingest:{shop}:{order_id}"
    )


def on_order_changed(
    container: Container, session: Session, delivery: WebhookDelivery, body: dict[str, Any]
) -> str:
    """orders/updated, orders/edited, refunds/create: read the order again and follow it."""
    # every change is news (a new address, an edit), so the key is the delivery, not the order
    return _enqueue_order_job(session, delivery, body, JobKind.ORDER_UPDATE, "update:{delivery}")


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
        JobKind.FULFILLMENT_ORDER_CHANGED,
        {"shop": delivery.shop_domain or "", "topic": delivery.topic, "fulfillment_orders": ids},
        unique_key=f"fulfillment-order:{delivery.id}",
    )
    return "fulfillment_order.changed_enqueued"


def on_fulfillment_service_notification(
    container: Container, session: Session, delivery: WebhookDelivery, body: dict[str, Any]
) -> str:
    """Our fulfillment service was told that requests wait: read the ones assigned to us."""
    enqueue(
        session,
        JobKind.SHOPIFY_FULFILLMENT_REQUESTS,
        {"shop": delivery.shop_domain or ""},
        unique_key=f"fulfillment-requests:{delivery.id}",
    )
    return "fulfillment_requests_enqueued"


def on_order_cancelled(
    container: Container, session: Session, delivery: WebhookDelivery, body: dict[str, Any]
) -> str:
    return _enqueue_order_job(
        session, delivery, body, JobKind.ORDER_CANCEL, "cancel:{shop}:{order_id}"
    )


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
    NOTIFICATION_TOPIC: on_fulfillment_service_notification,
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
