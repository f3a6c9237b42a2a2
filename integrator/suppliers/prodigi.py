"""Prodigi, Print API v4.0.

Idempotency is Prodigi's own: ``idempotencyKey`` (our reference) is remembered forever and a
repeat create answers ``AlreadyExists`` with the original order. ``merchantReference`` carries
the same reference for people, and each item's ``merchantReference`` is our line item id, so
shipments (``shipments[].items[].itemId``) map back to our lines. ``options["shipping_method"]``
(Budget, Standard, Express, Overnight) is the order's ``shippingMethod``.

Callbacks are CloudEvents carrying the full order (the reference's sample nests it as
``data.order``, its "Callback Payload" snippet puts the order in ``data`` itself: both are
read). They are not signed, so our token rides in the callback URL (per order via
``options["callback_url"]`` or set once in the dashboard). ``Complete`` ("all items have
received a shipping notification") moves only the items its shipments name. Cancel answers
with an outcome: Cancelled, FailedToCancel or ActionNotAvailable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrator.domain.iso_dates import parse_iso
from integrator.domain.model import (
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
    CancelOutcome,
    CancelResult,
    CheckResult,
    RegistrationResult,
    SupplierAdapter,
    mapping,
    require,
    text,
)
from integrator.suppliers.errors import CallbackPayloadError, SupplierError, SupplierRejected

SHIPPING_METHODS = ("Budget", "Standard", "Express", "Overnight")
MANUAL_STEPS = (
    "Prodigi dashboard → Settings → Integrations → API: set the callback URL to {url} "
    "(or set options.callback_url so every order carries it)."
)
ACTIVE_DETAIL = ("InProgress", "Complete")


def raw_status(order: Mapping[str, Any]) -> str:
    """One word for Prodigi's stage + details + issues, as keyed in STATUS_MAP."""
    status = mapping(order, "status")
    stage = text(status.get("stage"))
    details = mapping(status, "details")
    issues = [text(i.get("errorCode")) for i in status.get("issues") or []]
    if stage != "InProgress":
        return stage
    if "Error" in details.values():
        return "Error"
    for issue in issues:
        if issue.endswith("RequiresPaymentAuthorisation"):
            return "RequiresPaymentAuthorisation"
        if issue.endswith("ItemUnavailable"):
            return "ItemUnavailable"
    if details.get("shipping") in ACTIVE_DETAIL:
        return "InProgress:shipping"
    if details.get("inProduction") in ACTIVE_DETAIL:
        return "InProgress:inProduction"
    return "InProgress"


class ProdigiAdapter(SupplierAdapter):
    KEY = "prodigi"
    DEFAULT_BASE_URL = "https://api.prodigi.com"
    MAX_REFERENCE_LENGTH = 32  # no documented limit
    RATE_LIMIT_PER_MINUTE = 120  # none published; stay polite
    REROUTABLE_CODES = frozenset({"ItemUnavailable"})
    STATUS_MAP = {
        "Draft": Stage.SUBMITTED,
        "AwaitingPayment": Stage.ON_HOLD,
        "InProgress": Stage.SUBMITTED,
        "InProgress:inProduction": Stage.IN_PRODUCTION,
        "InProgress:shipping": Stage.IN_PRODUCTION,  # shipments carry the shipped items
        "RequiresPaymentAuthorisation": Stage.ON_HOLD,
        "ItemUnavailable": Stage.ON_HOLD,
        "Error": Stage.FAILED,
        "Complete": Stage.SHIPPED,
        "Cancelled": Stage.CANCELLED,
    }

    def auth_headers(self) -> dict[str, str]:
        return {"X-API-Key": str(self.options.get("api_key", ""))}

    def describe_error(self, status: int, body: Any) -> tuple[str, str]:
        if not isinstance(body, dict):
            return str(status), str(body or "")
        data = mapping(body, "data")
        code = text(body.get("outcome") or body.get("statusText") or status)
        return code, text(data.get("message") or body.get("statusText") or body)

    # --- orders -------------------------------------------------------------------------------

    def submit(self, request: SupplierOrderRequest) -> SupplierOrderResult:
        answer = self.http.request("POST", "/v4.0/Orders", json=self._order_body(request)).body
        order = answer["order"]
        status = raw_status(order)
        return SupplierOrderResult(
            supplier_order_id=text(order["id"]),
            raw_status=status,
            stage=self.stage_for(status),
            already_existed=text(answer.get("outcome")).lower() == "alreadyexists",
        )

    def cancel(self, supplier_order_id: str) -> CancelOutcome:
        try:
            answer = self.http.request("POST", f"/v4.0/Orders/{supplier_order_id}/actions/cancel")
        except SupplierRejected as error:
            if error.status == 404:
                return CancelOutcome(CancelResult.NOT_FOUND, error.reason)
            raise
        outcome = text(answer.body.get("outcome"))
        if outcome.lower() == "cancelled":
            return CancelOutcome(CancelResult.CANCELLED)
        return CancelOutcome(CancelResult.TOO_LATE, outcome)

    def fetch_status(
        self, *, supplier_order_id: str | None = None, external_ref: str | None = None
    ) -> list[SupplierEvent]:
        if supplier_order_id:
            order = self.http.get(f"/v4.0/Orders/{supplier_order_id}").body["order"]
            return self.order_events(order)
        if external_ref:
            listed = (
                self.http.get("/v4.0/Orders", params={"merchantReferences": external_ref}).body.get(
                    "orders"
                )
                or []
            )
            # filter again: a list call that ignored the filter must not name another order
            orders = [o for o in listed if o.get("merchantReference") == external_ref]
            if not orders:
                return []
            return self.order_events(orders[0])
        raise ValueError("need supplier_order_id or external_ref")

    # --- payloads -----------------------------------------------------------------------------

    def is_callback(self, payload: Mapping[str, Any]) -> bool:
        # "Callbacks": every callback is a CloudEvent (specversion 1.0, type com.prodigi....)
        return "specversion" in payload or text(payload.get("type")).startswith("com.prodigi.")

    def unwrap_order(self, payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
        # GET /v4.0/Orders/{id}: {outcome: "Ok", order: {...}, traceParent}
        order = payload.get("order") if "order" in payload else payload
        if isinstance(order, dict) and "id" in order and isinstance(order.get("status"), dict):
            return order
        return None

    def order_events(self, order: Mapping[str, Any]) -> list[SupplierEvent]:
        require(order, "id", str)
        return self._order_events(f"poll:{order['id']}:{raw_status(order)}", order, None)

    def callback_events(self, payload: Mapping[str, Any]) -> list[SupplierEvent]:
        require(payload, "type", str)
        event_id = require(payload, "id", str)
        data = require(payload, "data")
        order = data.get("order") if "order" in data else data
        if not isinstance(order, dict):
            raise CallbackPayloadError("callback field 'data.order' missing or not dict")
        require(order, "id", str)
        return self._order_events(event_id, order, parse_iso(payload.get("time")))

    # --- setup --------------------------------------------------------------------------------

    def check_credentials(self) -> CheckResult:
        try:
            self.http.get("/v4.0/Orders", params={"top": 1})
        except SupplierError as error:
            return CheckResult(False, str(error))
        return CheckResult(True, "orders API reachable")

    def register_callback(self, url: str) -> RegistrationResult:
        return RegistrationResult(False, manual_steps=MANUAL_STEPS.format(url=url))

    # --- details ------------------------------------------------------------------------------

    def _order_body(self, request: SupplierOrderRequest) -> dict[str, Any]:
        r = request.recipient
        method = _shipping_method(request.shipping_method or self.options.get("shipping_method"))
        body: dict[str, Any] = {
            "merchantReference": request.external_ref,
            "idempotencyKey": request.external_ref,
            "shippingMethod": method,
            "recipient": {
                "name": r.name,
                "email": r.email or None,
                "phoneNumber": r.phone or None,
                "address": {
                    "line1": r.address1,
                    "line2": r.address2 or None,
                    "postalOrZipCode": r.zip,
                    "countryCode": r.country_code,
                    "townOrCity": r.city,
                    "stateOrCounty": r.province_code or None,
                },
            },
            "items": [_item(line) for line in request.lines],
        }
        if self.options.get("callback_url"):
            body["callbackUrl"] = str(self.options["callback_url"])
        return body

    def _order_events(
        self, event_id: str, order: Mapping[str, Any], occurred: Any
    ) -> list[SupplierEvent]:
        status = raw_status(order)
        issues = mapping(order, "status").get("issues") or []
        common: dict[str, Any] = {
            "supplier_order_id": text(order["id"]),
            "external_ref": order.get("merchantReference"),
            "occurred_at": occurred,
        }
        refs = {
            text(i.get("id")): text(i.get("merchantReference") or i.get("id"))
            for i in order.get("items") or []
        }
        copies = {text(i.get("id")): int(i.get("copies") or 0) for i in order.get("items") or []}
        events = []
        for shipment in order.get("shipments") or []:
            if shipment.get("status") != "Shipped":
                continue
            tracking = mapping(shipment, "tracking")
            carrier = mapping(shipment, "carrier")
            items = tuple(
                ShipmentItem(
                    refs.get(text(i.get("itemId")), text(i.get("itemId"))),
                    copies.get(text(i.get("itemId")), 0),
                )
                for i in shipment.get("items") or []
            )
            events.append(
                SupplierEvent(
                    kind=EventKind.SHIPMENT,
                    event_id=f"{event_id}:{shipment.get('id')}",
                    stage=Stage.SHIPPED,
                    raw_status="Shipped",
                    line_item_ids=tuple(i.line_item_id for i in items),
                    shipment=ShipmentInfo(
                        shipment_id=text(shipment.get("id")),
                        carrier=text(carrier.get("name")),
                        tracking_number=text(tracking.get("number")),
                        tracking_url=text(tracking.get("url")),
                        items=items,
                        shipped_at=parse_iso(shipment.get("dispatchDate")),
                        # a shipment naming no item says nothing about which lines shipped
                        items_pending=not items,
                    ),
                    **common,
                )
            )
        stage: Stage | None = self.stage_for(status)
        line_item_ids: tuple[str, ...] = ()
        reason = "; ".join(text(i.get("description")) for i in issues)
        if status == "Complete":
            # the order-level "Complete" covers exactly the items its shipments name
            line_item_ids = tuple(
                dict.fromkeys(i for e in events if e.shipment for i in e.line_item_ids)
            )
            if not line_item_ids:
                stage = None
                reason = reason or "Complete, but the payload names no shipped items"
        status_event = SupplierEvent(
            kind=EventKind.STATUS,
            event_id=event_id,
            stage=stage,
            raw_status=status,
            reason=reason,
            line_item_ids=line_item_ids,
            **common,
        )
        return [*events, status_event]


def _shipping_method(configured: Any) -> str:
    """Prodigi's spelling of a configured shipping method; Standard when none is set."""
    wanted = text(configured).strip().lower()
    for method in SHIPPING_METHODS:
        if method.lower() == wanted:
            return method
    return "Standard"


def _item(line: SupplierLine) -> dict[str, Any]:
    return {
        "merchantReference": line.line_item_id,
        "sku": line.spec.identifiers["sku"],
        "copies": line.quantity,
        "sizing": line.spec.options.get("sizing", "fillPrintArea"),
        "attributes": {k: v for k, v in line.spec.options.items() if k != "sizing"},
        "assets": [{"printArea": f.placement or "default", "url": f.url} for f in line.spec.files],
    }
