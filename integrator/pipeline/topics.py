"""Shopify topics the service acts on."""

from __future__ import annotations

from integrator.shopify.topics import ALL_TOPICS

ORDER_TOPICS = frozenset(
    {"orders/paid", "orders/create", "orders/updated", "orders/edited", "orders/cancelled"}
)
COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
FULFILLMENT_ORDER_TOPICS = frozenset(t for t in ALL_TOPICS if t.startswith("fulfillment_orders/"))
# our fulfillment service's callback (``<callbackUrl>/fulfillment_order_notification``), kept
# in the inbox under this name like a webhook topic
NOTIFICATION_TOPIC = "fulfillment_service/notification"
NOTIFICATION_KINDS = frozenset({"FULFILLMENT_REQUEST", "CANCELLATION_REQUEST"})
HANDLED_TOPICS = (
    ORDER_TOPICS
    | COMPLIANCE_TOPICS
    | FULFILLMENT_ORDER_TOPICS
    | {"app/uninstalled", "refunds/create", NOTIFICATION_TOPIC}
)
