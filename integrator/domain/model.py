"""Value objects shared by enrichment, routing, supplier adapters and the pipeline.

Shopify ids are kept as their numeric ("legacy") form in strings, e.g. ``"820982911946154508"``;
GraphQL GIDs are reduced to that with :func:`legacy_id`. Fulfillment-order ids stay GIDs because
they are only ever sent back to the GraphQL API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from integrator.domain.stages import Stage


def legacy_id(value: str | int) -> str:
    """Return the numeric id of a Shopify GID (``gid://shopify/Order/42`` → ``"42"``)."""
    text = str(value)
    return text.rsplit("/", 1)[-1] if text.startswith("gid://") else text


@dataclass(frozen=True)
class Address:
    name: str = ""
    company: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    province_code: str = ""
    zip: str = ""
    country_code: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class OrderLine:
    """One Shopify line item with what routing needs (from the enrichment query)."""

    line_item_id: str
    quantity: int
    title: str = ""
    sku: str | None = None
    variant_id: str | None = None
    product_id: str | None = None
    variant_title: str | None = None
    product_type: str | None = None
    vendor: str | None = None
    tags: tuple[str, ...] = ()
    variant_options: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, str] = field(default_factory=dict)
    # "namespace.key" -> value, for the product's metafields that config asks about
    metafields: Mapping[str, str] = field(default_factory=dict)
    requires_shipping: bool = True
    is_gift_card: bool = False
    # quantity not yet fulfilled; 0 means someone already fulfilled it
    fulfillable_quantity: int | None = None


@dataclass(frozen=True)
class FulfillmentOrderLine:
    id: str  # gid://shopify/FulfillmentOrderLineItem/...
    line_item_id: str
    remaining_quantity: int
    total_quantity: int


@dataclass(frozen=True)
class FulfillmentHold:
    reason: str  # FulfillmentHoldReason: HIGH_RISK_OF_FRAUD, AWAITING_PAYMENT, OTHER, ...
    notes: str = ""


@dataclass(frozen=True)
class FulfillmentOrder:
    """A Shopify fulfillment order: which location fulfils which quantities, and whether now."""

    id: str  # gid://shopify/FulfillmentOrder/...
    status: str  # OPEN, IN_PROGRESS, ON_HOLD, SCHEDULED, CLOSED, CANCELLED, INCOMPLETE
    lines: tuple[FulfillmentOrderLine, ...] = ()
    request_status: str = "UNSUBMITTED"
    supported_actions: tuple[str, ...] = ()
    location_id: str = ""  # numeric id of the assigned location ("" when Shopify hides it)
    location_name: str = ""
    # the location belongs to a fulfillment service (an app such as Printful, or ours)
    fulfillment_service_location: bool = False
    holds: tuple[FulfillmentHold, ...] = ()
    fulfill_at: datetime | None = None  # when a SCHEDULED order becomes due
    delivery_method: str = ""  # DeliveryMethodType: SHIPPING, PICK_UP, LOCAL, RETAIL, NONE, ...


@dataclass(frozen=True)
class FulfillmentOrderLineRef:
    """Where some quantity of a line item sits in Shopify: kept so that the tracking sync can
    name the fulfillment-order lines without reading the order again."""

    fulfillment_order_id: str
    line_id: str
    location_id: str
    quantity: int


@dataclass(frozen=True)
class EnrichedOrder:
    """A Shopify order as read by the enrichment query: the source of truth for routing."""

    shop: str
    order_id: str
    name: str
    lines: tuple[OrderLine, ...]
    shipping_address: Address | None = None
    email: str = ""
    currency: str = ""
    financial_status: str = ""  # PAID, PENDING, ... (GraphQL displayFinancialStatus)
    cancelled: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    tags: tuple[str, ...] = ()
    fulfillment_orders: tuple[FulfillmentOrder, ...] = ()
    # False when the input said nothing about fulfillment orders (a REST webhook body): then
    # routing cannot apply the fulfillment-order decisions
    fulfillment_orders_known: bool = False
    test: bool = False  # Shopify's Order.test: placed with a test gateway
    processed_at: datetime | None = None
    # when Shopify's first fulfillment of the order was created (to spot automatic fulfilment)
    first_fulfilled_at: datetime | None = None


# --- routing output -------------------------------------------------------------------------


class Disposition(StrEnum):
    ROUTE = "route"  # goes to a supplier
    HOLD = "hold"  # needs a person
    IGNORE = "ignore"  # merchant fulfils it (unmatched: ignore)
    SKIP = "skip"  # not ours: needs no shipping, already fulfilled, or assigned elsewhere
    WAIT = "wait"  # ours, but Shopify holds it or has scheduled it: routed when it opens


@dataclass(frozen=True)
class PrintFile:
    placement: str
    url: str
    kind: str = "default"  # supplier file type, e.g. Printful's "default", "preview"


@dataclass(frozen=True)
class SupplierItemSpec:
    """What one line item is at one supplier, from the catalog plus personalisation."""

    identifiers: Mapping[str, str]  # e.g. {"variant_id": "4017"} or {"product_uid": "..."}
    files: tuple[PrintFile, ...] = ()
    options: Mapping[str, str] = field(default_factory=dict)
    packing_note: str | None = None


@dataclass(frozen=True)
class ItemDecision:
    """The routing decision for one line item, and why."""

    line_item_id: str
    disposition: Disposition
    reason: str
    supplier: str | None = None
    rule: str | None = None
    decoration: str | None = None
    decoration_source: str | None = None
    catalog_key: str | None = None
    spec: SupplierItemSpec | None = None
    # suppliers still to try, in order, if this one rejects the item at runtime
    fallbacks: tuple[str, ...] = ()
    # how many to make now (the open quantity in fulfillment orders we may fulfil); None when
    # the input said nothing about fulfillment orders (then: the line's quantity)
    quantity: int | None = None
    # the open fulfillment-order lines that quantity sits in
    fulfillment_order_lines: tuple[FulfillmentOrderLineRef, ...] = ()


# --- supplier side --------------------------------------------------------------------------


@dataclass(frozen=True)
class SupplierLine:
    line_item_id: str  # sent to the supplier as the item's external id where it allows
    quantity: int
    spec: SupplierItemSpec
    title: str = ""
    sku: str | None = None


@dataclass(frozen=True)
class SupplierOrderRequest:
    """One supplier order: every item of one Shopify order that goes to one supplier."""

    external_ref: str  # deterministic from shop, order and supplier
    shop: str
    order_id: str
    order_name: str
    recipient: Address
    lines: tuple[SupplierLine, ...]
    currency: str = "USD"
    shipping_method: str | None = None


@dataclass(frozen=True)
class SupplierOrderResult:
    supplier_order_id: str
    raw_status: str
    stage: Stage
    # True when the supplier already had an order with our external reference
    already_existed: bool = False


@dataclass(frozen=True)
class ShipmentItem:
    line_item_id: str
    quantity: int


@dataclass(frozen=True)
class ShipmentInfo:
    shipment_id: str
    carrier: str
    tracking_number: str
    tracking_url: str = ""
    # empty means "every item of the supplier order"
    items: tuple[ShipmentItem, ...] = ()
    shipped_at: datetime | None = None
    # the supplier's own item names when it does not echo our line item ids (Printify SKUs);
    # SupplierAdapter.resolve_shipment_items turns them into ``items``
    supplier_skus: tuple[str, ...] = ()
    # True when the payload does not say which items shipped (Printful v2 shipment_sent):
    # SupplierAdapter.complete_events fetches them; until then the shipment moves no line
    items_pending: bool = False


class EventKind(StrEnum):
    STATUS = "status"  # an order- or item-level stage change
    SHIPMENT = "shipment"  # items shipped with tracking
    TRACKING_UPDATE = "tracking_update"  # new tracking for an existing shipment
    DELIVERED = "delivered"
    OTHER = "other"  # understood, carries no stage change (e.g. estimate updated)


@dataclass(frozen=True)
class SupplierEvent:
    """One supplier callback or poll result, in our vocabulary."""

    kind: EventKind
    event_id: str  # the supplier's event id, or a stable id derived from the payload
    supplier_order_id: str | None = None
    external_ref: str | None = None
    stage: Stage | None = None
    raw_status: str = ""
    reason: str = ""
    # the line items this event is about; empty means the whole supplier order
    line_item_ids: tuple[str, ...] = ()
    shipment: ShipmentInfo | None = None
    occurred_at: datetime | None = None
    # the supplier lifted its hold (Printful order_remove_hold): held items go back to the
    # main stage they had reached, then ``stage`` applies as usual
    releases_hold: bool = False

    @property
    def hold(self) -> str | None:
        """ "placed", "released" or None: what this event does to a supplier hold."""
        if self.releases_hold:
            return "released"
        if self.stage is Stage.ON_HOLD:
            return "placed"
        return None

    @property
    def dedupe_key(self) -> str:
        """Shipment events dedupe on the shipment id and its tracking number, everything else
        on the event id."""
        if self.shipment is not None and self.kind == EventKind.SHIPMENT:
            # a corrected tracking number for the same parcel is news, a repeat is not
            return f"shipment:{self.shipment.shipment_id}:{self.shipment.tracking_number}"
        return f"event:{self.event_id}"
