"""Gelato, order API v4.

Our reference is ``orderReferenceId`` and each item's ``itemReferenceId`` is our line item id.
Gelato documents no uniqueness for ``orderReferenceId``, so ``submit`` searches for it first
(``POST /v4/orders:search``). ``options["order_type"]`` is ``order`` (default) or ``draft``; a
draft found on retry is promoted with PATCH when the option says ``order``. Tracking arrives in
two event kinds, ``order_status_updated`` (``items[].fulfillments[]``) and
``order_item_tracking_code_updated``; both give the same shipment id, so they deduplicate.
Gelato does not sign webhooks: the dashboard sends a static header we choose
(X-Integrator-Token) or our token rides in the URL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

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
    from_iso,
    require,
    text,
)
from integrator.suppliers.errors import SupplierError, SupplierRejected
from integrator.suppliers.printify import split_name

MANUAL_STEPS = (
    "Gelato dashboard → Developer → Webhooks: add {url} for order_status_updated, "
    "order_item_status_updated and order_item_tracking_code_updated; tick 'I want to take "
    "Authorization to this webhook' and set header " + TOKEN_HEADER + " to your callback_secret "
    "(the URL already carries it as ?token=, either works)."
)


class GelatoAdapter(SupplierAdapter):
    KEY = "gelato"
    DEFAULT_BASE_URL = "https://order.gelatoapis.com"
    MAX_REFERENCE_LENGTH = 32  # no documented limit
    RATE_LIMIT_PER_MINUTE = 120  # none published; stay polite
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
        if not isinstance(body, dict):
            return str(status), str(body or "")
        return text(body.get("code") or status), text(body.get("message") or body)

    # --- orders -------------------------------------------------------------------------------

    def submit(self, request: SupplierOrderRequest) -> SupplierOrderResult:
        existing = self._find(request.external_ref)
        if existing is not None:
            return self._result(self._promote_if_wanted(existing), already_existed=True)
        order = self.http.request("POST", "/v4/orders", json=self._order_body(request)).body
        return self._result(order)

    def cancel(self, supplier_order_id: str) -> CancelOutcome:
        try:
            self.http.request("POST", f"/v4/orders/{supplier_order_id}:cancel")
        except SupplierRejected as error:
            if error.status == 404:
                return CancelOutcome(CancelResult.NOT_FOUND, error.reason)
            return CancelOutcome(CancelResult.TOO_LATE, error.reason)  # 409: already printed
        return CancelOutcome(CancelResult.CANCELLED)

    def fetch_status(
        self, *, supplier_order_id: str | None = None, external_ref: str | None = None
    ) -> list[SupplierEvent]:
        if supplier_order_id:
            order = self.http.get(f"/v4/orders/{supplier_order_id}").body
        elif external_ref:
            found = self._find(external_ref)
            if found is None:
                return []
            order = self.http.get(f"/v4/orders/{found['id']}").body
        else:
            raise ValueError("need supplier_order_id or external_ref")
        return self.order_events(order)

    # --- payloads -----------------------------------------------------------------------------

    def is_callback(self, payload: Mapping[str, Any]) -> bool:
        return "event" in payload

    def unwrap_order(self, payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
        # GET /v4/orders/{id} answers the order object itself
        return payload if "id" in payload and "fulfillmentStatus" in payload else None

    def order_events(self, order: Mapping[str, Any]) -> list[SupplierEvent]:
        status = order.get("fulfillmentStatus")
        return list(self._order_events(f"poll:{order['id']}:{status}", order, status))

    def callback_events(self, payload: Mapping[str, Any]) -> list[SupplierEvent]:
        kind = require(payload, "event", str)
        event_id = (
            text(payload.get("id")) or f"{kind}:{payload.get('orderId')}:{payload.get('created')}"
        )
        if kind == "order_status_updated":
            return list(
                self._order_events(event_id, payload, require(payload, "fulfillmentStatus", str))
            )
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
        if kind == "order_item_tracking_code_updated":
            item_ref = require(payload, "itemReferenceId", str)
            return [self._shipment_event(event_id, payload, item_ref, payload)]
        return [self._event(payload, EventKind.OTHER, event_id, kind, with_stage=False)]

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

    def _find(self, external_ref: str) -> dict[str, Any] | None:
        # Search by our reference (UNCERTAIN filter name, see ADR 0004); filter again here so
        # a search that ignored the filter can never hand back someone else's order
        found = self.http.request(
            "POST", "/v4/orders:search", json={"orderReferenceIds": [external_ref], "limit": 10}
        ).body
        for order in (found or {}).get("orders") or []:
            if order.get("orderReferenceId") == external_ref:
                return dict(order)
        return None

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
        body: dict[str, Any] = {
            "orderType": self._order_type,
            "orderReferenceId": request.external_ref,
            "customerReferenceId": request.shop,
            "currency": request.currency,
            "items": [_item(line) for line in request.lines],
            "shippingAddress": _address(request.recipient),
        }
        if request.shipping_method:
            body["shipmentMethodUid"] = request.shipping_method
        return body

    def _order_events(
        self, event_id: str, order: Mapping[str, Any], status: Any
    ) -> Iterator[SupplierEvent]:
        items = order.get("items") or []
        if not items:
            yield self._event(order, EventKind.STATUS, event_id, text(status))
            return
        for item in items:
            item_ref = text(item.get("itemReferenceId"))
            item_status = text(item.get("fulfillmentStatus") or status)
            fulfillments = [f for f in item.get("fulfillments") or [] if f.get("trackingCode")]
            for fulfillment in fulfillments:
                yield self._shipment_event(
                    f"{event_id}:{item_ref}:{fulfillment['trackingCode']}",
                    order,
                    item_ref,
                    fulfillment,
                )
            if not fulfillments or self.stage_for(item_status) != Stage.SHIPPED:
                yield self._event(
                    order,
                    EventKind.STATUS,
                    f"{event_id}:{item_ref}",
                    item_status,
                    line_item_ids=(item_ref,),
                )

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
            supplier_order_id=text(payload.get("orderId") or payload.get("id")) or None,
            external_ref=payload.get("orderReferenceId"),
            stage=self.stage_for(status) if with_stage else None,
            raw_status=status,
            reason=reason,
            line_item_ids=line_item_ids,
            occurred_at=from_iso(payload.get("created")),
        )

    def _shipment_event(
        self, event_id: str, payload: Mapping[str, Any], item_ref: str, tracking: Mapping[str, Any]
    ) -> SupplierEvent:
        order_id = text(payload.get("orderId") or payload.get("id"))
        code = text(tracking.get("trackingCode"))
        return SupplierEvent(
            kind=EventKind.SHIPMENT,
            event_id=event_id,
            supplier_order_id=order_id or None,
            external_ref=payload.get("orderReferenceId"),
            stage=Stage.SHIPPED,
            raw_status="shipped",
            line_item_ids=(item_ref,),
            shipment=ShipmentInfo(
                # the same id from either event kind, so the two deduplicate
                shipment_id=f"{order_id}:{code}",
                carrier=text(tracking.get("shipmentMethodName")),
                tracking_number=code,
                tracking_url=text(tracking.get("trackingUrl")),
                # Gelato does not say how many of the item; 0 = the line's quantity
                items=(ShipmentItem(item_ref, 0),),
            ),
            occurred_at=from_iso(payload.get("created")),
        )


def _item(line: SupplierLine) -> dict[str, Any]:
    return {
        "itemReferenceId": line.line_item_id,
        "productUid": line.spec.identifiers["product_uid"],
        "files": [{"type": f.placement or f.kind, "url": f.url} for f in line.spec.files],
        "quantity": line.quantity,
    }


def _address(address: Address) -> dict[str, str]:
    first, last = split_name(address.name)
    return {
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
