"""Read an ``Order`` object of the Admin GraphQL API (the enrichment query's answer) into an
EnrichedOrder. Pure, and tolerant: a field the answer lacks keeps its default.

Production (``enrichment.fetch_order``) and ``integrator route explain`` on a saved GraphQL
answer both read orders with :func:`order_from_node`, so that explain decides exactly as the
pipeline does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrator.domain.addresses import address_from_graphql
from integrator.domain.iso_dates import parse_iso
from integrator.domain.model import (
    EnrichedOrder,
    FulfillmentHold,
    FulfillmentOrder,
    FulfillmentOrderLine,
    OrderLine,
    legacy_id,
)


def order_from_node(
    shop: str,
    node: Mapping[str, Any],
    more_fulfillment_orders: tuple[FulfillmentOrder, ...] = (),
) -> EnrichedOrder:
    """Convert an ``order`` object; ``more_fulfillment_orders`` are those read from further
    pages (the node's own ``fulfillmentOrders`` come first)."""
    email = str(node.get("email") or "")
    known = "fulfillmentOrders" in node
    first_fulfillment = next(iter(node.get("fulfillments") or ()), None)
    return EnrichedOrder(
        shop=shop,
        order_id=legacy_id(str(node.get("id") or "")),
        name=str(node.get("name") or ""),
        lines=tuple(order_line(item) for item in nodes_of(node.get("lineItems"))),
        shipping_address=address_from_graphql(node.get("shippingAddress"), email),
        email=email,
        currency=str(node.get("currencyCode") or ""),
        financial_status=str(node.get("displayFinancialStatus") or ""),
        cancelled=bool(node.get("cancelledAt")),
        created_at=parse_iso(node.get("createdAt")),
        updated_at=parse_iso(node.get("updatedAt")),
        tags=tag_list(node.get("tags")),
        fulfillment_orders=tuple(
            fulfillment_order_from_node(fo) for fo in nodes_of(node.get("fulfillmentOrders"))
        )
        + more_fulfillment_orders,
        fulfillment_orders_known=known,
        test=bool(node.get("test")),
        processed_at=parse_iso(node.get("processedAt")),
        first_fulfilled_at=parse_iso(mapping(first_fulfillment).get("createdAt")),
    )


def order_line(item: Mapping[str, Any]) -> OrderLine:
    """One ``LineItem`` node."""
    variant = mapping(item.get("variant"))
    product = mapping(item.get("product")) or mapping(variant.get("product"))
    quantity = item.get("currentQuantity", item.get("quantity"))
    return OrderLine(
        line_item_id=legacy_id(str(item.get("id") or "")),
        quantity=optional_int(quantity) or 0,
        title=str(item.get("title") or item.get("name") or ""),
        sku=item.get("sku") or variant.get("sku") or None,
        variant_id=optional_id(variant.get("id")),
        product_id=optional_id(product.get("id")),
        variant_title=item.get("variantTitle") or variant.get("title") or None,
        product_type=product.get("productType") or None,
        vendor=item.get("vendor") or product.get("vendor") or None,
        tags=tag_list(product.get("tags")),
        variant_options=pairs(variant.get("selectedOptions"), "name", "value"),
        properties=pairs(item.get("customAttributes"), "key", "value"),
        metafields=metafields_of(product),
        requires_shipping=bool(item.get("requiresShipping", True)),
        is_gift_card=bool(item.get("isGiftCard", False)),
        fulfillable_quantity=optional_int(item.get("unfulfilledQuantity")),
    )


def fulfillment_order_from_node(node: Mapping[str, Any]) -> FulfillmentOrder:
    """One ``FulfillmentOrder`` node (its ``lineItems`` as far as they were read)."""
    assigned = mapping(node.get("assignedLocation"))
    location = mapping(assigned.get("location"))
    return FulfillmentOrder(
        id=str(node.get("id") or ""),
        status=str(node.get("status") or ""),
        request_status=str(node.get("requestStatus") or "UNSUBMITTED"),
        supported_actions=tuple(
            str(action.get("action")) for action in node.get("supportedActions") or ()
        ),
        lines=fulfillment_order_lines(node.get("lineItems")),
        location_id=optional_id(location.get("id")) or "",
        location_name=str(assigned.get("name") or ""),
        fulfillment_service_location=bool(location.get("isFulfillmentService")),
        holds=tuple(
            FulfillmentHold(str(hold.get("reason") or "OTHER"), str(hold.get("reasonNotes") or ""))
            for hold in node.get("fulfillmentHolds") or ()
            if isinstance(hold, Mapping)
        ),
        fulfill_at=parse_iso(node.get("fulfillAt")),
        delivery_method=str(mapping(node.get("deliveryMethod")).get("methodType") or ""),
    )


def fulfillment_order_lines(connection: Any) -> tuple[FulfillmentOrderLine, ...]:
    return tuple(
        FulfillmentOrderLine(
            id=str(line.get("id") or ""),
            line_item_id=legacy_id(str(mapping(line.get("lineItem")).get("id") or "")),
            remaining_quantity=optional_int(line.get("remainingQuantity")) or 0,
            total_quantity=optional_int(line.get("totalQuantity")) or 0,
        )
        for line in nodes_of(connection)
    )


def metafields_of(product: Mapping[str, Any]) -> dict[str, str]:
    """Collect ``namespace.key`` → value from a metafields connection and from aliased
    single ``metafield(namespace:, key:)`` fields."""
    found: dict[str, str] = {}
    candidates = list(nodes_of(product.get("metafields")))
    candidates += [
        value
        for value in product.values()
        if isinstance(value, Mapping) and "namespace" in value and "key" in value
    ]
    for node in candidates:
        if node.get("value") is not None:
            found[f"{node.get('namespace')}.{node.get('key')}"] = str(node["value"])
    return found


# --- small readers ----------------------------------------------------------------------------


def nodes_of(connection: Any) -> list[Mapping[str, Any]]:
    """The nodes of a connection (``nodes`` or ``edges``), or of a plain list."""
    if isinstance(connection, list):
        return [node for node in connection if isinstance(node, Mapping)]
    if not isinstance(connection, Mapping):
        return []
    if isinstance(connection.get("nodes"), list):
        return [node for node in connection["nodes"] if isinstance(node, Mapping)]
    return [
        edge["node"]
        for edge in connection.get("edges") or ()
        if isinstance(edge, Mapping) and isinstance(edge.get("node"), Mapping)
    ]


def page_info(connection: Any) -> tuple[bool, str | None]:
    """(has a next page, its cursor) of a connection."""
    info = mapping(mapping(connection).get("pageInfo"))
    cursor = info.get("endCursor")
    return bool(info.get("hasNextPage")), str(cursor) if cursor else None


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def pairs(value: Any, key_name: str, value_name: str) -> dict[str, str]:
    """Read ``[{name, value}]`` lists (or a plain mapping) into a dict of strings."""
    if isinstance(value, Mapping):
        return {str(key): str(item) for key, item in value.items() if item is not None}
    found: dict[str, str] = {}
    for item in value or ():
        if isinstance(item, Mapping) and item.get(key_name) is not None:
            found[str(item[key_name])] = (
                "" if item.get(value_name) is None else str(item[value_name])
            )
    return found


def tag_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(tag.strip() for tag in value.split(",") if tag.strip())
    if isinstance(value, list):
        return tuple(str(tag).strip() for tag in value if str(tag).strip())
    return ()


def optional_id(value: Any) -> str | None:
    return legacy_id(value) if value not in (None, "") else None


def optional_int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None
