"""Translate between domain values and rows: specs as JSON, order lines from stored items."""

from __future__ import annotations

from typing import Any

from integrator.db.models import LineItem, Order
from integrator.domain.model import (
    Address,
    Disposition,
    ItemDecision,
    OrderLine,
    PrintFile,
    SupplierItemSpec,
)


def spec_to_json(spec: SupplierItemSpec | None) -> dict[str, Any] | None:
    if spec is None:
        return None
    return {
        "identifiers": dict(spec.identifiers),
        "files": [{"placement": f.placement, "url": f.url, "kind": f.kind} for f in spec.files],
        "options": dict(spec.options),
        "packing_note": spec.packing_note,
    }


def spec_from_json(data: dict[str, Any] | None) -> SupplierItemSpec:
    data = data or {}
    return SupplierItemSpec(
        identifiers={str(k): str(v) for k, v in (data.get("identifiers") or {}).items()},
        files=tuple(
            PrintFile(f["placement"], f["url"], f.get("kind", "default"))
            for f in data.get("files") or ()
        ),
        options={str(k): str(v) for k, v in (data.get("options") or {}).items()},
        packing_note=data.get("packing_note"),
    )


def address_to_json(address: Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {name: getattr(address, name) for name in Address.__dataclass_fields__}


def address_from_json(data: dict[str, Any] | None, email: str | None = None) -> Address:
    fields = {k: str(v or "") for k, v in (data or {}).items() if k in Address.__dataclass_fields__}
    if email and not fields.get("email"):
        fields["email"] = email
    return Address(**fields)


def order_line_from_item(item: LineItem) -> OrderLine:
    """Enough of the Shopify line item to find its catalog entry and personalisation again."""
    return OrderLine(
        line_item_id=item.shopify_line_item_id,
        quantity=item.quantity,
        title=item.title,
        sku=item.sku,
        variant_id=item.variant_id,
        product_type=item.product_type,
        properties={str(k): str(v) for k, v in (item.properties or {}).items()},
    )


def recipient_of(order: Order) -> Address:
    return address_from_json(order.shipping_address, order.email)


def decision_of(item: LineItem, reason: str | None = None) -> ItemDecision:
    """The stored routing decision of a routed item (its spec is rebuilt when needed)."""
    return ItemDecision(
        item.shopify_line_item_id,
        Disposition.ROUTE,
        item.reason or "" if reason is None else reason,
        item.supplier,
        item.rule,
        item.decoration,
        item.decoration_source,
        item.catalog_key,
        None,
        tuple(item.fallbacks or ()),
    )
