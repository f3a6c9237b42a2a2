"""Read orders from Shopify into domain objects: one order for routing, or changed orders.

The enrichment query is the source of truth for routing; webhooks can arrive late, twice or
out of order, so their bodies only say *which* order to read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from integrator.domain.iso_dates import parse_iso
from integrator.domain.model import EnrichedOrder, legacy_id
from integrator.shopify.client import AdminClient
from integrator.shopify.errors import ShopifyError, ShopifyQueryError
from integrator.shopify.order_node import nodes_of, order_from_node, page_info
from integrator.shopify.shop_domain import validate_shop_domain

MAX_RECONCILE_PAGES = 1000  # 50 orders a page: a bound, not an expected size
MAX_FULFILLMENT_ORDER_PAGES = 100  # far beyond any real order's moves and splits
MAX_LINE_ITEM_PAGES = 100  # 10 a page after the first: 1,000 lines is far beyond a real order
# First-page sizes of the enrichment query: the requested cost grows with them, so they follow
# the order's line count when the caller knows it, within these bounds.
DEFAULT_LINES = 5
MAX_FIRST_PAGE_LINES = 10
DEFAULT_FULFILLMENT_ORDERS = 2


class OrderNotFound(ShopifyQueryError):
    """Shopify has no such order (deleted, or older than the 60 days read_orders can see)."""


class OrderTooLarge(ShopifyError):
    """The order has more line items or fulfillment orders than any real order (a bound on the
    pages read); a person must look."""


def order_gid(order_id: str) -> str:
    return order_id if order_id.startswith("gid://") else f"gid://shopify/Order/{order_id}"


def fetch_order(
    client: AdminClient,
    shop: str,
    order_id: str,
    metafield_keys: Sequence[str] = (),
    expected_lines: int | None = None,
) -> EnrichedOrder:
    """Read one order with everything routing needs: every line item and every fulfillment
    order with all its lines, over as many pages as it takes.

    ``metafield_keys`` are ``"namespace.key"`` product metafields to read (the decoration one).
    ``expected_lines`` (from the webhook body, or the lines already stored) sizes the first page
    so that the requested cost stays close to what the query reads.

    :raises OrderNotFound: when Shopify answers ``order: null``.
    :raises OrderTooLarge: when the order has more pages than any real order has.
    """
    data = client.execute(
        shop, "order_for_routing", routing_variables(order_id, metafield_keys, expected_lines)
    )
    node = data.get("order")
    if node is None:
        raise OrderNotFound(f"{shop}: order {order_id} not found")
    complete = {
        **node,
        "lineItems": {"nodes": _all_line_items(client, shop, node, metafield_keys)},
        "fulfillmentOrders": {"nodes": all_fulfillment_orders(client, shop, node)},
    }
    return order_from_node(validate_shop_domain(shop), complete)


def routing_variables(
    order_id: str, metafield_keys: Sequence[str] = (), expected_lines: int | None = None
) -> dict[str, Any]:
    """Variables of ``order_for_routing``: the page sizes that set its requested cost."""
    lines = min(max(expected_lines or DEFAULT_LINES, 1), MAX_FIRST_PAGE_LINES)
    return {
        "orderId": order_gid(order_id),
        **_metafield_variables(metafield_keys),
        "lines": lines,
        # one location usually fulfils every line: a single-line order has one FO
        "fulfillmentOrders": min(lines, DEFAULT_FULFILLMENT_ORDERS),
    }


def _metafield_variables(metafield_keys: Sequence[str]) -> dict[str, Any]:
    keys = list(metafield_keys)
    return {
        "metafieldKeys": keys or None,
        "withMetafields": bool(keys),
        "metafieldCount": max(len(keys), 1),
    }


def _all_line_items(
    client: AdminClient, shop: str, node: Mapping[str, Any], metafield_keys: Sequence[str]
) -> list[Mapping[str, Any]]:
    """The order's line items: the first page came with the order, the rest page by page."""
    connection: Mapping[str, Any] = node.get("lineItems") or {}
    found = list(nodes_of(connection))
    more, after = page_info(connection)
    for _ in range(MAX_LINE_ITEM_PAGES):
        if not more:
            return found
        data = client.execute(
            shop,
            "order_line_items",
            {"orderId": node["id"], "after": after, **_metafield_variables(metafield_keys)},
        )
        connection = (data.get("order") or {}).get("lineItems") or {}
        found += nodes_of(connection)
        more, after = page_info(connection)
    raise OrderTooLarge(f"{shop}: order {node['id']} has too many line items to read")


def all_fulfillment_orders(
    client: AdminClient, shop: str, node: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Every fulfillment order of the order with every line: the first page came with the
    order; further pages (and further lines of a long one) are read only when Shopify says
    there are more."""
    connection: Mapping[str, Any] = node.get("fulfillmentOrders") or {}
    found = [_with_all_lines(client, shop, fo) for fo in nodes_of(connection)]
    more, after = page_info(connection)
    for _ in range(MAX_FULFILLMENT_ORDER_PAGES):
        if not more:
            return found
        data = client.execute(
            shop, "order_fulfillment_orders", {"orderId": node["id"], "after": after}
        )
        connection = (data.get("order") or {}).get("fulfillmentOrders") or {}
        found += [_with_all_lines(client, shop, fo) for fo in nodes_of(connection)]
        more, after = page_info(connection)
    raise OrderTooLarge(f"{shop}: order {node['id']} has too many fulfillment orders to read")


def _with_all_lines(client: AdminClient, shop: str, fo: Mapping[str, Any]) -> dict[str, Any]:
    lines = list(nodes_of(fo.get("lineItems")))
    more, after = page_info(fo.get("lineItems"))
    for _ in range(MAX_FULFILLMENT_ORDER_PAGES):
        if not more:
            break
        data = client.execute(shop, "fulfillment_order_lines", {"id": fo["id"], "after": after})
        connection = (data.get("fulfillmentOrder") or {}).get("lineItems") or {}
        lines += nodes_of(connection)
        more, after = page_info(connection)
    return {**fo, "lineItems": {"nodes": lines}}


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
    updated = parse_iso(node["updatedAt"])
    assert updated is not None  # updatedAt is non-null in the schema
    return OrderChange(
        order_id=legacy_id(node["id"]),
        name=node.get("name") or "",
        updated_at=updated,
        financial_status=node.get("displayFinancialStatus") or "",
        fulfillment_status=node.get("displayFulfillmentStatus") or "",
        cancelled=node.get("cancelledAt") is not None,
    )
