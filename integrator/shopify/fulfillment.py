"""Tracking back to Shopify: one fulfillment per shipment, tracking updates, stage mirroring.

Works on the fulfillment orders that are ours (docs/adr/0002-shopify-fulfillment-mode.md).
Everything a shipment can run into on Shopify's side comes back as a named outcome; only
infrastructure trouble (``ShopifyUnavailable``, ``ShopifyThrottledOut``, ``ShopifyAuthError``)
is raised, for the job runner to retry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from integrator.domain.iso_dates import parse_iso
from integrator.domain.model import FulfillmentOrderLineRef, legacy_id
from integrator.domain.stages import Stage
from integrator.shopify.client import AdminClient
from integrator.shopify.enrichment import all_fulfillment_orders, order_gid
from integrator.shopify.errors import ShopifyUserErrors, UserError

FULFILLABLE_STATUSES = frozenset({"OPEN", "IN_PROGRESS"})
NOT_YET_STATUSES = frozenset({"SCHEDULED", "ON_HOLD"})
DEAD_FULFILLMENT_STATUSES = frozenset({"CANCELLED", "ERROR", "FAILURE"})
STAGE_TAG_PREFIX = "production:"
STAGE_TAGS = frozenset(STAGE_TAG_PREFIX + stage.value for stage in Stage)
# stages Shopify shows by itself (fulfillment and delivery status, cancellation): no tag
SHOWN_BY_SHOPIFY = frozenset(
    stage.value for stage in (Stage.SHIPPED, Stage.DELIVERED, Stage.RETURNED, Stage.CANCELLED)
)


class Tracking(NamedTuple):
    number: str
    company: str = ""
    url: str = ""

    def as_input(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (("number", self.number), ("company", self.company), ("url", self.url))
            if v
        }


class FulfillmentOutcome(StrEnum):
    CREATED = "created"
    ALREADY_EXISTS = "already_exists"  # a retry: Shopify already has this shipment
    UPDATED = "updated"  # tracking changed on an existing fulfillment
    NOT_READY = "not_ready"  # fulfillment orders not there yet, scheduled or on hold: retry later
    CLOSED_ELSEWHERE = "closed_elsewhere"  # someone else fulfilled or closed it: flag
    REJECTED = "rejected"  # Shopify refused (userErrors, order gone): flag with the reason


@dataclass(frozen=True)
class MadeFulfillment:
    """A fulfillment Shopify made for a shipment, and exactly what it fulfilled."""

    id: str
    items: tuple[tuple[str, int], ...]  # (line item id, quantity)
    order_updated_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "items": [{"line_item_id": li, "quantity": qty} for li, qty in self.items],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MadeFulfillment:
        items = tuple(
            (str(entry["line_item_id"]), int(entry["quantity"])) for entry in data["items"]
        )
        return cls(str(data["id"]), items)


@dataclass(frozen=True)
class ShipmentToFulfil:
    """What the tracking sync knows about one shipment before asking Shopify anything."""

    order_id: str
    items: tuple[tuple[str, int], ...]  # (line item id, quantity) the supplier shipped
    tracking: Tracking
    made: tuple[MadeFulfillment, ...] = ()  # fulfillments already made for it
    # fulfillment orders of a fulfillmentCreate whose answer never came
    uncertain: tuple[str, ...] = ()
    # where each line's quantity sat when it was routed (from enrichment): tried first
    hints: Mapping[str, tuple[FulfillmentOrderLineRef, ...]] = field(default_factory=dict)
    # fulfillments other shipments of the order made (never taken for this one)
    others: frozenset[str] = frozenset()

    def remaining(self) -> dict[str, int]:
        """What is left to fulfil: shipped minus what our fulfillments already hold."""
        left = dict(_summed(self.items))
        for made in self.made:
            for line_item_id, quantity in made.items:
                left[line_item_id] = left.get(line_item_id, 0) - quantity
        return {line: quantity for line, quantity in left.items() if quantity > 0}


@dataclass(frozen=True)
class FulfillmentResult:
    outcome: FulfillmentOutcome
    made: tuple[MadeFulfillment, ...] = ()  # made (or found) by this sync
    reason: str = ""

    @property
    def fulfillment_id(self) -> str | None:
        return self.made[0].id if self.made else None

    @property
    def is_synced(self) -> bool:
        return self.outcome in (
            FulfillmentOutcome.CREATED,
            FulfillmentOutcome.ALREADY_EXISTS,
            FulfillmentOutcome.UPDATED,
        )

    @property
    def should_retry(self) -> bool:
        return self.outcome == FulfillmentOutcome.NOT_READY


class FulfillmentJournal(Protocol):
    """Where the sync writes down, between two calls to Shopify, what it is about to do and
    what it did (the pipeline keeps it on the shipment row)."""

    def attempting(self, fulfillment_order_ids: tuple[str, ...]) -> None: ...

    def made(self, fulfillment: MadeFulfillment) -> None: ...

    def settled(self) -> None: ...


class MemoryJournal:
    """A journal kept in memory (a single process, or tests): feed it back with
    :meth:`replay` before the next sync of the same shipment."""

    def __init__(self) -> None:
        self.fulfillments: list[MadeFulfillment] = []
        self.uncertain: tuple[str, ...] = ()

    def attempting(self, fulfillment_order_ids: tuple[str, ...]) -> None:
        self.uncertain = fulfillment_order_ids

    def made(self, fulfillment: MadeFulfillment) -> None:
        if all(known.id != fulfillment.id for known in self.fulfillments):
            self.fulfillments.append(fulfillment)
        self.uncertain = ()

    def settled(self) -> None:
        self.uncertain = ()

    def replay(self, shipment: ShipmentToFulfil) -> ShipmentToFulfil:
        return replace(shipment, made=tuple(self.fulfillments), uncertain=self.uncertain)


# Plan: location id → fulfillment order id → fulfillment-order line id → quantity
Plan = dict[str, dict[str, dict[str, int]]]


@dataclass(frozen=True)
class _OpenLine:
    fulfillment_order_id: str
    location_id: str
    line_id: str
    remaining: int


class _Shortfall(Exception):
    def __init__(self, outcome: FulfillmentOutcome, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome


def sync_fulfillment(
    client: AdminClient,
    shop: str,
    shipment: ShipmentToFulfil,
    notify_customer: bool,
    journal: FulfillmentJournal,
) -> FulfillmentResult:
    """Make Shopify's fulfillments hold exactly what the shipment shipped, once.

    What is done is what our remembered fulfillments hold, line by line and quantity by
    quantity, never a tracking number alone. A create whose answer was lost is looked up on
    its fulfillment orders before anything is sent again. Lines are first sent to the
    fulfillment-order lines enrichment saw them in, without reading the order; only when
    Shopify refuses those (moved, split, held, closed) are the fulfillment orders read.

    :raises ShopifyUnavailable, ShopifyThrottledOut, ShopifyAuthError: retry the job later
        (a create that may have happened stays in the journal as uncertain).
    """
    made: list[MadeFulfillment] = []
    if shipment.uncertain:
        made = _adopt_lost(client, shop, shipment, journal)
        shipment = replace(shipment, made=shipment.made + tuple(made), uncertain=())
    if not shipment.remaining():
        outcome = FulfillmentOutcome.CREATED if made else FulfillmentOutcome.ALREADY_EXISTS
        return FulfillmentResult(outcome, tuple(made), "" if made else "Shopify already has it")
    plan = _plan_from_hints(shipment.remaining(), shipment.hints)
    read_again = plan is not None  # hints may be stale: on refusal, read and try once more
    try:
        if plan is None:
            plan = _allocate(read_open_lines(client, shop, shipment.order_id), shipment.remaining())
        while True:
            try:
                made += _create_each(
                    client, shop, plan, shipment.tracking, notify_customer, journal
                )
                return FulfillmentResult(FulfillmentOutcome.CREATED, tuple(made))
            except _Refused as refused:
                made += refused.made
                shipment = replace(shipment, made=shipment.made + tuple(refused.made))
                if not read_again:
                    return FulfillmentResult(
                        FulfillmentOutcome.REJECTED, tuple(made), refused.reason
                    )
            read_again = False
            plan = _allocate(read_open_lines(client, shop, shipment.order_id), shipment.remaining())
    except _Shortfall as shortfall:
        return FulfillmentResult(shortfall.outcome, tuple(made), str(shortfall))


class _Refused(Exception):
    def __init__(self, reason: str, made: list[MadeFulfillment]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.made = made


def _create_each(
    client: AdminClient,
    shop: str,
    plan: Plan,
    tracking: Tracking,
    notify_customer: bool,
    journal: FulfillmentJournal,
) -> list[MadeFulfillment]:
    """One fulfillmentCreate per location (Shopify wants one location per fulfillment)."""
    made: list[MadeFulfillment] = []
    for allocation in plan.values():
        journal.attempting(tuple(allocation))
        try:
            created = _fulfillment_create(client, shop, allocation, tracking, notify_customer)
        except ShopifyUserErrors as refused:
            journal.settled()
            raise _Refused(str(refused), made) from refused
        journal.made(created)
        made.append(created)
    return made


def _adopt_lost(
    client: AdminClient, shop: str, shipment: ShipmentToFulfil, journal: FulfillmentJournal
) -> list[MadeFulfillment]:
    """Fulfillments on the uncertain fulfillment orders that are this shipment's lost creates:
    our tracking number, no other shipment's, and only lines and quantities still owed."""
    data = client.execute(shop, "fulfillment_order_fulfillments", {"ids": list(shipment.uncertain)})
    owed = shipment.remaining()
    known = set(shipment.others) | {made.id for made in shipment.made}
    adopted: list[MadeFulfillment] = []
    for fo in data.get("nodes") or ():
        for node in ((fo or {}).get("fulfillments") or {}).get("nodes", ()):
            candidate = _made_from_node(node)
            numbers = {info.get("number") for info in node.get("trackingInfo") or ()}
            if (
                candidate.id in known
                or node.get("status") in DEAD_FULFILLMENT_STATUSES
                or shipment.tracking.number not in numbers
                or any(owed.get(line, 0) < qty for line, qty in _summed(candidate.items))
            ):
                continue
            for line, qty in candidate.items:
                owed[line] -= qty
            known.add(candidate.id)
            journal.made(candidate)
            adopted.append(candidate)
    journal.settled()
    return adopted


def _plan_from_hints(
    remaining: Mapping[str, int], hints: Mapping[str, tuple[FulfillmentOrderLineRef, ...]]
) -> Plan | None:
    """Spread each line over the fulfillment-order lines it was routed from; None when a line
    has no hint (then the fulfillment orders must be read)."""
    plan: Plan = {}
    for line_item_id, quantity in remaining.items():
        wanted = quantity
        for ref in hints.get(line_item_id, ()):
            take = min(wanted, ref.quantity)
            if take <= 0:
                continue
            lines = plan.setdefault(ref.location_id, {}).setdefault(ref.fulfillment_order_id, {})
            lines[ref.line_id] = lines.get(ref.line_id, 0) + take
            wanted -= take
        if wanted > 0:
            return None
    return plan


def read_open_lines(client: AdminClient, shop: str, order_id: str) -> list[dict[str, Any]]:
    """Every fulfillment order of the order (all pages, all lines), as GraphQL nodes.

    :raises _Shortfall: REJECTED when Shopify has no such order (any more).
    """
    data = client.execute(
        shop, "order_fulfillment_orders", {"orderId": order_gid(order_id), "after": None}
    )
    node = data.get("order")
    if node is None:
        raise _Shortfall(FulfillmentOutcome.REJECTED, f"order {order_id} not found")
    return all_fulfillment_orders(client, shop, node)


def _allocate(fulfillment_orders: Sequence[Mapping[str, Any]], items: Mapping[str, int]) -> Plan:
    """Map (line item, quantity) pairs onto open fulfillment-order lines.

    :raises _Shortfall: NOT_READY (no FOs yet, held, scheduled) or CLOSED_ELSEWHERE.
    """
    if not fulfillment_orders:
        raise _Shortfall(
            FulfillmentOutcome.NOT_READY, "Shopify has not created fulfillment orders yet"
        )
    open_lines = _open_lines(fulfillment_orders)
    allocation: Plan = {}
    for line_item_id, quantity in items.items():
        wanted = quantity
        for line in open_lines.get(line_item_id, []):
            take = min(wanted, line.remaining - _taken(allocation, line))
            if take > 0:
                lines = allocation.setdefault(line.location_id, {}).setdefault(
                    line.fulfillment_order_id, {}
                )
                lines[line.line_id] = lines.get(line.line_id, 0) + take
                wanted -= take
        if wanted > 0:
            raise _shortfall(fulfillment_orders, line_item_id, quantity - wanted, quantity)
    return allocation


def _open_lines(fulfillment_orders: Sequence[Mapping[str, Any]]) -> dict[str, list[_OpenLine]]:
    lines: dict[str, list[_OpenLine]] = {}
    for fo in fulfillment_orders:
        if fo["status"] not in FULFILLABLE_STATUSES:
            continue
        location = ((fo.get("assignedLocation") or {}).get("location") or {}).get("id") or ""
        for line in fo["lineItems"]["nodes"]:
            if int(line["remainingQuantity"]) > 0:
                key = legacy_id(line["lineItem"]["id"])
                lines.setdefault(key, []).append(
                    _OpenLine(fo["id"], location, line["id"], int(line["remainingQuantity"]))
                )
    return lines


def _taken(allocation: Plan, line: _OpenLine) -> int:
    return (
        allocation.get(line.location_id, {}).get(line.fulfillment_order_id, {}).get(line.line_id, 0)
    )


def _shortfall(
    fulfillment_orders: Sequence[Mapping[str, Any]], line_item_id: str, found: int, wanted: int
) -> _Shortfall:
    statuses = {
        fo["status"]
        for fo in fulfillment_orders
        for line in fo["lineItems"]["nodes"]
        if legacy_id(line["lineItem"]["id"]) == line_item_id
    }
    where = ", ".join(sorted(statuses)) or "in no fulfillment order"
    detail = f"line item {line_item_id}: {found} of {wanted} open to fulfil ({where})"
    if statuses & NOT_YET_STATUSES or not statuses:
        return _Shortfall(FulfillmentOutcome.NOT_READY, detail)
    return _Shortfall(FulfillmentOutcome.CLOSED_ELSEWHERE, detail)


def _fulfillment_create(
    client: AdminClient,
    shop: str,
    allocation: Mapping[str, Mapping[str, int]],
    tracking: Tracking,
    notify_customer: bool,
) -> MadeFulfillment:
    fulfillment: dict[str, Any] = {
        "notifyCustomer": notify_customer,
        "lineItemsByFulfillmentOrder": [
            {
                "fulfillmentOrderId": fo_id,
                "fulfillmentOrderLineItems": [
                    {"id": line_id, "quantity": qty} for line_id, qty in lines.items()
                ],
            }
            for fo_id, lines in allocation.items()
        ],
    }
    if tracking.number:
        fulfillment["trackingInfo"] = tracking.as_input()
    payload = client.mutate(
        shop, "fulfillment_create", {"fulfillment": fulfillment}, "fulfillmentCreate"
    )
    node = payload["fulfillment"]
    made = _made_from_node(node)
    updated = ((node.get("order") or {}).get("updatedAt")) or None
    return replace(made, order_updated_at=parse_iso(updated))


def _made_from_node(node: Mapping[str, Any]) -> MadeFulfillment:
    items = [
        (legacy_id(entry["lineItem"]["id"]), int(entry["quantity"]))
        for entry in (node.get("fulfillmentLineItems") or {}).get("nodes", ())
    ]
    return MadeFulfillment(str(node["id"]), tuple(_summed(items)))


def _summed(items: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    totals: dict[str, int] = {}
    for line_item_id, quantity in items:
        totals[str(line_item_id)] = totals.get(str(line_item_id), 0) + int(quantity)
    return list(totals.items())


def update_tracking(
    client: AdminClient,
    shop: str,
    fulfillment_id: str,
    tracking: Tracking | tuple[str, str, str],
    notify: bool,
) -> FulfillmentResult:
    """Replace the tracking of an existing fulfillment (a supplier re-labelled the parcel)."""
    tracking = Tracking(*tracking)
    variables = {
        "fulfillmentId": _fulfillment_gid(fulfillment_id),
        "trackingInfoInput": tracking.as_input(),
        "notifyCustomer": notify,
    }
    try:
        payload = client.mutate(
            shop, "fulfillment_tracking_info_update", variables, "fulfillmentTrackingInfoUpdate"
        )
    except ShopifyUserErrors as refused:
        return FulfillmentResult(FulfillmentOutcome.REJECTED, reason=str(refused))
    updated = MadeFulfillment(str(payload["fulfillment"]["id"]), ())
    return FulfillmentResult(FulfillmentOutcome.UPDATED, (updated,))


def _fulfillment_gid(fulfillment_id: str) -> str:
    return (
        fulfillment_id
        if fulfillment_id.startswith("gid://")
        else f"gid://shopify/Fulfillment/{fulfillment_id}"
    )


def mirror_stage(
    client: AdminClient,
    shop: str,
    order_id: str,
    stage: str,
    shown: str | None = None,
    *,
    thorough: bool = False,
) -> None:
    """Show the order's production stage in the Shopify admin as one tag, ``production:<stage>``.

    Only what Shopify cannot show itself is mirrored: from shipping on, its own fulfillment
    status says where the order is, so the tag is removed rather than swapped. Nothing is read
    and only what changes is written (docs/adr/0009-shopify-points-per-order.md): the first
    stage is one ``tagsAdd`` (10 points), a change one request that adds the new tag and then
    removes the other production tags (20), shipping one ``tagsRemove`` (10).

    ``shown`` is the stage last mirrored (None: no production tag was ever added); ``thorough``
    (a retry, whose earlier attempt may have added a tag before it failed) removes every other
    production tag whatever ``shown`` says.

    :raises ShopifyUserErrors: when Shopify refuses the tags.
    """
    gid = order_gid(order_id)
    wanted = None if stage in SHOWN_BY_SHOPIFY else STAGE_TAG_PREFIX + stage
    others = sorted(tag for tag in STAGE_TAGS if tag != wanted)
    clean = thorough or (shown is not None and shown not in SHOWN_BY_SHOPIFY)
    if wanted and clean:
        data = client.execute(
            shop, "stage_tag_swap", {"id": gid, "add": [wanted], "remove": others}
        )
        _refuse_user_errors("stage_tag_swap", data, ("tagsAdd", "tagsRemove"))
    elif wanted:
        client.mutate(shop, "tags_add", {"id": gid, "tags": [wanted]}, "tagsAdd")
    elif clean:
        client.mutate(shop, "tags_remove", {"id": gid, "tags": others}, "tagsRemove")


def _refuse_user_errors(operation: str, data: Mapping[str, Any], fields: Sequence[str]) -> None:
    errors = tuple(
        UserError(tuple(str(part) for part in (e.get("field") or ())), str(e["message"]))
        for name in fields
        for e in (data.get(name) or {}).get("userErrors") or ()
    )
    if errors:
        raise ShopifyUserErrors(operation, errors)
