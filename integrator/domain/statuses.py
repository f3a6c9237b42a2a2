"""The statuses we record for a shop, an order, a supplier order and a shipment's sync to
Shopify: one name per status, checked by mypy, instead of string literals compared across the
pipeline. The value is what the ``shops.status``, ``orders.status``, ``supplier_orders.status``
and ``shipments.sync_status`` columns store.

These are our words, not a supplier's: what a supplier calls its order's state is kept as it
said it (``supplier_orders.raw_status``) and mapped to an item ``Stage`` by its adapter.
"""

from __future__ import annotations

from enum import StrEnum


class ShopStatus(StrEnum):
    ACTIVE = "active"
    UNINSTALLED = "uninstalled"
    REDACTED = "redacted"  # shop/redact: its personal data is gone


class OrderStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # every routed item reached the end of its line
    CANCELLED = "cancelled"  # in Shopify


class SupplierOrderStatus(StrEnum):
    PENDING = "pending"  # made, not (yet) accepted by the supplier
    SUBMITTED = "submitted"
    IN_PRODUCTION = "in_production"
    HELD = "held"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    RETURNED = "returned"
    CANCELLED = "cancelled"
    CANCEL_REFUSED = "cancel_refused"  # we asked the supplier to cancel; it would not
    FAILED = "failed"


# at the supplier and not finished: what a cancellation or a change of the order must reach
AT_SUPPLIER: frozenset[SupplierOrderStatus] = frozenset(
    {SupplierOrderStatus.SUBMITTED, SupplierOrderStatus.IN_PRODUCTION, SupplierOrderStatus.HELD}
)
# the supplier never took it (or gave it back): nothing there to cancel or wait for
NOT_AT_SUPPLIER: frozenset[SupplierOrderStatus] = frozenset(
    {SupplierOrderStatus.PENDING, SupplierOrderStatus.FAILED, SupplierOrderStatus.CANCELLED}
)


class ShipmentSyncStatus(StrEnum):
    PENDING = "pending"  # not yet told to Shopify
    WAITING = "waiting"  # Shopify cannot take it yet (the fulfillment order is not ready)
    SYNCED = "synced"
    FLAGGED = "flagged"  # needs a person
