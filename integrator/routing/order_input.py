"""Read a Shopify order payload (REST webhook or GraphQL shape) into an EnrichedOrder.

A tolerant reader: it takes what it finds and leaves the rest at its default, so that
``route explain`` works on a bare webhook body as well as on the enrichment query's answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from integrator.domain.addresses import address_from_graphql, address_from_rest
from integrator.domain.model import EnrichedOrder, OrderLine, legacy_id


class NotAnOrder(ValueError):
    """The payload has no line items: it is some other topic's body."""


def order_from_payload(payload: dict[str, Any], shop: str) -> EnrichedOrder:
    """Convert a REST (``line_items``) or GraphQL (``lineItems.nodes``) order.

    Accepts ``{"data": {"order": …}}``, ``{"order": …}`` or the order itself.

    :raises NotAnOrder: the payload carries no line items.
    """
    order = _unwrap(payload)
    if "lineItems" in order:
        return _from_graphql(order, shop)
    if "line_items" in order and "order_id" in order:
        # fulfillments/* bodies carry line items too, and point at their order
        raise NotAnOrder("a fulfillment (it has an order_id): not an order payload")
    if "line_items" in order:
        return _from_rest(order, shop)
    raise NotAnOrder("no line_items (REST) or lineItems (GraphQL): not an order payload")


def _unwrap(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    wrapped = _mapping(_mapping(payload.get("data")).get("order")) or _mapping(payload.get("order"))
    return wrapped or payload


# --- REST webhook shape -----------------------------------------------------------------------


def _from_rest(order: Mapping[str, Any], shop: str) -> EnrichedOrder:
    return EnrichedOrder(
        shop=shop,
        order_id=_rest_id(order),
        name=str(order.get("name") or ""),
        lines=tuple(_rest_line(line) for line in order.get("line_items") or ()),
        shipping_address=address_from_rest(order.get("shipping_address")),
        email=str(order.get("email") or order.get("contact_email") or ""),
        currency=str(order.get("currency") or ""),
        financial_status=str(order.get("financial_status") or "").upper(),
        cancelled=bool(order.get("cancelled_at")),
        created_at=_timestamp(order.get("created_at")),
        updated_at=_timestamp(order.get("updated_at")),
        tags=_tag_list(order.get("tags")),
    )


def _rest_id(item: Mapping[str, Any]) -> str:
    # the GID is authoritative: JavaScript-made samples lost precision in the number
    gid = item.get("admin_graphql_api_id")
    return legacy_id(gid) if gid else str(item.get("id") or "")


def _rest_line(line: Mapping[str, Any]) -> OrderLine:
    return OrderLine(
        line_item_id=_rest_id(line),
        quantity=_quantity(line.get("quantity")),
        title=str(line.get("title") or line.get("name") or ""),
        sku=line.get("sku") or None,
        variant_id=_optional_id(line.get("variant_id")),
        product_id=_optional_id(line.get("product_id")),
        variant_title=line.get("variant_title") or None,
        product_type=line.get("product_type") or None,
        vendor=line.get("vendor") or None,
        tags=_tag_list(line.get("tags") or line.get("product_tags")),
        variant_options=_pairs(line.get("variant_options"), "name", "value"),
        properties=_pairs(line.get("properties"), "name", "value"),
        metafields=_pairs(line.get("metafields"), "key", "value"),
        requires_shipping=bool(line.get("requires_shipping", True)),
        is_gift_card=bool(line.get("gift_card", False)),
        fulfillable_quantity=_optional_int(line.get("fulfillable_quantity")),
    )


def _from_graphql(order: Mapping[str, Any], shop: str) -> EnrichedOrder:
    return EnrichedOrder(
        shop=shop,
        order_id=legacy_id(str(order.get("id") or "")),
        name=str(order.get("name") or ""),
        lines=tuple(_graphql_line(node) for node in _nodes(order.get("lineItems"))),
        shipping_address=address_from_graphql(order.get("shippingAddress")),
        email=str(order.get("email") or ""),
        currency=str(order.get("currencyCode") or ""),
        financial_status=str(order.get("displayFinancialStatus") or ""),
        cancelled=bool(order.get("cancelledAt")),
        created_at=_timestamp(order.get("createdAt")),
        updated_at=_timestamp(order.get("updatedAt")),
        tags=_tag_list(order.get("tags")),
    )


def _graphql_line(line: Mapping[str, Any]) -> OrderLine:
    variant = _mapping(line.get("variant"))
    product = _mapping(line.get("product")) or _mapping(variant.get("product"))
    return OrderLine(
        line_item_id=legacy_id(str(line.get("id") or "")),
        quantity=_quantity(line.get("quantity")),
        title=str(line.get("title") or line.get("name") or ""),
        sku=line.get("sku") or variant.get("sku") or None,
        variant_id=_optional_id(variant.get("id")),
        product_id=_optional_id(product.get("id")),
        variant_title=line.get("variantTitle") or variant.get("title") or None,
        product_type=product.get("productType") or None,
        vendor=line.get("vendor") or product.get("vendor") or None,
        tags=_tag_list(product.get("tags")),
        variant_options=_pairs(variant.get("selectedOptions"), "name", "value"),
        properties=_pairs(line.get("customAttributes"), "key", "value"),
        metafields=_graphql_metafields(product),
        requires_shipping=bool(line.get("requiresShipping", True)),
        is_gift_card=bool(line.get("isGiftCard", False)),
        fulfillable_quantity=_optional_int(line.get("unfulfilledQuantity")),
    )


def _graphql_metafields(product: Mapping[str, Any]) -> dict[str, str]:
    """Collect ``namespace.key`` → value from a metafields connection and from aliased
    single ``metafield(namespace:, key:)`` fields."""
    found: dict[str, str] = {}
    candidates = list(_nodes(product.get("metafields")))
    candidates += [
        value
        for value in product.values()
        if isinstance(value, Mapping) and "namespace" in value and "key" in value
    ]
    for node in candidates:
        if node.get("value") is not None:
            found[f"{node.get('namespace')}.{node.get('key')}"] = str(node["value"])
    return found


def _nodes(connection: Any) -> list[Mapping[str, Any]]:
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


# --- small readers ----------------------------------------------------------------------------


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _pairs(value: Any, key_name: str, value_name: str) -> dict[str, str]:
    """Read ``[{name, value}]`` lists (or a plain mapping) into a dict of strings."""
    if isinstance(value, Mapping):
        return {str(key): str(item) for key, item in value.items() if item is not None}
    pairs: dict[str, str] = {}
    for item in value or ():
        if isinstance(item, Mapping) and item.get(key_name) is not None:
            pairs[str(item[key_name])] = (
                "" if item.get(value_name) is None else str(item[value_name])
            )
    return pairs


def _tag_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(tag.strip() for tag in value.split(",") if tag.strip())
    if isinstance(value, list):
        return tuple(str(tag).strip() for tag in value if str(tag).strip())
    return ()


def _optional_id(value: Any) -> str | None:
    return legacy_id(value) if value not in (None, "") else None


def _optional_int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _quantity(value: Any) -> int:
    return _optional_int(value) or 0


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
