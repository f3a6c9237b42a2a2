"""Why each line item of an order goes where it goes, for people (text) and scripts (JSON)."""

from __future__ import annotations

from typing import Any

from integrator.domain.model import Disposition, EnrichedOrder, ItemDecision, OrderLine
from integrator.routing.router import LineFacts, group_by_supplier, learn_line, route_order
from integrator.routing.store import StoreConfig


def explain_order(order: EnrichedOrder, config: StoreConfig) -> dict[str, Any]:
    """Return the decisions for ``order`` with what they were based on, JSON-ready."""
    country = order.shipping_address.country_code if order.shipping_address else None
    decisions = route_order(order, config)
    items = [
        _explain_item(position, line, decision, learn_line(line, country, config))
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


def _explain_item(
    position: int, line: OrderLine, decision: ItemDecision, known: LineFacts
) -> dict[str, Any]:
    spec = decision.spec
    return {
        "position": position,
        "line_item_id": line.line_item_id,
        "title": line.title,
        "sku": line.sku,
        "variant_id": line.variant_id,
        "quantity": line.quantity,
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
    if decision.disposition is Disposition.SKIP:
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
    for item in explanation["items"]:
        lines.append("")
        lines.extend(_item_block(item))
    lines.append("")
    lines.append(_summary(explanation))
    return "\n".join(lines) + "\n"


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
    if item["decision"] == Disposition.SKIP.value:
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
