"""Fulfillment rules of the sandbox: what Shopify checks before it creates a fulfillment.

Messages follow the ones Shopify's Admin API gives in ``userErrors`` for the same mistakes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from integrator.sandbox.shopify.records import Record, gid, now_iso, tracking_info

FULFILLABLE_STATUSES = frozenset({"OPEN", "IN_PROGRESS"})
ACTIONS_BY_STATUS: Mapping[str, tuple[str, ...]] = {
    "OPEN": ("CREATE_FULFILLMENT", "REQUEST_FULFILLMENT", "HOLD", "MOVE"),
    "IN_PROGRESS": ("CREATE_FULFILLMENT", "HOLD"),
    "ON_HOLD": ("RELEASE_HOLD",),
    "SCHEDULED": ("MARK_AS_OPEN",),
}


class FulfillmentRefused(Exception):  # noqa: N818 (Shopify's word: the request is refused)
    """A request Shopify would answer with a user error; ``str()`` is the message."""


@dataclass(frozen=True)
class LineRequest:
    line: Record  # the FulfillmentOrderLineItem record
    quantity: int


Plan = list[tuple[Record, list[LineRequest]]]  # per fulfillment order, what to take off it


def refresh_order(order: Record) -> None:
    """Recompute the derived fields of an order after its fulfillments or FOs changed."""
    for fulfillment_order in order["fulfillmentOrders"]:
        _refresh_fulfillment_order(fulfillment_order)
    for line in order["lineItems"]:
        current = line.get("currentQuantity", line["quantity"])
        unfulfilled = max(0, current - line.get("fulfilledQuantity", 0))
        line["unfulfilledQuantity"] = line["fulfillableQuantity"] = unfulfilled
        line["fulfillmentStatus"] = (
            "fulfilled"
            if unfulfilled == 0
            else ("partial" if unfulfilled < current else "unfulfilled")
        )
    order["displayFulfillmentStatus"] = _display_fulfillment_status(order)
    order["updatedAt"] = now_iso()


def _refresh_fulfillment_order(fulfillment_order: Record) -> None:
    actions = ACTIONS_BY_STATUS.get(fulfillment_order["status"], ())
    fulfillment_order["supportedActions"] = [
        {"__typename": "FulfillmentOrderSupportedAction", "action": action} for action in actions
    ]
    fulfillment_order["updatedAt"] = now_iso()


def _display_fulfillment_status(order: Record) -> str:
    shippable = [line for line in order["lineItems"] if line["requiresShipping"]]
    fulfilled = sum(line.get("fulfilledQuantity", 0) for line in shippable)
    wanted = sum(line.get("currentQuantity", line["quantity"]) for line in shippable)
    if fulfilled == 0:
        on_hold = any(fo["status"] == "ON_HOLD" for fo in order["fulfillmentOrders"])
        return "ON_HOLD" if on_hold else "UNFULFILLED"
    return "FULFILLED" if fulfilled >= wanted else "PARTIALLY_FULFILLED"


def requested_lines(
    fulfillment_order: Record, wanted: Sequence[Mapping[str, Any]] | None
) -> list[LineRequest]:
    """Check the requested FO line items and quantities; empty means all that remain.

    :raises FulfillmentRefused: unknown line item, or a quantity it does not have left.
    """
    if not wanted:
        return [
            LineRequest(line, line["remainingQuantity"])
            for line in fulfillment_order["lineItems"]
            if line["remainingQuantity"] > 0
        ]
    by_id = {line["id"]: line for line in fulfillment_order["lineItems"]}
    requests = []
    for item in wanted:
        line = by_id.get(str(item["id"]))
        if line is None:
            raise FulfillmentRefused(
                f"Fulfillment order line item {item['id']} does not exist on fulfillment "
                f"order {fulfillment_order['id']}."
            )
        if not 0 < int(item["quantity"]) <= line["remainingQuantity"]:
            raise FulfillmentRefused("Invalid fulfillment order line item quantity requested.")
        requests.append(LineRequest(line, int(item["quantity"])))
    return requests


def check_fulfillable(fulfillment_order: Record) -> None:
    """:raises FulfillmentRefused: when the FO's status does not allow a fulfillment."""
    status = fulfillment_order["status"]
    if status not in FULFILLABLE_STATUSES:
        raise FulfillmentRefused(
            f"Fulfillment order {fulfillment_order['id'].rsplit('/', 1)[-1]} has an "
            f"unfulfillable status= {status.lower()}."
        )


def create_fulfillment(
    number: int,
    order: Record,
    plan: Plan,
    tracking: Mapping[str, Any] | None,
    line_number: Callable[[], int],
) -> Record:
    """Record a fulfillment of the planned FO lines and take them off what remains."""
    fulfillment = _new_fulfillment(number, order, tracking)
    for fulfillment_order, requests in plan:
        for request in requests:
            request.line["remainingQuantity"] -= request.quantity
            request.line["lineItem"]["fulfilledQuantity"] = (
                request.line["lineItem"].get("fulfilledQuantity", 0) + request.quantity
            )
            fulfillment["fulfillmentLineItems"].append(
                {
                    "__typename": "FulfillmentLineItem",
                    "id": gid("FulfillmentLineItem", line_number()),
                    "quantity": request.quantity,
                    "lineItem": request.line["lineItem"],
                }
            )
        remaining = sum(line["remainingQuantity"] for line in fulfillment_order["lineItems"])
        fulfillment_order["status"] = "CLOSED" if remaining == 0 else "IN_PROGRESS"
        fulfillment_order["fulfillments"].append(fulfillment)
        fulfillment["fulfillmentOrders"].append(fulfillment_order)
    fulfillment["totalQuantity"] = sum(i["quantity"] for i in fulfillment["fulfillmentLineItems"])
    order["fulfillments"].append(fulfillment)
    refresh_order(order)
    return fulfillment


def _new_fulfillment(number: int, order: Record, tracking: Mapping[str, Any] | None) -> Record:
    sequence = len(order["fulfillments"]) + 1
    stamp = now_iso()
    return {
        "__typename": "Fulfillment",
        "id": gid("Fulfillment", number),
        "legacyResourceId": str(number),
        "name": f"{order['name']}.{sequence}",
        "status": "SUCCESS",
        "displayStatus": "FULFILLED",
        "createdAt": stamp,
        "updatedAt": stamp,
        "requiresShipping": True,
        "order": order,
        "trackingInfo": tracking_info(tracking) if tracking else [],
        "fulfillmentLineItems": [],
        "fulfillmentOrders": [],
        "events": [],
    }


def update_tracking(fulfillment: Record, tracking: Mapping[str, Any]) -> None:
    fulfillment["trackingInfo"] = tracking_info(tracking)
    fulfillment["updatedAt"] = now_iso()


def accept_fulfillment_request(fulfillment_order: Record, message: str | None) -> None:
    """:raises FulfillmentRefused: unless a fulfillment request is waiting on the FO."""
    if fulfillment_order["requestStatus"] != "SUBMITTED":
        raise FulfillmentRefused(
            "Cannot accept fulfillment request for fulfillment order with request status "
            f"{fulfillment_order['requestStatus'].lower()}."
        )
    fulfillment_order["requestStatus"] = "ACCEPTED"
    fulfillment_order["status"] = "IN_PROGRESS"
    if message:
        fulfillment_order["acceptMessage"] = message
    _refresh_fulfillment_order(fulfillment_order)
