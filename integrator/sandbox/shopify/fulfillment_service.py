"""What Shopify does for a fulfillment service: stocking variants at its location (inventory
activation), putting stocked lines in fulfillment orders assigned to it, and the requests a
merchant sends it (fulfillment and cancellation) with the service's answers.

Request statuses and their moves follow ``FulfillmentOrderRequestStatus`` (2026-04):
UNSUBMITTED → SUBMITTED (merchant) → ACCEPTED (FO IN_PROGRESS) or REJECTED (FO stays OPEN);
ACCEPTED → CANCELLATION_REQUESTED (merchant) → CANCELLATION_ACCEPTED (FO CLOSED) or
CANCELLATION_REJECTED (FO stays IN_PROGRESS). Messages follow Shopify's ``userErrors``.
The caller holds the shop's lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrator.sandbox.shopify import fulfillment
from integrator.sandbox.shopify.fulfillment import FulfillmentRefused
from integrator.sandbox.shopify.records import Record, gid, now_iso

# --- inventory -------------------------------------------------------------------------------


def inventory_item(number: int, variant: Record) -> Record:
    stamp = now_iso()
    return {
        "__typename": "InventoryItem",
        "id": gid("InventoryItem", number),
        "legacyResourceId": str(number),
        "sku": variant["sku"],
        "tracked": True,
        "requiresShipping": True,
        "createdAt": stamp,
        "updatedAt": stamp,
        "duplicateSkuCount": 0,
        "variant": variant,
        "inventoryLevels": [],
    }


def level_at(item: Record, location: Record) -> Record | None:
    return next((lv for lv in item["inventoryLevels"] if lv["location"] is location), None)


def activate(number: int, item: Record, location: Record) -> tuple[Record, bool]:
    """Stock ``item`` at ``location``; return the level and whether it was inactive before."""
    level = level_at(item, location)
    if level is None:
        stamp = now_iso()
        level = {
            "__typename": "InventoryLevel",
            "id": gid("InventoryLevel", f"{number}?inventory_item_id={item['legacyResourceId']}"),
            "isActive": False,
            "canDeactivate": True,
            "deactivationAlert": None,
            "createdAt": stamp,
            "updatedAt": stamp,
            "item": item,
            "location": location,
        }
        item["inventoryLevels"].append(level)
    changed = not level["isActive"]
    level["isActive"] = True
    level["updatedAt"] = now_iso()
    return level, changed


def deactivate(item: Record, location: Record) -> str | None:
    """Unstock ``item`` at ``location``; return the refusal code when Shopify would refuse."""
    active = [lv for lv in item["inventoryLevels"] if lv["isActive"]]
    level = level_at(item, location)
    if level is None or not level["isActive"]:
        return None
    if len(active) == 1:
        return "CANNOT_DEACTIVATE_FROM_ONLY_LOCATION"
    level["isActive"] = False
    level["updatedAt"] = now_iso()
    return None


def stocking_location(variant: Record | None, primary: Record) -> Record:
    """Where Shopify's order routing assigns a line of ``variant``: a fulfillment service's
    location that stocks it (the point of stocking a variant there), else the primary one."""
    item = (variant or {}).get("inventoryItem")
    for level in item["inventoryLevels"] if item else []:
        if level["isActive"] and level["location"].get("isFulfillmentService"):
            return level["location"]  # type: ignore[no-any-return]
    return primary


# --- requests from the merchant ----------------------------------------------------------------


def merchant_request(number: int, fo: Record, kind: str, message: str | None) -> Record:
    return {
        "__typename": "FulfillmentOrderMerchantRequest",
        "id": gid("FulfillmentOrderMerchantRequest", number),
        "kind": kind,
        "message": message,
        "requestOptions": {"notify_customer": False} if kind == "FULFILLMENT_REQUEST" else {},
        "responseData": None,
        "sentAt": now_iso(),
        "fulfillmentOrder": fo,
    }


def submit_fulfillment_request(number: int, fo: Record, message: str | None) -> Record:
    """The merchant presses *Request fulfillment* on an FO at a fulfillment service.

    :raises FulfillmentRefused: not a fulfillment service's FO, or not open and unsubmitted.
    """
    if not fo["assignedLocation"]["location"].get("isFulfillmentService"):
        raise FulfillmentRefused(
            "Fulfillment order is not assigned to a fulfillment service location."
        )
    if fo["status"] != "OPEN" or fo["requestStatus"] not in ("UNSUBMITTED", "REJECTED"):
        raise FulfillmentRefused("Fulfillment order is not in a requestable state.")
    fo["requestStatus"] = "SUBMITTED"
    request = merchant_request(number, fo, "FULFILLMENT_REQUEST", message)
    fo["merchantRequests"].append(request)
    fulfillment.refresh_order(fo["order"])
    return request


def submit_cancellation_request(number: int, fo: Record, message: str | None) -> Record:
    """The merchant asks the service to cancel an FO it accepted.

    :raises FulfillmentRefused: the FO's request was not accepted.
    """
    if fo["requestStatus"] not in ("ACCEPTED", "CANCELLATION_REJECTED"):
        raise FulfillmentRefused(
            "Cannot request cancellation for fulfillment order with request status "
            f"{fo['requestStatus'].lower()}."
        )
    fo["requestStatus"] = "CANCELLATION_REQUESTED"
    request = merchant_request(number, fo, "CANCELLATION_REQUEST", message)
    fo["merchantRequests"].append(request)
    fulfillment.refresh_order(fo["order"])
    return request


def _answer(fo: Record, kind: str, data: Mapping[str, Any]) -> None:
    """Keep the service's answer on the request it answers: the merchant reads it there."""
    for request in reversed(fo["merchantRequests"]):
        if request["kind"] == kind:
            request["responseData"] = dict(data)
            return


def reject_fulfillment_request(fo: Record, reason: str | None, message: str | None) -> None:
    """:raises FulfillmentRefused: no fulfillment request waits on the FO."""
    if fo["requestStatus"] != "SUBMITTED":
        raise FulfillmentRefused(
            "Cannot reject fulfillment request for fulfillment order with request status "
            f"{fo['requestStatus'].lower()}."
        )
    fo["requestStatus"] = "REJECTED"
    _answer(fo, "FULFILLMENT_REQUEST", {"reason": reason, "message": message})
    fulfillment.refresh_order(fo["order"])


def accept_cancellation_request(fo: Record, message: str | None) -> None:
    """:raises FulfillmentRefused: no cancellation request waits on the FO."""
    _check_cancellation_requested(fo, "accept")
    fo["requestStatus"] = "CANCELLATION_ACCEPTED"
    fo["status"] = "CLOSED"
    _answer(fo, "CANCELLATION_REQUEST", {"accepted": True, "message": message})
    fulfillment.refresh_order(fo["order"])


def reject_cancellation_request(fo: Record, message: str | None) -> None:
    """:raises FulfillmentRefused: no cancellation request waits on the FO."""
    _check_cancellation_requested(fo, "reject")
    fo["requestStatus"] = "CANCELLATION_REJECTED"
    _answer(fo, "CANCELLATION_REQUEST", {"accepted": False, "message": message})
    fulfillment.refresh_order(fo["order"])


def _check_cancellation_requested(fo: Record, verb: str) -> None:
    if fo["requestStatus"] != "CANCELLATION_REQUESTED":
        raise FulfillmentRefused(
            f"Cannot {verb} cancellation request for fulfillment order with request status "
            f"{fo['requestStatus'].lower()}."
        )


def last_answer(fo: Record, kind: str) -> Mapping[str, Any] | None:
    """The service's answer to the merchant's latest request of ``kind`` (what the merchant
    sees in the admin)."""
    for request in reversed(fo["merchantRequests"]):
        if request["kind"] == kind:
            answer: Mapping[str, Any] | None = request.get("responseData")
            return answer
    return None
