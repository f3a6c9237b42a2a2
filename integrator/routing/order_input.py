"""Read a Shopify order payload (REST webhook or GraphQL shape) into an EnrichedOrder.

A tolerant reader: it takes what it finds and leaves the rest at its default, so that
``route explain`` works on a bare webhook body as well as on the enrichment query's answer.
The GraphQL shape is read by the pipeline's own reader (``integrator.shopify.order_node``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrator.domain.addresses import address_from_rest
from integrator.domain.iso_dates import parse_iso
from integrator.domain.model import EnrichedOrder, OrderLine, legacy_id
from integrator.shopify.order_node import (
    mapping,
    optional_id,
    optional_int,
    order_from_node,
    pairs,
    tag_list,
)


class NotAnOrder(ValueError):
    """The payload has no line items: it is some other topic's body."""


def order_from_payload(payload: dict[str, Any], shop: str) -> EnrichedOrder:
    """Convert a REST (``line_items``) or GraphQL (``lineItems.nodes``) order.

    Accepts ``{"data": {"order": …}}``, ``{"order": …}`` or the order itself.

    :raises NotAnOrder: the payload carries no line items.
    """
    order = _unwrap(payload)
    if "lineItems" in order:
        # the enrichment query's shape: read exactly as production reads it
        return order_from_node(shop, order)
    if "line_items" in order and "order_id" in order:
        # fulfillments/* bodies carry line items too, and point at their order
        raise NotAnOrder("a fulfillment (it has an order_id): not an order payload")
    if "line_items" in order:
        return _from_rest(order, shop)
    raise NotAnOrder("no line_items (REST) or lineItems (GraphQL): not an order payload")


def _unwrap(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    wrapped = mapping(mapping(payload.get("data")).get("order")) or mapping(payload.get("order"))
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
        created_at=parse_iso(order.get("created_at")),
        updated_at=parse_iso(order.get("updated_at")),
        tags=tag_list(order.get("tags")),
        test=bool(order.get("test")),
        processed_at=parse_iso(order.get("processed_at")),
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
        variant_id=optional_id(line.get("variant_id")),
        product_id=optional_id(line.get("product_id")),
        variant_title=line.get("variant_title") or None,
        product_type=line.get("product_type") or None,
        vendor=line.get("vendor") or None,
        tags=tag_list(line.get("tags") or line.get("product_tags")),
        variant_options=pairs(line.get("variant_options"), "name", "value"),
        properties=pairs(line.get("properties"), "name", "value"),
        metafields=pairs(line.get("metafields"), "key", "value"),
        requires_shipping=bool(line.get("requires_shipping", True)),
        is_gift_card=bool(line.get("gift_card", False)),
        fulfillable_quantity=optional_int(line.get("fulfillable_quantity")),
    )


# --- small readers ----------------------------------------------------------------------------


def _quantity(value: Any) -> int:
    return optional_int(value) or 0
