"""Fulfillment orders by id: which order one belongs to."""

from __future__ import annotations

from integrator.domain.model import legacy_id
from integrator.shopify.client import AdminClient


def order_of_fulfillment_order(
    client: AdminClient, shop: str, fulfillment_order_id: str
) -> str | None:
    """The numeric id of the order a fulfillment order belongs to, or None when Shopify does
    not show it to this app (another app's fulfillment order, or gone)."""
    data = client.execute(shop, "fulfillment_order_order", {"id": fulfillment_order_id})
    node = data.get("fulfillmentOrder")
    return legacy_id(str(node["orderId"])) if node else None
