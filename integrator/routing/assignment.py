"""Which quantities of each line item are ours to make now, according to Shopify's fulfillment
orders (FOs). Pure: it reads an EnrichedOrder, it asks nobody.

Shopify decides, through FOs, which location fulfils each quantity of a line item and whether
it may be fulfilled yet. The integrator makes only what sits in *open* FOs at a location it may
fulfil for (:class:`Ownership`); quantities in held or scheduled FOs there wait; quantities at
other locations (the merchant's warehouse, another app's fulfillment service) are not ours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from integrator.domain.model import (
    EnrichedOrder,
    FulfillmentOrder,
    FulfillmentOrderLineRef,
    OrderLine,
)

OPEN_STATUSES = frozenset({"OPEN", "IN_PROGRESS"})
WAITING_STATUSES = frozenset({"ON_HOLD", "SCHEDULED"})
# a fulfillment service works on an FO once it accepted the merchant's request (and keeps
# working when it refused to cancel it)
ACCEPTED_STATUSES = frozenset({"ACCEPTED", "CANCELLATION_REJECTED"})
PICKUP_METHODS = frozenset({"PICK_UP", "RETAIL", "NONE"})
HOLD_REASONS: Mapping[str, str] = {
    "AWAITING_PAYMENT": "awaiting payment",
    "HIGH_RISK_OF_FRAUD": "high risk of fraud (under review)",
    "INCORRECT_ADDRESS": "incorrect address",
    "INVENTORY_OUT_OF_STOCK": "inventory out of stock",
    "UNKNOWN_DELIVERY_DATE": "unknown delivery date",
    "ONLINE_STORE_POST_PURCHASE_CROSS_SELL": "a post-purchase offer is still open",
    "AWAITING_RETURN_ITEMS": "awaiting return items (exchange)",
    "OTHER": "held by the merchant",
}


class FulfillmentMode(StrEnum):
    """How the integrator is connected to a shop (docs/adr/0002-shopify-fulfillment-mode.md)."""

    MERCHANT_MANAGED = "merchant-managed"  # fulfils FOs at the merchant's own locations
    FULFILLMENT_SERVICE = "fulfillment-service"  # fulfils FOs assigned to its own location


@dataclass(frozen=True)
class Ownership:
    """Which fulfillment orders the integrator may fulfil for a shop.

    Merchant-managed: FOs at the merchant's own locations, all of them unless ``locations``
    names some (names or numeric ids). Fulfillment service: FOs at our service's location
    (``locations`` holds its id; without one, the location named ``service_name``).
    """

    mode: FulfillmentMode = FulfillmentMode.MERCHANT_MANAGED
    locations: tuple[str, ...] = ()
    service_name: str = ""
    # fulfillment service: routing's what-if before answering, a submitted request counts as
    # accepted (fulfillment_requests.answer_fulfillment_request)
    accepting: bool = False

    def owns(self, fo: FulfillmentOrder) -> bool:
        if self.mode is FulfillmentMode.FULFILLMENT_SERVICE:
            if not fo.fulfillment_service_location:
                return False
            if self.locations:
                return _names_location(self.locations, fo)
            return _folded(fo.location_name) == _folded(self.service_name)
        if fo.fulfillment_service_location:
            return False
        return not self.locations or _names_location(self.locations, fo)

    def why_not(self, fo: FulfillmentOrder) -> str:
        """Why a fulfillment order is not ours, naming its location."""
        where = fo.location_name or "a location this app cannot see"
        if fo.fulfillment_service_location:
            return f"assigned to {where}, another fulfillment service's location"
        if self.mode is FulfillmentMode.FULFILLMENT_SERVICE:
            return f"assigned to {where}, the merchant's own location (not our fulfillment service)"
        return f"assigned to {where}, which is not one of shopify.locations"

    def routable(self, fo: FulfillmentOrder) -> bool:
        """An FO of ours that may be worked on now."""
        if fo.status not in OPEN_STATUSES:
            return False
        if self.mode is FulfillmentMode.FULFILLMENT_SERVICE:
            submitted = self.accepting and fo.request_status == "SUBMITTED"
            return submitted or fo.request_status in ACCEPTED_STATUSES
        return True


def _folded(text: str) -> str:
    return text.strip().casefold()


def _names_location(locations: Iterable[str], fo: FulfillmentOrder) -> bool:
    wanted = {_folded(name) for name in locations}
    return fo.location_id in wanted or _folded(fo.location_name) in wanted


@dataclass(frozen=True)
class LineAssignment:
    """Where the unfulfilled quantity of one line item sits, as far as this app can see."""

    line_item_id: str
    open_quantity: int = 0  # ours, in FOs that may be fulfilled now
    open_lines: tuple[FulfillmentOrderLineRef, ...] = ()
    waiting_quantity: int = 0  # ours, in held or scheduled FOs (or not yet requested)
    waiting_reason: str = ""
    elsewhere: tuple[tuple[str, int], ...] = ()  # (why it is not ours, quantity)
    hidden_quantity: int = 0  # unfulfilled, but in no FO this app can see
    fulfilled_quantity: int = 0  # Shopify counts it fulfilled (by anyone)
    pickup_location: str | None = None  # the open quantity is collected, not shipped
    notes: tuple[str, ...] = field(default=())

    @property
    def elsewhere_quantity(self) -> int:
        return sum(quantity for _, quantity in self.elsewhere)


def assign_lines(order: EnrichedOrder, ownership: Ownership) -> dict[str, LineAssignment]:
    """Split every line item's unfulfilled quantity into open, waiting, elsewhere and hidden."""
    return {line.line_item_id: _assign(line, order, ownership) for line in order.lines}


def _assign(line: OrderLine, order: EnrichedOrder, ownership: Ownership) -> LineAssignment:
    open_refs: list[FulfillmentOrderLineRef] = []
    waiting = 0
    waiting_reasons: list[str] = []
    elsewhere: dict[str, int] = {}
    pickup: str | None = None
    for fo in order.fulfillment_orders:
        remaining = sum(
            fo_line.remaining_quantity
            for fo_line in fo.lines
            if fo_line.line_item_id == line.line_item_id
        )
        if remaining <= 0 or fo.status not in OPEN_STATUSES | WAITING_STATUSES:
            continue
        if not ownership.owns(fo):
            reason = ownership.why_not(fo)
            elsewhere[reason] = elsewhere.get(reason, 0) + remaining
        elif ownership.routable(fo):
            open_refs.extend(_refs(fo, line.line_item_id))
            if fo.delivery_method in PICKUP_METHODS:
                pickup = fo.location_name or "the store"
        else:
            waiting += remaining
            waiting_reasons.append(waiting_reason(fo))
    open_quantity = sum(ref.quantity for ref in open_refs)
    unfulfilled = line.fulfillable_quantity if line.fulfillable_quantity is not None else 0
    visible = open_quantity + waiting + sum(elsewhere.values())
    return LineAssignment(
        line_item_id=line.line_item_id,
        open_quantity=open_quantity,
        open_lines=tuple(open_refs),
        waiting_quantity=waiting,
        waiting_reason="; ".join(dict.fromkeys(waiting_reasons)),
        elsewhere=tuple(elsewhere.items()),
        hidden_quantity=max(0, unfulfilled - visible),
        fulfilled_quantity=max(0, line.quantity - unfulfilled)
        if line.fulfillable_quantity is not None
        else 0,
        pickup_location=pickup,
    )


def _refs(fo: FulfillmentOrder, line_item_id: str) -> list[FulfillmentOrderLineRef]:
    return [
        FulfillmentOrderLineRef(fo.id, fo_line.id, fo.location_id, fo_line.remaining_quantity)
        for fo_line in fo.lines
        if fo_line.line_item_id == line_item_id and fo_line.remaining_quantity > 0
    ]


def waiting_reason(fo: FulfillmentOrder) -> str:
    """Why a fulfillment order of ours cannot be worked on yet, in Shopify's words."""
    where = f" at {fo.location_name}" if fo.location_name else ""
    if fo.status == "ON_HOLD":
        holds = [
            HOLD_REASONS.get(hold.reason, hold.reason.replace("_", " ").lower())
            + (f" ({hold.notes})" if hold.notes else "")
            for hold in fo.holds
        ]
        return f"on hold in Shopify{where}: {'; '.join(holds) or 'no reason given'}"
    if fo.status == "SCHEDULED":
        when = fo.fulfill_at.strftime("%Y-%m-%d %H:%M UTC") if fo.fulfill_at else "a later date"
        return f"scheduled in Shopify{where}: due {when}"
    if fo.request_status in ("UNSUBMITTED", "REJECTED"):
        return (
            f"the merchant has not requested fulfillment{where} yet"
            if fo.request_status == "UNSUBMITTED"
            else f"fulfillment request{where} rejected: waiting for the merchant"
        )
    if fo.request_status == "SUBMITTED":
        return f"fulfillment requested{where}: being answered"
    if fo.request_status == "CANCELLATION_REQUESTED":
        return f"the merchant asked to cancel the fulfillment request{where}"
    return f"fulfillment order{where} is {fo.status.lower()} ({fo.request_status.lower()})"
