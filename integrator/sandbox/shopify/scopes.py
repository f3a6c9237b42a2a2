"""Access scopes the sandbox enforces on root fields, answering ``ACCESS_DENIED`` like Shopify.

Requirements follow the Admin API reference ("Requires … access scope"); a ``write_`` scope
implies its ``read_`` scope, as Shopify grants it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import GraphQLError

ACCESS_SCOPES_URL = "https://shopify.dev/api/usage/access-scopes"
WRITE_FULFILLMENT_ORDERS = (
    "write_merchant_managed_fulfillment_orders",
    "write_assigned_fulfillment_orders",
    "write_third_party_fulfillment_orders",
)
READ_FULFILLMENT_ORDERS = tuple(
    scope.replace("write_", "read_") for scope in WRITE_FULFILLMENT_ORDERS
)

REQUIRED: Mapping[str, tuple[str, ...]] = {
    "order": ("read_orders",),
    "orders": ("read_orders",),
    "product": ("read_products",),
    "products": ("read_products",),
    "fulfillmentOrder": READ_FULFILLMENT_ORDERS,
    "assignedFulfillmentOrders": ("read_assigned_fulfillment_orders",),
    "fulfillmentCreate": WRITE_FULFILLMENT_ORDERS,
    "fulfillmentCreateV2": WRITE_FULFILLMENT_ORDERS,
    "fulfillmentTrackingInfoUpdate": WRITE_FULFILLMENT_ORDERS,
    "fulfillmentTrackingInfoUpdateV2": WRITE_FULFILLMENT_ORDERS,
    "fulfillmentOrderAcceptFulfillmentRequest": ("write_assigned_fulfillment_orders",),
    "fulfillmentOrderRejectFulfillmentRequest": ("write_assigned_fulfillment_orders",),
    "fulfillmentOrderAcceptCancellationRequest": ("write_assigned_fulfillment_orders",),
    "fulfillmentOrderRejectCancellationRequest": ("write_assigned_fulfillment_orders",),
    "inventoryActivate": ("write_inventory",),
    "inventoryBulkToggleActivation": ("write_inventory",),
    "productVariants": ("read_products",),
    "productVariant": ("read_products",),
    "inventoryItem": ("read_inventory",),
    "inventoryItems": ("read_inventory",),
    "fulfillmentOrderHold": WRITE_FULFILLMENT_ORDERS,
    "fulfillmentOrderReleaseHold": WRITE_FULFILLMENT_ORDERS,
    "fulfillmentServiceCreate": ("write_fulfillments",),
    "fulfillmentServiceUpdate": ("write_fulfillments",),
    "tagsAdd": ("write_orders", "write_products"),
    "tagsRemove": ("write_orders", "write_products"),
    "metafieldsSet": ("write_orders", "write_products"),
}


def check_access(field: str, granted: Iterable[str]) -> None:
    """:raises GraphQLError: ``ACCESS_DENIED`` when no granted scope allows a root ``field``."""
    required = REQUIRED.get(field)
    if not required or _effective(granted) & set(required):
        return
    needed = " or ".join(f"`{scope}`" for scope in required) + " access scope."
    raise GraphQLError(
        f"Access denied for {field} field. Required access: {needed}",
        extensions={
            "code": "ACCESS_DENIED",
            "documentation": ACCESS_SCOPES_URL,
            "requiredAccess": needed,
        },
    )


def _effective(granted: Iterable[str]) -> set[str]:
    scopes = {scope.strip() for scope in granted}
    return scopes | {scope.replace("write_", "read_", 1) for scope in scopes}


def fulfillment_order_kind(fo: Mapping[str, Any], app: str) -> str:
    """Whose fulfillment order this is, as the scopes name it: ``merchant_managed`` (the
    merchant's own location), ``assigned`` (this app's fulfillment service) or
    ``third_party`` (another app's fulfillment service)."""
    where = fo["assignedLocation"]["location"]
    service = where.get("fulfillmentService")
    if not where.get("isFulfillmentService") or service is None:
        return "merchant_managed"
    return "assigned" if service.get("_app") == app else "third_party"


def can_read_fulfillment_order(fo: Mapping[str, Any], granted: Iterable[str], app: str) -> bool:
    """Shopify leaves out the fulfillment orders an app has no scope for: without
    ``read_third_party_fulfillment_orders`` another app's FOs are simply not there."""
    scope = f"read_{fulfillment_order_kind(fo, app)}_fulfillment_orders"
    return scope in _effective(granted)


def can_write_fulfillment_order(fo: Mapping[str, Any], granted: Iterable[str], app: str) -> bool:
    scope = f"write_{fulfillment_order_kind(fo, app)}_fulfillment_orders"
    return scope in {s.strip() for s in granted}
