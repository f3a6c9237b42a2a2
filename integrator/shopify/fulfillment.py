"""Tracking back to Shopify: one fulfillment per shipment, tracking updates, stage mirroring.

Works on merchant-managed fulfillment orders (see docs/adr/0002-shopify-fulfillment-mode.md).
Everything a shipment can run into on Shopify's side comes back as a named outcome; only
infrastructure trouble (``ShopifyUnavailable``, ``ShopifyThrottledOut``, ``ShopifyAuthError``)
is raised, for the job runner to retry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from integrator.domain.model import legacy_id
from integrator.shopify.client import AdminClient
from integrator.shopify.enrichment import order_gid
from integrator.shopify.errors import ShopifyUserErrors

FULFILLABLE_STATUSES = frozenset({"OPEN", "IN_PROGRESS"})
NOT_YET_STATUSES = frozenset({"SCHEDULED", "ON_HOLD"})
DEAD_FULFILLMENT_STATUSES = frozenset({"CANCELLED", "ERROR", "FAILURE"})
STAGE_NAMESPACE = "integrator"
STAGE_KEY = "production_stage"
STAGE_TAG_PREFIX = "production:"


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
class FulfillmentResult:
    outcome: FulfillmentOutcome
    fulfillment_id: str | None = None
    reason: str = ""
    # every fulfillment made when the items sat at more than one location (one per location)
    fulfillment_ids: tuple[str, ...] = field(default=())

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


def create_fulfillment(
    client: AdminClient,
    shop: str,
    order_id: str,
    items: Sequence[tuple[str, int]],
    tracking: Tracking | tuple[str, str, str],
    notify_customer: bool,
    existing_fulfillment_id: str | None = None,
) -> FulfillmentResult:
    """Create one Shopify fulfillment for exactly ``items`` ((line item id, quantity) pairs).

    Safe to repeat: a fulfillment already carrying this tracking number (or the remembered
    ``existing_fulfillment_id``) is reused instead of creating a second one.

    :raises ShopifyUnavailable, ShopifyThrottledOut, ShopifyAuthError: retry the job later.
    """
    tracking = Tracking(*tracking)
    if not any(quantity > 0 for _, quantity in items):
        return FulfillmentResult(FulfillmentOutcome.REJECTED, reason="no item quantity to fulfil")
    order = client.execute(shop, "order_fulfillment_state", {"orderId": order_gid(order_id)}).get(
        "order"
    )
    if order is None:
        return FulfillmentResult(FulfillmentOutcome.REJECTED, reason=f"order {order_id} not found")
    existing = _existing_fulfillment(order["fulfillments"], tracking, existing_fulfillment_id)
    if existing is not None:
        return FulfillmentResult(
            FulfillmentOutcome.ALREADY_EXISTS, existing, "Shopify already has it"
        )
    try:
        by_location = _allocate(order["fulfillmentOrders"]["nodes"], items)
    except _Shortfall as shortfall:
        return FulfillmentResult(shortfall.outcome, reason=str(shortfall))
    created: list[str] = []
    for allocation in by_location.values():
        try:
            created.append(_fulfillment_create(client, shop, allocation, tracking, notify_customer))
        except ShopifyUserErrors as refused:
            return FulfillmentResult(
                FulfillmentOutcome.REJECTED,
                created[0] if created else None,
                str(refused),
                tuple(created),
            )
    return FulfillmentResult(FulfillmentOutcome.CREATED, created[0], "", tuple(created))


def _existing_fulfillment(
    fulfillments: Iterable[Mapping[str, Any]], tracking: Tracking, remembered_id: str | None
) -> str | None:
    live = [f for f in fulfillments if f.get("status") not in DEAD_FULFILLMENT_STATUSES]
    for fulfillment in live:
        if remembered_id and legacy_id(fulfillment["id"]) == legacy_id(remembered_id):
            return str(fulfillment["id"])
    for fulfillment in live:
        numbers = {info.get("number") for info in fulfillment.get("trackingInfo") or ()}
        if tracking.number and tracking.number in numbers:
            return str(fulfillment["id"])
    return None


def _allocate(
    fulfillment_orders: Sequence[Mapping[str, Any]], items: Sequence[tuple[str, int]]
) -> dict[str, dict[str, dict[str, int]]]:
    """Map (line item, quantity) pairs onto open fulfillment-order lines.

    Returns location id → fulfillment order id → fulfillment-order line id → quantity.
    """
    if not fulfillment_orders:
        raise _Shortfall(
            FulfillmentOutcome.NOT_READY, "Shopify has not created fulfillment orders yet"
        )
    open_lines = _open_lines(fulfillment_orders)
    allocation: dict[str, dict[str, dict[str, int]]] = {}
    for line_item_id, quantity in items:
        wanted = quantity
        for line in open_lines.get(legacy_id(line_item_id), []):
            take = min(wanted, line.remaining - _taken(allocation, line))
            if take > 0:
                lines = allocation.setdefault(line.location_id, {}).setdefault(
                    line.fulfillment_order_id, {}
                )
                lines[line.line_id] = lines.get(line.line_id, 0) + take
                wanted -= take
        if wanted > 0:
            raise _shortfall(
                fulfillment_orders, legacy_id(line_item_id), quantity - wanted, quantity
            )
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


def _taken(allocation: Mapping[str, Mapping[str, Mapping[str, int]]], line: _OpenLine) -> int:
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
) -> str:
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
    return str(payload["fulfillment"]["id"])


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
        return FulfillmentResult(FulfillmentOutcome.REJECTED, fulfillment_id, str(refused))
    return FulfillmentResult(FulfillmentOutcome.UPDATED, str(payload["fulfillment"]["id"]))


def _fulfillment_gid(fulfillment_id: str) -> str:
    return (
        fulfillment_id
        if fulfillment_id.startswith("gid://")
        else f"gid://shopify/Fulfillment/{fulfillment_id}"
    )


def mirror_stage(client: AdminClient, shop: str, order_id: str, stage: str) -> None:
    """Show the order's production stage in the Shopify admin: a metafield and one tag.

    The metafield ``integrator.production_stage`` holds the stage; the tag ``production:<stage>``
    replaces any previous ``production:`` tag (added first, so the order always shows one).

    :raises ShopifyUserErrors: when Shopify refuses the metafield or the tags.
    """
    gid = order_gid(order_id)
    stage_value = str(stage)
    metafield = {
        "ownerId": gid,
        "namespace": STAGE_NAMESPACE,
        "key": STAGE_KEY,
        "type": "single_line_text_field",
        "value": stage_value,
    }
    client.mutate(shop, "metafields_set", {"metafields": [metafield]}, "metafieldsSet")
    order = client.execute(shop, "order_tags", {"orderId": gid}).get("order") or {}
    tags = set(order.get("tags") or ())
    wanted = STAGE_TAG_PREFIX + stage_value
    if wanted not in tags:
        client.mutate(shop, "tags_add", {"id": gid, "tags": [wanted]}, "tagsAdd")
    stale = sorted(t for t in tags if t.startswith(STAGE_TAG_PREFIX) and t != wanted)
    if stale:
        client.mutate(shop, "tags_remove", {"id": gid, "tags": stale}, "tagsRemove")
