"""The webhook topics the integrator subscribes, per fulfillment mode (docs/adr/0002).

``shopify.app.toml`` declares the same list for apps deployed with the Shopify CLI; a test
keeps the two equal.
"""

from __future__ import annotations

# Orders that change after payment, and the fulfillment orders that say what is ours and when.
ORDER_TOPICS: tuple[str, ...] = (
    "orders/paid",
    "orders/updated",
    "orders/edited",
    "orders/cancelled",
    "refunds/create",
)
FULFILLMENT_ORDER_TOPICS: tuple[str, ...] = (
    "fulfillment_orders/order_routing_complete",
    "fulfillment_orders/hold_released",
    "fulfillment_orders/placed_on_hold",
    "fulfillment_orders/scheduled_fulfillment_order_ready",
    "fulfillment_orders/moved",
    "fulfillment_orders/cancelled",
)
# What Shopify asks of a fulfillment service (fulfillment-service mode only).
FULFILLMENT_SERVICE_TOPICS: tuple[str, ...] = (
    "fulfillment_orders/fulfillment_request_submitted",
    "fulfillment_orders/cancellation_request_submitted",
)
APP_TOPICS: tuple[str, ...] = ("app/uninstalled",)

MERCHANT_MANAGED_TOPICS: tuple[str, ...] = ORDER_TOPICS + FULFILLMENT_ORDER_TOPICS + APP_TOPICS
ALL_TOPICS: tuple[str, ...] = MERCHANT_MANAGED_TOPICS + FULFILLMENT_SERVICE_TOPICS


def subscription_topics(mode: str | None) -> tuple[str, ...]:
    """The topics a shop in ``mode`` needs (``None``: merchant-managed, the single-store
    default)."""
    if mode == "fulfillment-service":
        return ALL_TOPICS
    return MERCHANT_MANAGED_TOPICS
