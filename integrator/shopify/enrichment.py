"""Read orders from Shopify into domain objects: one order for routing, or changed orders.

The enrichment query is the source of truth for routing; webhooks can arrive late, twice or
out of order, so their bodies only say *which* order to read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from integrator.domain.addresses import address_from_graphql
from integrator.domain.model import (
    EnrichedOrder,
    FulfillmentOrder,
    FulfillmentOrderLine,
    OrderLine,
    legacy_id,
)
from integrator.shopify.client import AdminClient
from integrator.shopify.errors import ShopifyError, ShopifyQueryError
from integrator.shopify.shop_domain import validate_shop_domain

MAX_RECONCILE_PAGES = 1000  # 50 orders a page: a bound, not an expected size


class OrderNotFound(ShopifyQueryError):
    """Shopify has no such order (deleted, or older than the 60 days read_orders can see)."""


class OrderTooLarge(ShopifyError):
    """The order has more line items than one enrichment query reads; a person must look."""


def order_gid(order_id: str) -> str:
    return order_id if order_id.startswith("gid://") else f"gid://shopify/Order/{order_id}"


def fetch_order(
    client: AdminClient, shop: str, order_id: str, metafield_keys: Sequence[str] = ()
) -> EnrichedOrder:
    """Read one order with everything routing needs.

    ``metafield_keys`` are ``"namespace.key"`` product metafields to read (the decoration one).

    :raises OrderNotFound: when Shopify answers ``order: null``.
    :raises OrderTooLarge: when the order has more line items than the query reads.
    """
    data = client.execute(
        shop,
        "order_for_routing",
        {"orderId": order_gid(order_id), "metafieldKeys": list(metafield_keys) or None},
    )
    node = data.get("order")
    if node is None:
        raise OrderNotFound(f"{shop}: order {order_id} not found")
    line_items = node["lineItems"]
    if (line_items.get("pageInfo") or {}).get("hasNextPage"):
        raise OrderTooLarge(
            f"{shop}: order {order_id} has more than {len(line_items['nodes'])} line items"
        )
    return order_from_node(validate_shop_domain(shop), node)


def order_from_node(shop: str, node: Mapping[str, Any]) -> EnrichedOrder:
    """Convert the ``order`` object of ``order_for_routing`` to an EnrichedOrder."""
    return EnrichedOrder(
        shop=shop,
        order_id=legacy_id(node["id"]),
        name=node.get("name") or "",
        lines=tuple(_order_line(item) for item in node["lineItems"]["nodes"]),
        shipping_address=address_from_graphql(node.get("shippingAddress"), node.get("email") or ""),
        email=node.get("email") or "",
        currency=node.get("currencyCode") or "",
        financial_status=node.get("displayFinancialStatus") or "",
        cancelled=node.get("cancelledAt") is not None,
        created_at=_timestamp(node.get("createdAt")),
        updated_at=_timestamp(node.get("updatedAt")),
        tags=tuple(node.get("tags") or ()),
        fulfillment_orders=tuple(
            fulfillment_order_from_node(fo)
            for fo in (node.get("fulfillmentOrders") or {}).get("nodes", ())
        ),
    )


def _order_line(item: Mapping[str, Any]) -> OrderLine:
    variant = item.get("variant") or {}
    product = item.get("product") or {}
    metafields = (product.get("metafields") or {}).get("nodes", ())
    return OrderLine(
        line_item_id=legacy_id(item["id"]),
        quantity=int(item.get("currentQuantity", item["quantity"])),
        title=item.get("title") or "",
        sku=item.get("sku") or variant.get("sku") or None,
        variant_id=legacy_id(variant["id"]) if variant.get("id") else None,
        product_id=legacy_id(product["id"]) if product.get("id") else None,
        variant_title=item.get("variantTitle"),
        product_type=product.get("productType") or None,
        vendor=item.get("vendor") or product.get("vendor") or None,
        tags=tuple(product.get("tags") or ()),
        variant_options={o["name"]: o["value"] for o in variant.get("selectedOptions") or ()},
        properties={a["key"]: a.get("value") or "" for a in item.get("customAttributes") or ()},
        metafields={f"{m['namespace']}.{m['key']}": m.get("value") or "" for m in metafields},
        requires_shipping=bool(item.get("requiresShipping", True)),
        is_gift_card=bool(item.get("isGiftCard", False)),
        fulfillable_quantity=item.get("unfulfilledQuantity"),
    )


def fulfillment_order_from_node(node: Mapping[str, Any]) -> FulfillmentOrder:
    return FulfillmentOrder(
        id=node["id"],
        status=node["status"],
        request_status=node.get("requestStatus") or "UNSUBMITTED",
        supported_actions=tuple(a["action"] for a in node.get("supportedActions") or ()),
        lines=tuple(
            FulfillmentOrderLine(
                id=line["id"],
                line_item_id=legacy_id(line["lineItem"]["id"]),
                remaining_quantity=int(line["remainingQuantity"]),
                total_quantity=int(line["totalQuantity"]),
            )
            for line in node["lineItems"]["nodes"]
        ),
    )


def _timestamp(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


# --- reconciliation -------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderChange:
    """One order as the reconciliation listing shows it."""

    order_id: str
    name: str
    updated_at: datetime
    financial_status: str
    fulfillment_status: str
    cancelled: bool


@dataclass(frozen=True)
class OrdersPage:
    orders: tuple[OrderChange, ...]
    cursor: str | None  # pass back as ``after`` to resume after this page
    has_next_page: bool


def iter_orders_updated_since(
    client: AdminClient,
    shop: str,
    since: datetime,
    *,
    overlap: timedelta = timedelta(minutes=5),
    after: str | None = None,
) -> Iterator[OrdersPage]:
    """Yield pages of orders updated since ``since`` (minus ``overlap``), oldest first.

    The overlap re-reads a few minutes before the checkpoint, because Shopify's index lags
    a little behind writes; handlers are idempotent, so a re-read order costs nothing.
    """
    moment = (since - overlap).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    search = f"updated_at:>='{moment}'"
    for _ in range(MAX_RECONCILE_PAGES):
        data = client.execute(shop, "orders_updated_since", {"query": search, "after": after})
        connection = data["orders"]
        info = connection["pageInfo"]
        after = info.get("endCursor") or after
        page = OrdersPage(
            orders=tuple(_order_change(node) for node in connection["nodes"]),
            cursor=after,
            has_next_page=bool(info.get("hasNextPage")),
        )
        yield page
        if not page.has_next_page:
            return


def _order_change(node: Mapping[str, Any]) -> OrderChange:
    updated = _timestamp(node["updatedAt"])
    assert updated is not None  # updatedAt is non-null in the schema
    return OrderChange(
        order_id=legacy_id(node["id"]),
        name=node.get("name") or "",
        updated_at=updated,
        financial_status=node.get("displayFinancialStatus") or "",
        fulfillment_status=node.get("displayFulfillmentStatus") or "",
        cancelled=node.get("cancelledAt") is not None,
    )
