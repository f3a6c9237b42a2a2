"""Gelato, order API v4 (``gelato_v4_api_docs.md``, a verbatim copy of
https://dashboard.gelato.com/docs/; section names below are that document's).

Our reference is ``orderReferenceId`` and each item's ``itemReferenceId`` is our line item id.
Gelato documents no uniqueness for ``orderReferenceId``, so ``submit`` searches for it first
("Search orders": ``orderReferenceIds``). ``options["order_type"]`` is ``order`` (default) or
``draft``; a draft found on retry is promoted with PATCH when the option says ``order``.

Gelato may split one order into connected orders that share our reference ("Split orders":
``connectedOrderIds``); a status poll reads every one of them. Tracking lives in three places:

- ``GET /v4/orders/{id}`` → ``shipment.packages[]`` ``{trackingCode, trackingUrl,
  orderItemIds}`` (Gelato's item ids, mapped to our references through ``items[].id``);
- ``order_status_updated`` → ``items[].fulfillments[]``;
- ``order_item_tracking_code_updated`` → one item only: :meth:`complete_events` reads the
  order to find every item in that parcel.

A parcel is one shipment, ``<gelato order id>:<tracking code>`` from all three, so they
deduplicate, and it names every item it carries (Shopify gets one fulfillment per tracking
number). Gelato retries a webhook only 3 times ("Webhooks → Retries"), so the silent-supplier
poll is the safety net. Gelato does not sign webhooks: the dashboard sends a static header we
choose (X-Integrator-Token) or our token rides in the URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from integrator.domain.iso_dates import parse_iso
from integrator.domain.model import (
    Address,
    EventKind,
    ShipmentInfo,
    ShipmentItem,
    SupplierEvent,
    SupplierLine,
    SupplierOrderRequest,
    SupplierOrderResult,
)
from integrator.domain.stages import Stage
from integrator.suppliers.base import (
    TOKEN_HEADER,
    CancelOutcome,
    CancelResult,
    CheckResult,
    RegistrationResult,
    SupplierAdapter,
    mapping,
    require,
    text,
)
from integrator.suppliers.errors import SupplierError, SupplierRejected, SupplierRequestIncomplete
from integrator.suppliers.printify import split_name

MANUAL_STEPS = (
    "Gelato dashboard → Developer → Webhooks: add {url} for order_status_updated, "
    "order_item_status_updated and order_item_tracking_code_updated; tick 'I want to take "
    "Authorization to this webhook' and set header " + TOKEN_HEADER + " to your callback_secret "
    "(the URL already carries it as ?token=, either works)."
)
# "Create order → ShippingAddressObject": required fields and maximum lengths
REQUIRED_ADDRESS = ("firstName", "lastName", "addressLine1", "city", "postCode", "country", "email")
ADDRESS_MAX_LENGTH = {
    "firstName": 25,
    "lastName": 25,
    "companyName": 60,
    "addressLine1": 35,
    "addressLine2": 35,
    "city": 30,
    "postCode": 15,
    "state": 35,
    "phone": 25,
}
# "state ... Required for requests if the address is in one of these countries: Australia,
# Canada or United States."
STATE_REQUIRED_IN = frozenset({"US", "CA", "AU"})
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")
# a split order lists itself and its siblings; more than this is not a split order we made
MAX_CONNECTED_ORDERS = 20
TRACKING_EVENT = "order_item_tracking_code_updated"


class GelatoAdapter(SupplierAdapter):
    KEY = "gelato"
    DEFAULT_BASE_URL = "https://order.gelatoapis.com"
    MAX_REFERENCE_LENGTH = 32  # no documented limit
    RATE_LIMIT_PER_MINUTE = 120  # none published; stay polite
    # orderReferenceId has no documented uniqueness: submit searches, then creates
    LOOKUP_CAN_MISS_A_CREATE_IN_PROGRESS = True
    # "Order statuses" (every documented word), plus on_hold/not_connected seen in 3P code
    STATUS_MAP = {
        "draft": Stage.SUBMITTED,
        "created": Stage.SUBMITTED,
        "uploading": Stage.SUBMITTED,
        "passed": Stage.SUBMITTED,
        "pending_approval": Stage.ON_HOLD,
        "pending_personalization": Stage.ON_HOLD,
        "on_hold": Stage.ON_HOLD,
        "not_connected": Stage.ON_HOLD,
        "digitizing": Stage.IN_PRODUCTION,
        "in_production": Stage.IN_PRODUCTION,
        "printed": Stage.IN_PRODUCTION,
        "shipped": Stage.SHIPPED,
        "in_transit": Stage.SHIPPED,
        "delivered": Stage.DELIVERED,
        "returned": Stage.RETURNED,
        "failed": Stage.FAILED,
        "canceled": Stage.CANCELLED,
    }

    def auth_headers(self) -> dict[str, str]:
        return {"X-API-KEY": str(self.options.get("api_key", ""))}

    def describe_error(self, status: int, body: Any) -> tuple[str, str]:
        # the one published error body: {"code": "invalid_request_...", "message": "..."}
        if not isinstance(body, dict):
            return str(status), str(body or "")
        return text(body.get("code") or status), text(body.get("message") or body)

    # --- orders -------------------------------------------------------------------------------

    def submit(self, request: SupplierOrderRequest) -> SupplierOrderResult:
        body = self._order_body(request)  # raises before any call when the address is short
        existing = self._find(request.external_ref)
        if existing is not None:
            return self._result(self._promote_if_wanted(existing), already_existed=True)
        order = self.http.request("POST", "/v4/orders", json=body).body
        return self._result(order)

    def cancel(self, supplier_order_id: str) -> CancelOutcome:
        try:
            self.http.request("POST", f"/v4/orders/{supplier_order_id}:cancel")
        except SupplierRejected as error:
            if error.status == 404:
                return CancelOutcome(CancelResult.NOT_FOUND, error.reason)
            if error.status == 409:
                # "Cancel order → Response Statuses": 409 once an item is printed
                return CancelOutcome(
                    CancelResult.TOO_LATE,
                    f"Gelato refused to cancel order {supplier_order_id} (409): printing has "
                    f"started{_said(error.reason)}",
                )
            return CancelOutcome(
                CancelResult.TOO_LATE,
                f"Gelato refused to cancel order {supplier_order_id} "
                f"({error.status}){_said(error.reason)}",
            )
        return CancelOutcome(CancelResult.CANCELLED)

    def fetch_status(
        self, *, supplier_order_id: str | None = None, external_ref: str | None = None
    ) -> list[SupplierEvent]:
        order = self.locate_order(supplier_order_id, external_ref, self._order, self._found_order)
        if order is None:
            return []
        events: list[SupplierEvent] = []
        for part in self._with_connected(order):
            events += self.order_events(part)
        return events

    # --- payloads -----------------------------------------------------------------------------

    def is_callback(self, payload: Mapping[str, Any]) -> bool:
        return "event" in payload

    def unwrap_order(self, payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
        # GET /v4/orders/{id} answers the order object itself ("Get order → Response")
        return payload if "id" in payload and "fulfillmentStatus" in payload else None

    def order_events(self, order: Mapping[str, Any]) -> list[SupplierEvent]:
        """One order's parcels and item stages; a poll reads its connected orders too."""
        return self._order_events(order, f"poll:{order['id']}")

    def callback_events(self, payload: Mapping[str, Any]) -> list[SupplierEvent]:
        kind = require(payload, "event", str)
        event_id = (
            text(payload.get("id")) or f"{kind}:{payload.get('orderId')}:{payload.get('created')}"
        )
        if kind == "order_status_updated":
            require(payload, "fulfillmentStatus", str)
            return self._order_events(payload, event_id)
        if kind == "order_item_status_updated":
            status = require(payload, "status", str)
            return [
                self._event(
                    payload,
                    EventKind.STATUS,
                    event_id,
                    status,
                    line_item_ids=(text(payload.get("itemReferenceId")),),
                    reason=text(payload.get("comment")),
                )
            ]
        if kind == TRACKING_EVENT:
            item_ref = require(payload, "itemReferenceId", str)
            return [
                shipment_event(
                    payload, event_id, payload, (ShipmentItem(item_ref, 0),), TRACKING_EVENT
                )
            ]
        return [self._event(payload, EventKind.OTHER, event_id, kind, with_stage=False)]

    def complete_events(self, events: Sequence[SupplierEvent]) -> list[SupplierEvent]:
        """A tracking-code event names one item; its parcel may carry more. Read the order
        once and name every item of the package with that tracking code."""
        orders: dict[str, dict[str, Any] | None] = {}
        completed = []
        for event in events:
            if event.raw_status == TRACKING_EVENT and event.shipment and event.supplier_order_id:
                order_id = event.supplier_order_id
                if order_id not in orders:
                    orders[order_id] = self._order_or_none(order_id)
                event = _with_package_items(event, orders[order_id])
            completed.append(event)
        return completed

    # --- setup --------------------------------------------------------------------------------

    def check_credentials(self) -> CheckResult:
        try:
            self.http.request("POST", "/v4/orders:search", json={"limit": 1})
        except SupplierError as error:
            return CheckResult(False, str(error))
        return CheckResult(True, "order API reachable")

    def register_callback(self, url: str) -> RegistrationResult:
        return RegistrationResult(False, manual_steps=MANUAL_STEPS.format(url=url))

    # --- details ------------------------------------------------------------------------------

    def _order(self, order_id: str) -> dict[str, Any]:
        order: dict[str, Any] = self.http.get(f"/v4/orders/{order_id}").body
        return order

    def _order_or_none(self, order_id: str) -> dict[str, Any] | None:
        try:
            return self._order(order_id)
        except SupplierRejected:
            return None

    def _find(self, external_ref: str) -> dict[str, Any] | None:
        # "Search orders → Request": orderReferenceIds; filtered again here, so a search
        # that ignored the filter can never hand back someone else's order
        found = self.http.request(
            "POST", "/v4/orders:search", json={"orderReferenceIds": [external_ref], "limit": 10}
        ).body
        for order in (found or {}).get("orders") or []:
            if order.get("orderReferenceId") == external_ref:
                return dict(order)
        return None

    def _found_order(self, external_ref: str) -> dict[str, Any] | None:
        """The full order (search answers a summary) for a poll by reference."""
        found = self._find(external_ref)
        return None if found is None else self._order(text(found["id"]))

    def _with_connected(self, order: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The order, then each connected order that carries the same reference."""
        yield order
        seen = {text(order.get("id"))}
        for connected_id in (order.get("connectedOrderIds") or [])[:MAX_CONNECTED_ORDERS]:
            connected_id = text(connected_id)
            if connected_id in seen:
                continue
            seen.add(connected_id)
            connected = self._order_or_none(connected_id)
            if connected and connected.get("orderReferenceId") == order.get("orderReferenceId"):
                yield connected

    def _promote_if_wanted(self, order: dict[str, Any]) -> dict[str, Any]:
        if order.get("orderType") != "draft" or self._order_type != "order":
            return order
        promoted: dict[str, Any] = self.http.request(
            "PATCH", f"/v4/orders/{order['id']}", json={"orderType": "order"}
        ).body
        return promoted

    @property
    def _order_type(self) -> str:
        return "draft" if self.options.get("order_type") == "draft" else "order"

    def _result(
        self, order: Mapping[str, Any], *, already_existed: bool = False
    ) -> SupplierOrderResult:
        status = text(order.get("fulfillmentStatus"))
        return SupplierOrderResult(
            text(order["id"]), status, self.stage_for(status), already_existed=already_existed
        )

    def _order_body(self, request: SupplierOrderRequest) -> dict[str, Any]:
        address = shipping_address(request.recipient)
        problems = address_problems(address)
        if problems:
            raise SupplierRequestIncomplete(
                "Gelato needs " + "; ".join(problems) + " (Create order → ShippingAddressObject)",
                supplier=self.name,
            )
        body: dict[str, Any] = {
            "orderType": self._order_type,
            "orderReferenceId": request.external_ref,
            "customerReferenceId": request.shop,
            "currency": request.currency,
            "items": [_item(line) for line in request.lines],
            "shippingAddress": address,
        }
        if request.shipping_method:
            body["shipmentMethodUid"] = request.shipping_method
        return body

    def _order_events(self, order: Mapping[str, Any], event_id: str) -> list[SupplierEvent]:
        """Shipments, then each item's stage, of an order or an ``order_status_updated`` body.

        An item shipped in a parcel the same payload names needs no status event of its own."""
        status = text(order.get("fulfillmentStatus"))
        items = [item for item in order.get("items") or [] if isinstance(item, dict)]
        if not items:
            return [self._event(order, EventKind.STATUS, f"{event_id}:{status}", status)]
        shipments = [*package_shipments(order, event_id), *fulfillment_shipments(order, event_id)]
        shipped = {item.line_item_id for event in shipments for item in _items(event)}
        events = list(_unique_shipments(shipments))
        for item in items:
            item_ref = text(item.get("itemReferenceId"))
            item_status = text(item.get("fulfillmentStatus") or status)
            if item_ref in shipped and self.stage_for(item_status) == Stage.SHIPPED:
                continue
            events.append(
                self._event(
                    order,
                    EventKind.STATUS,
                    f"{event_id}:{item_ref}:{item_status}",
                    item_status,
                    line_item_ids=(item_ref,),
                )
            )
        return events

    def _event(
        self,
        payload: Mapping[str, Any],
        kind: EventKind,
        event_id: str,
        status: str,
        *,
        line_item_ids: tuple[str, ...] = (),
        reason: str = "",
        with_stage: bool = True,
    ) -> SupplierEvent:
        return SupplierEvent(
            kind=kind,
            event_id=event_id,
            supplier_order_id=_order_id(payload) or None,
            external_ref=payload.get("orderReferenceId"),
            stage=self.stage_for(status) if with_stage else None,
            raw_status=status,
            reason=reason,
            line_item_ids=line_item_ids,
            occurred_at=parse_iso(payload.get("created")),
        )


def _said(reason: str) -> str:
    return f"; Gelato said: {reason}" if reason else ""


def _order_id(payload: Mapping[str, Any]) -> str:
    """``orderId`` in webhooks (their ``id`` is the event's), ``id`` in an order."""
    return text(payload.get("orderId") if "event" in payload else payload.get("id"))


def package_shipments(order: Mapping[str, Any], event_id: str) -> Iterator[SupplierEvent]:
    """One shipment per package with a tracking code ("Get order → PackageObject")."""
    references = {
        text(item.get("id")): text(item.get("itemReferenceId"))
        for item in order.get("items") or []
        if isinstance(item, dict)
    }
    shipment = mapping(order, "shipment")
    for package in shipment.get("packages") or []:
        code = text(package.get("trackingCode"))
        if not code:
            continue
        ids = [text(i) for i in package.get("orderItemIds") or []]
        tracking = {
            "trackingCode": code,
            "trackingUrl": package.get("trackingUrl"),
            "shipmentMethodName": shipment.get("shipmentMethodName"),
        }
        yield shipment_event(
            order,
            f"{event_id}:{code}",
            tracking,
            tuple(ShipmentItem(references[i], 0) for i in ids if i in references),
            "shipped",
            # items Gelato names that are not in the order: never guess, the pipeline flags it
            unknown=tuple(i for i in ids if i not in references),
        )


def fulfillment_shipments(order: Mapping[str, Any], event_id: str) -> Iterator[SupplierEvent]:
    """One shipment per tracking code in ``items[].fulfillments[]`` (``order_status_updated``),
    naming every item that carries it."""
    parcels: dict[str, tuple[Mapping[str, Any], list[str]]] = {}
    for item in order.get("items") or []:
        if not isinstance(item, dict):
            continue
        for fulfillment in item.get("fulfillments") or []:
            code = text(fulfillment.get("trackingCode"))
            if code:
                refs = parcels.setdefault(code, (fulfillment, []))[1]
                refs.append(text(item.get("itemReferenceId")))
    for code, (fulfillment, refs) in parcels.items():
        items = tuple(ShipmentItem(ref, 0) for ref in dict.fromkeys(refs))
        yield shipment_event(order, f"{event_id}:{code}", fulfillment, items, "shipped")


def shipment_event(
    payload: Mapping[str, Any],
    event_id: str,
    tracking: Mapping[str, Any],
    items: tuple[ShipmentItem, ...],
    raw_status: str,
    *,
    unknown: tuple[str, ...] = (),
) -> SupplierEvent:
    order_id = _order_id(payload)
    code = text(tracking.get("trackingCode"))
    return SupplierEvent(
        kind=EventKind.SHIPMENT,
        event_id=event_id,
        supplier_order_id=order_id or None,
        external_ref=payload.get("orderReferenceId"),
        stage=Stage.SHIPPED,
        raw_status=raw_status,
        line_item_ids=tuple(item.line_item_id for item in items),
        shipment=ShipmentInfo(
            # the same id from every source, so the three deduplicate
            shipment_id=f"{order_id}:{code}",
            carrier=text(tracking.get("shipmentMethodName")),
            tracking_number=code,
            tracking_url=text(tracking.get("trackingUrl")),
            # Gelato does not say how many of each item: 0 = the line's quantity
            items=items,
            supplier_skus=unknown,
        ),
        occurred_at=parse_iso(payload.get("created")),
    )


def _items(event: SupplierEvent) -> tuple[ShipmentItem, ...]:
    return event.shipment.items if event.shipment else ()


def _unique_shipments(events: list[SupplierEvent]) -> Iterator[SupplierEvent]:
    """A GET order may show a parcel in both ``shipment.packages`` and fulfillments."""
    seen: set[str] = set()
    for event in events:
        if event.dedupe_key not in seen:
            seen.add(event.dedupe_key)
            yield event


def _with_package_items(event: SupplierEvent, order: Mapping[str, Any] | None) -> SupplierEvent:
    assert event.shipment is not None
    if not order:
        return event
    for package_event in package_shipments(order, event.event_id):
        if package_event.shipment and package_event.shipment.shipment_id == (
            event.shipment.shipment_id
        ):
            items = {i.line_item_id: i for i in (*event.shipment.items, *_items(package_event))}
            shipment = replace(event.shipment, items=tuple(items.values()))
            return replace(event, shipment=shipment, line_item_ids=tuple(items))
    return event


def _item(line: SupplierLine) -> dict[str, Any]:
    return {
        "itemReferenceId": line.line_item_id,
        "productUid": line.spec.identifiers["product_uid"],
        "files": [{"type": f.placement or f.kind, "url": f.url} for f in line.spec.files],
        "quantity": line.quantity,
    }


def shipping_address(address: Address) -> dict[str, str]:
    """Gelato's ShippingAddressObject; empty optional fields are left out."""
    first, last = split_name(address.name)
    fields = {
        "firstName": first,
        "lastName": last,
        "companyName": address.company,
        "addressLine1": address.address1,
        "addressLine2": address.address2,
        "state": address.province_code,
        "city": address.city,
        "postCode": address.zip,
        "country": address.country_code,
        "email": address.email,
        "phone": address.phone,
    }
    return {key: value.strip() for key, value in fields.items() if value and value.strip()}


def address_problems(address: Mapping[str, str]) -> list[str]:
    """What Gelato's documentation says it refuses in this address, one phrase per field."""
    problems = [
        f"shippingAddress.{name} (missing)" for name in REQUIRED_ADDRESS if not address.get(name)
    ]
    country = address.get("country", "")
    if country and not COUNTRY_PATTERN.match(country):
        problems.append(f"shippingAddress.country as two capital letters (got {country!r})")
    if country in STATE_REQUIRED_IN and not address.get("state"):
        problems.append(f"shippingAddress.state (missing; required for {country})")
    for name, limit in ADDRESS_MAX_LENGTH.items():
        if len(address.get(name, "")) > limit:
            problems.append(f"shippingAddress.{name} of at most {limit} characters")
    return problems
