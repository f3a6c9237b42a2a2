"""What happens to a sandbox order after payment, as Shopify does it to the records.

Order edits, refunds, exchanges and accepted post-purchase offers add line items in new
fulfillment orders or take unfulfilled quantities off the open ones; holds, scheduled dates,
moves and cancellations change fulfillment orders. Each function returns what the matching
webhook reports (``topic_payloads`` builds the bodies). The caller holds the shop's lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from integrator.sandbox.shopify import fulfillment, records
from integrator.sandbox.shopify.records import FulfillmentOrderSpec, LineSpec, Record

if TYPE_CHECKING:
    from integrator.sandbox.shopify.store import Shop

LIVE_STATUSES = ("OPEN", "IN_PROGRESS", "ON_HOLD", "SCHEDULED")


@dataclass
class LineChanges:
    """Line items an edit, refund or exchange added, and the quantities it removed."""

    order: Record
    added: list[tuple[Record, int]] = field(default_factory=list)  # (line item, quantity)
    removed: list[tuple[Record, int]] = field(default_factory=list)
    fulfillment_orders: list[Record] = field(default_factory=list)  # made for the additions


def add_lines(
    shop: Shop, order: Record, lines: Sequence[LineSpec], spec: FulfillmentOrderSpec
) -> LineChanges:
    """New line items, placed in one new fulfillment order described by ``spec``."""
    changes = LineChanges(order)
    first = len(order["lineItems"])
    for line_spec in lines:
        line = records.line_item(shop.next_id(), line_spec, shop.variant_by_sku(line_spec.sku))
        order["lineItems"].append(shop.register(line))
        changes.added.append((line, line_spec.quantity))
    shippable = [
        index
        for index in range(first, len(order["lineItems"]))
        if order["lineItems"][index]["requiresShipping"]
    ]
    if shippable:
        changes.fulfillment_orders = shop.add_fulfillment_orders(
            order["id"], [_with_lines(spec, shippable)]
        )
    _touch(shop, order)
    return changes


def _with_lines(spec: FulfillmentOrderSpec, lines: list[int]) -> FulfillmentOrderSpec:
    from dataclasses import replace

    return replace(spec, lines=lines, quantities=None)


def remove_quantities(shop: Shop, order: Record, quantities: Mapping[int, int]) -> LineChanges:
    """Take unfulfilled units off line items (an edit lowering a quantity, or a refund that
    cancels unfulfilled units): off ``currentQuantity`` and off the live fulfillment orders.

    :raises fulfillment.FulfillmentRefused: more than the line has left to fulfil.
    """
    changes = LineChanges(order)
    for index, quantity in quantities.items():
        line = order["lineItems"][index]
        unfulfilled = line["currentQuantity"] - line.get("fulfilledQuantity", 0)
        if not 0 < quantity <= unfulfilled:
            raise fulfillment.FulfillmentRefused(
                f"Quantity to remove ({quantity}) is more than can be removed ({unfulfilled})."
            )
        line["currentQuantity"] -= quantity
        line["refundableQuantity"] = line["currentQuantity"]
        _take_off_fulfillment_orders(order, line, quantity)
        changes.removed.append((line, quantity))
    _touch(shop, order)
    return changes


def _take_off_fulfillment_orders(order: Record, line: Record, quantity: int) -> None:
    left = quantity
    # the most recent fulfillment order first, the way an edit undoes the latest addition
    for fo in reversed(order["fulfillmentOrders"]):
        if fo["status"] not in LIVE_STATUSES:
            continue
        for fo_line in fo["lineItems"]:
            if fo_line["lineItem"] is line and fo_line["remainingQuantity"] > 0 and left:
                take = min(left, fo_line["remainingQuantity"])
                fo_line["remainingQuantity"] -= take
                fo_line["totalQuantity"] -= take
                left -= take
        if (
            all(fo_line["remainingQuantity"] == 0 for fo_line in fo["lineItems"])
            and not fo["fulfillments"]
        ):
            fo["status"] = "CLOSED"


def refund(
    shop: Shop, order: Record, quantities: Mapping[int, int], restock_type: str
) -> tuple[Record, LineChanges]:
    """A refund of unfulfilled units (``cancel`` or ``no_restock``): they are removed from the
    order and from fulfilment. Returns the Refund record and the quantities removed."""
    changes = remove_quantities(shop, order, quantities)
    number = shop.next_id()
    created = {
        "__typename": "Refund",
        "id": records.gid("Refund", number),
        "legacyResourceId": str(number),
        "createdAt": records.now_iso(),
        "note": None,
        "restockType": restock_type,
        "lines": [(line, quantity) for line, quantity in changes.removed],
    }
    order.setdefault("refunds", []).append(created)
    order["displayFinancialStatus"] = "PARTIALLY_REFUNDED"
    _touch(shop, order)
    return created, changes


def hold(shop: Shop, fo: Record, reason: str, notes: str | None) -> Record:
    """A hold placed by the merchant (or Shopify): the FO is ON_HOLD until it is released."""
    fo["fulfillmentHolds"].append(records.fulfillment_hold(shop.next_id(), reason, notes))
    fo["status"] = "ON_HOLD"
    fulfillment.refresh_order(fo["order"])
    return fo


def release(fo: Record) -> Record:
    """Every hold released: the FO is OPEN again."""
    fo["fulfillmentHolds"] = []
    fo["status"] = "OPEN"
    fulfillment.refresh_order(fo["order"])
    return fo


def make_due(fo: Record) -> Record:
    """A SCHEDULED FO whose date has come: Shopify opens it."""
    if fo["status"] != "SCHEDULED":
        raise fulfillment.FulfillmentRefused("The fulfillment order is not scheduled.")
    fo["status"] = "OPEN"
    fulfillment.refresh_order(fo["order"])
    return fo


def move(
    shop: Shop, fo: Record, where: Record, quantities: Mapping[str, int] | None
) -> tuple[Record, Record]:
    """Re-assign FO line items to location ``where``; return (original, moved).

    All of it, when no other live FO of the order is at ``where``: the FO's assigned location
    changes in place. Otherwise a new FO at ``where`` takes the moved quantities and the
    original keeps the rest (closed when nothing is left), as fulfillmentOrderMove describes.

    :raises fulfillment.FulfillmentRefused: the FO cannot be moved.
    """
    if fo["status"] not in ("OPEN", "ON_HOLD", "SCHEDULED"):
        raise fulfillment.FulfillmentRefused("Fulfillment order cannot be moved.")
    if fo["requestStatus"] in ("SUBMITTED", "ACCEPTED", "CANCELLATION_REQUESTED"):
        raise fulfillment.FulfillmentRefused(
            "Cannot move a fulfillment order that has been submitted to a fulfillment service."
        )
    order = fo["order"]
    wanted = dict(quantities or {line["id"]: line["remainingQuantity"] for line in fo["lineItems"]})
    whole = all(wanted.get(line["id"], 0) == line["remainingQuantity"] for line in fo["lineItems"])
    occupied = any(
        other is not fo
        and other["status"] in LIVE_STATUSES
        and other["assignedLocation"]["location"] is where
        for other in order["fulfillmentOrders"]
    )
    if whole and not occupied:
        fo["assignedLocation"] = records.assigned_location(where)
        fo["requestStatus"] = "UNSUBMITTED"
        fulfillment.refresh_order(order)
        return fo, fo
    moved = shop.register(
        records.fulfillment_order(
            shop.next_id(), order, where, FulfillmentOrderSpec(status=fo["status"])
        )
    )
    moved["fulfillmentHolds"] = list(fo["fulfillmentHolds"])
    for line in fo["lineItems"]:
        quantity = wanted.get(line["id"], 0)
        if quantity <= 0:
            continue
        if quantity > line["remainingQuantity"]:
            raise fulfillment.FulfillmentRefused("Invalid fulfillment order line item quantity.")
        line["remainingQuantity"] -= quantity
        line["totalQuantity"] -= quantity
        moved["lineItems"].append(
            shop.register(
                records.fulfillment_order_line(shop.next_id(), line["lineItem"], quantity)
            )
        )
    if all(line["remainingQuantity"] == 0 for line in fo["lineItems"]):
        fo["status"] = "CLOSED"
    order["fulfillmentOrders"].append(moved)
    fulfillment.refresh_order(order)
    return fo, moved


def cancel_fulfillment_order(fo: Record) -> Record:
    """The FO is cancelled; its quantities are no longer to be fulfilled there."""
    fo["status"] = "CANCELLED"
    fulfillment.refresh_order(fo["order"])
    return fo


def _touch(shop: Shop, order: Record) -> None:
    shop.set_totals(order)
    fulfillment.refresh_order(order)
