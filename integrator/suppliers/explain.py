"""What one supplier payload means: the structure `integrator suppliers explain` prints.

Offline and configuration-free: the adapter is built from its kind alone and only parses, so
the answer comes from exactly the code the callback endpoint, the callback job and the status
polls run (``SupplierAdapter.parse_payload``). Calls the pipeline would still make before
applying an event (``complete_events``: Printful v2 shipment items, confirming a draft) are
not made here; the event's ``reason`` says when one is due.
"""

from __future__ import annotations

from typing import Any

from integrator.domain.model import SupplierEvent
from integrator.suppliers.base import ParsedPayload
from integrator.suppliers.http import CircuitBreaker, RateLimiter
from integrator.suppliers.registry import build_adapter


def parse_offline(adapter_kind: str, body: bytes) -> ParsedPayload:
    """Parse ``body`` with the ``adapter_kind`` adapter (UnknownAdapter, CallbackPayloadError)."""
    adapter = build_adapter(
        adapter_kind,
        adapter_kind,
        None,
        {},
        # private ones: explaining a payload must not touch the process-wide breaker/limiter
        breaker=CircuitBreaker(),
        limiter=RateLimiter(60, key="explain"),
    )
    return adapter.parse_payload(body)


def explain_payload(adapter_kind: str, body: bytes) -> dict[str, Any]:
    """The explain object of the supplier issue::

    {"supplier", "kind": "callback"|"order", "reference", "supplier_order_id",
     "events": [{"stage", "hold", "reason", "items", "shipment"}]}
    """
    parsed = parse_offline(adapter_kind, body)
    return {
        "supplier": adapter_kind,
        "kind": parsed.kind.value,
        "reference": parsed.reference,
        "supplier_order_id": parsed.supplier_order_id,
        "events": [explain_event(event) for event in parsed.events],
    }


def explain_event(event: SupplierEvent) -> dict[str, Any]:
    shipment = event.shipment
    shipped = [item.line_item_id for item in shipment.items] if shipment else []
    return {
        "stage": event.stage.value if event.stage else None,
        "hold": event.hold,
        "reason": event.reason or None,
        "items": list(event.line_item_ids) or shipped,
        "shipment": None
        if shipment is None
        else {
            "tracking_number": shipment.tracking_number or None,
            "carrier": shipment.carrier or None,
            "tracking_url": shipment.tracking_url or None,
            # the supplier's own names (Printify SKUs) when it names no item of ours
            "items": shipped or list(shipment.supplier_skus),
        },
    }


def render_text(explanation: dict[str, Any]) -> str:
    """The same content for a terminal, one line per event."""
    lines = [
        f"{explanation['supplier']} {explanation['kind']}: "
        f"reference {explanation['reference'] or '-'}, "
        f"supplier order {explanation['supplier_order_id'] or '-'}"
    ]
    if not explanation["events"]:
        lines.append("  (no events)")
    for event in explanation["events"]:
        parts = [f"stage {event['stage'] or '-'}"]
        if event["hold"]:
            parts.append(f"hold {event['hold']}")
        parts.append(f"items {', '.join(event['items']) or 'none named'}")
        shipment = event["shipment"]
        if shipment:
            parts.append(
                f"shipment {shipment['carrier'] or '?'} {shipment['tracking_number'] or '?'}"
                + (f" {shipment['tracking_url']}" if shipment["tracking_url"] else "")
                + f" items {', '.join(shipment['items']) or 'not named'}"
            )
        if event["reason"]:
            parts.append(f"reason: {event['reason']}")
        lines.append("  - " + "; ".join(parts))
    return "\n".join(lines) + "\n"
