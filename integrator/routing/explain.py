"""Why each line item of an order goes where it goes, for people (text) and scripts (JSON)."""

from __future__ import annotations

from typing import Any

from integrator.domain.model import (
    Disposition,
    EnrichedOrder,
    FulfillmentOrder,
    ItemDecision,
    OrderLine,
)
from integrator.routing.assignment import LineAssignment, Ownership, assign_lines
from integrator.routing.router import (
    LineFacts,
    default_ownership,
    fulfilled_at_payment,
    group_by_supplier,
    learn_line,
    route_order,
)
from integrator.store_config.store import StoreConfig


def explain_order(
    order: EnrichedOrder, config: StoreConfig, ownership: Ownership | None = None
) -> dict[str, Any]:
    """Return the decisions for ``order`` with what they were based on, JSON-ready.

    The decisions are the pipeline's own (:func:`route_order` with the same ownership), so an
    order in the enrichment query's shape is decided exactly as production decides it.
    """
    ownership = ownership or default_ownership(config)
    country = order.shipping_address.country_code if order.shipping_address else None
    decisions = route_order(order, config, ownership)
    assignments = assign_lines(order, ownership) if order.fulfillment_orders_known else {}
    items = [
        _explain_item(
            position,
            line,
            decision,
            learn_line(line, country, config),
            assignments.get(line.line_item_id),
        )
        for position, (line, decision) in enumerate(
            zip(order.lines, decisions, strict=True), start=1
        )
    ]
    return {
        "order": {
            "id": order.order_id,
            "name": order.name,
            "shop": order.shop,
            "financial_status": order.financial_status or None,
            "cancelled": order.cancelled,
            "ship_to_country": country or None,
            "test": order.test,
            "fulfillment_mode": ownership.mode.value,
            "fulfillment_orders_known": order.fulfillment_orders_known,
            "fulfillment_orders": [
                _explain_fulfillment_order(fo, ownership) for fo in order.fulfillment_orders
            ],
            "fulfilled_at_payment": fulfilled_at_payment(order),
        },
        "config_files": list(config.files),
        "items": items,
        "supplier_orders": {
            supplier: [decision.line_item_id for decision in group]
            for supplier, group in group_by_supplier(decisions).items()
        },
        "counts": {
            disposition.value: sum(
                1 for decision in decisions if decision.disposition is disposition
            )
            for disposition in Disposition
        },
    }


def _explain_fulfillment_order(fo: FulfillmentOrder, ownership: Ownership) -> dict[str, Any]:
    return {
        "id": fo.id,
        "status": fo.status,
        "request_status": fo.request_status,
        "location": fo.location_name or None,
        "location_id": fo.location_id or None,
        "ours": ownership.owns(fo),
        "holds": [hold.reason for hold in fo.holds],
        "fulfill_at": fo.fulfill_at.isoformat() if fo.fulfill_at else None,
        "delivery_method": fo.delivery_method or None,
        "lines": {line.line_item_id: line.remaining_quantity for line in fo.lines},
    }


def _explain_assignment(assignment: LineAssignment | None) -> dict[str, Any] | None:
    if assignment is None:
        return None
    return {
        "open": assignment.open_quantity,
        "open_lines": [
            {
                "fulfillment_order_id": ref.fulfillment_order_id,
                "line_id": ref.line_id,
                "quantity": ref.quantity,
            }
            for ref in assignment.open_lines
        ],
        "waiting": assignment.waiting_quantity,
        "waiting_reason": assignment.waiting_reason or None,
        "elsewhere": [{"reason": why, "quantity": qty} for why, qty in assignment.elsewhere],
        "hidden": assignment.hidden_quantity,
        "fulfilled": assignment.fulfilled_quantity,
    }


def _explain_item(
    position: int,
    line: OrderLine,
    decision: ItemDecision,
    known: LineFacts,
    assignment: LineAssignment | None,
) -> dict[str, Any]:
    spec = decision.spec
    return {
        "position": position,
        "line_item_id": line.line_item_id,
        "title": line.title,
        "sku": line.sku,
        "variant_id": line.variant_id,
        "quantity": line.quantity,
        "routed_quantity": decision.quantity
        if decision.quantity is not None
        else (line.quantity if decision.disposition is Disposition.ROUTE else 0),
        "fulfillment_orders": _explain_assignment(assignment),
        "decision": decision.disposition.value,
        "supplier": decision.supplier,
        "rule": decision.rule,
        "reason": decision.reason,
        "decoration": decision.decoration,
        "decoration_source": decision.decoration_source,
        "decoration_ignored": list(known.decoration.ignored),
        "catalog_entry": decision.catalog_key,
        "fallbacks": list(decision.fallbacks),
        "product_type": known.product_type,
        "product_type_from": known.product_type_from,
        "vendor": known.vendor,
        "tags": list(known.tags),
        "tags_from": known.tags_from,
        "personalised": known.facts.personalised,
        "unknown": _unknown(line, decision, known),
        "spec": None
        if spec is None
        else {
            "identifiers": dict(spec.identifiers),
            "files": [
                {"placement": file.placement, "url": file.url, "kind": file.kind}
                for file in spec.files
            ],
            "options": dict(spec.options),
            "packing_note": spec.packing_note,
        },
    }


def _unknown(line: OrderLine, decision: ItemDecision, known: LineFacts) -> list[str]:
    """Name what neither the order nor the catalog said (skipped items need nothing)."""
    if decision.disposition in (Disposition.SKIP, Disposition.WAIT):
        return []
    missing = []
    if known.product_type is None:
        missing.append("product_type")
    if not known.tags:
        missing.append("tags")
    if known.decoration.method is None:
        missing.append("decoration")
    if known.entry is None:
        missing.append("catalog entry")
    return missing


def render_text(explanation: dict[str, Any]) -> str:
    """Lay the explanation out for a terminal, one block per line item."""
    order = explanation["order"]
    lines = [
        f"Order {order['name'] or '?'} ({order['id']}) shop {order['shop']}, "
        f"ship to {order['ship_to_country'] or 'unknown'}",
        f"config: {', '.join(explanation['config_files'])}",
    ]
    if order["cancelled"]:
        # routing does not look at it; the pipeline does not route a cancelled order
        lines.insert(
            1,
            f"note: the order is cancelled (financial status "
            f"{order['financial_status'] or 'unknown'})",
        )
    lines += _order_notes(order)
    for item in explanation["items"]:
        lines.append("")
        lines.extend(_item_block(item))
    lines.append("")
    lines.append(_summary(explanation))
    return "\n".join(lines) + "\n"


def _order_notes(order: dict[str, Any]) -> list[str]:
    notes = []
    if order["test"]:
        notes.append("note: a test order (shopify.test_orders decides)")
    if order["fulfilled_at_payment"]:
        notes.append(
            "note: Shopify fulfilled every item when the order was paid: the store fulfils "
            "automatically, and nothing is left to route"
        )
    if not order["fulfillment_orders_known"]:
        notes.append(
            "note: the input has no fulfillment orders (a webhook body): decided on line "
            "items only; give the enrichment query's answer to see the fulfillment-order "
            "decisions"
        )
        return notes
    notes.append(f"fulfillment orders ({order['fulfillment_mode']}):")
    for fo in order["fulfillment_orders"]:
        extra = [f"request {fo['request_status'].lower()}"]
        extra += [f"hold {reason.lower()}" for reason in fo["holds"]]
        if fo["fulfill_at"]:
            extra.append(f"due {fo['fulfill_at']}")
        if fo["delivery_method"] and fo["delivery_method"] != "SHIPPING":
            extra.append(fo["delivery_method"].lower())
        lines = ", ".join(f"line {line} x{qty}" for line, qty in fo["lines"].items())
        notes.append(
            f"  {fo['id'].rsplit('/', 1)[-1]} {fo['status']} at "
            f"{fo['location'] or 'a hidden location'}"
            f"{' (ours)' if fo['ours'] else ''} [{', '.join(extra)}]: {lines or 'no lines'}"
        )
    if not order["fulfillment_orders"]:
        notes.append("  none yet (Shopify's order routing has not finished)")
    return notes


def _item_block(item: dict[str, Any]) -> list[str]:
    identity = ", ".join(
        part
        for part in (
            f"sku {item['sku']}" if item["sku"] else "",
            f"variant {item['variant_id']}" if item["variant_id"] else "",
        )
        if part
    )
    block = [
        f"#{item['position']} {item['title']} x{item['quantity']}  "
        f"(line {item['line_item_id']}{', ' + identity if identity else ''})",
        f"  decision:   {item['decision'].upper()}",
        f"  reason:     {item['reason']}",
    ]
    if item["fulfillment_orders"] is not None and item["decision"] != Disposition.SKIP.value:
        block.append(f"  quantity:   {item['routed_quantity']} of {item['quantity']} now")
    if item["decision"] in (Disposition.SKIP.value, Disposition.WAIT.value):
        return block
    block += [
        f"  supplier:   {item['supplier'] or '-'}"
        + (f" (then {', '.join(item['fallbacks'])})" if item["fallbacks"] else ""),
        f"  rule:       {item['rule'] or '-'}",
        f"  decoration: {item['decoration'] or 'unknown'}"
        + (f" (from {item['decoration_source']})" if item["decoration_source"] else ""),
        f"  product:    type {_with_origin(item['product_type'], item['product_type_from'])}"
        f", tags {_with_origin(', '.join(item['tags']) or None, item['tags_from'])}",
        f"  catalog:    {item['catalog_entry'] or 'no entry'}",
    ]
    if item["spec"] is not None:
        block += _spec_lines(item["spec"])
    block += [f"  note:       {note}" for note in item["decoration_ignored"]]
    if item["unknown"]:
        block.append(f"  unknown:    {', '.join(item['unknown'])}")
    return block


def _spec_lines(spec: dict[str, Any]) -> list[str]:
    identifiers = ", ".join(f"{key}={value}" for key, value in spec["identifiers"].items())
    lines = [f"  sends:      {identifiers}"]
    lines += [f"  file:       {file['placement']}: {file['url']}" for file in spec["files"]]
    lines += [f"  option:     {key} = {value}" for key, value in spec["options"].items()]
    if spec["packing_note"]:
        lines.append(f"  packing:    {spec['packing_note']!r}")
    return lines


def _with_origin(value: str | None, origin: str | None) -> str:
    return f"{value} (from {origin})" if value else "unknown"


def _summary(explanation: dict[str, Any]) -> str:
    counts = ", ".join(f"{count} {name}" for name, count in explanation["counts"].items())
    orders = "; ".join(
        f"{supplier}: {len(ids)} item(s)"
        for supplier, ids in explanation["supplier_orders"].items()
    )
    return f"{counts}. Supplier orders: {orders or 'none'}."
