"""Printful, v1 orders API (the stable one) with v1 and v2 webhooks.

Idempotency: our external reference is the order's ``external_id`` (≤32 characters of
letters, digits, dash, underscore; unique per store). ``submit`` looks it up first with
``GET /orders/@{external_id}`` and creates only when Printful has none. Each item's
``external_id`` is our Shopify line item id, so shipments name our items directly.
Drafts or confirmed orders per ``options["confirm"]``. Webhooks v1 are unsigned (we add our
token to the URL); v2 sign the raw body with HMAC-SHA256 (``x-pf-webhook-signature``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

from integrator.domain.model import (
    EventKind,
    PrintFile,
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
    from_iso,
    from_unix,
    header,
    json_object,
    mapping,
    require,
    signature_or_token,
    text,
)
from integrator.suppliers.errors import CallbackPayloadError, SupplierError, SupplierRejected

SIGNATURE_HEADER = "x-pf-webhook-signature"
WEBHOOK_TYPES = (
    "package_shipped",
    "package_returned",
    "order_created",
    "order_updated",
    "order_failed",
    "order_canceled",
    "order_put_hold",
    "order_put_hold_approval",
    "order_remove_hold",
)
# webhook types whose stage is the event itself, not the order status it carries
EVENT_STAGES: Mapping[str, Stage] = {
    "order_failed": Stage.FAILED,
    "order_canceled": Stage.CANCELLED,
    "order_put_hold": Stage.ON_HOLD,
    "order_put_hold_approval": Stage.ON_HOLD,
    "shipment_out_of_stock": Stage.ON_HOLD,
}
EXTERNAL_ID_IN_USE = re.compile(r"OR-13|external[ _]id.*(in use|already)", re.IGNORECASE)
ERROR_CODE = re.compile(r"\b([A-Z]{2}-\d+)\b")


def _hmac_key(secret: str) -> bytes:
    # v2 hands out the secret_key hex-encoded; sign with its bytes (UNCERTAIN, see ADR 0004)
    try:
        return bytes.fromhex(secret)
    except ValueError:
        return secret.encode()


def sign_v2(secret: str, body: bytes) -> str:
    return hmac.new(_hmac_key(secret), body, hashlib.sha256).hexdigest()


class PrintfulAdapter(SupplierAdapter):
    KEY = "printful"
    DEFAULT_BASE_URL = "https://api.printful.com"
    MAX_REFERENCE_LENGTH = 32
    RATE_LIMIT_PER_MINUTE = 120
    # restricted variant, shipping service limited to a region
    REROUTABLE_CODES = frozenset({"OR-6", "OR-9"})
    STATUS_MAP = {
        # order statuses (v1 and v2)
        "draft": Stage.SUBMITTED,  # created unconfirmed on purpose (options confirm: false)
        "pending": Stage.SUBMITTED,
        "failed": Stage.FAILED,
        "canceled": Stage.CANCELLED,
        "inprocess": Stage.IN_PRODUCTION,
        "onhold": Stage.ON_HOLD,
        "partial": Stage.IN_PRODUCTION,  # shipped items arrive as their own shipment events
        "fulfilled": Stage.SHIPPED,
        "archived": Stage.SUBMITTED,  # says nothing about production; never moves items back
        # v2 shipment statuses
        "packaged": Stage.IN_PRODUCTION,
        "shipped": Stage.SHIPPED,
        "returned": Stage.RETURNED,
        "outstock": Stage.ON_HOLD,
        # v2 delivery statuses
        "delivered": Stage.DELIVERED,
        "return_to_sender": Stage.RETURNED,
    }

    def auth_headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.options.get('api_key', '')}"}
        if self.options.get("store_id"):
            headers["X-PF-Store-Id"] = str(self.options["store_id"])
        return headers

    def describe_error(self, status: int, body: Any) -> tuple[str, str]:
        if not isinstance(body, dict):
            return str(status), str(body or "")
        error = mapping(body, "error")
        message = str(error.get("message") or body.get("result") or body.get("title") or "")
        found = ERROR_CODE.search(message)
        return (found.group(1) if found else str(error.get("reason") or status)), message

    # --- orders -------------------------------------------------------------------------------

    def submit(self, request: SupplierOrderRequest) -> SupplierOrderResult:
        existing = self._find(request.external_ref)
        if existing is not None:
            return self._result(self._confirm_if_wanted(existing), already_existed=True)
        try:
            answer = self.http.request(
                "POST",
                "/orders",
                params={"confirm": "true" if self._confirm else "false"},
                json=self._order_body(request),
            )
        except SupplierRejected as error:
            if not EXTERNAL_ID_IN_USE.search(error.reason):
                raise
            # created by a concurrent or crashed attempt between our lookup and this call
            found = self._find(request.external_ref)
            if found is None:
                raise
            return self._result(found, already_existed=True)
        return self._result(answer.body["result"])

    def cancel(self, supplier_order_id: str) -> CancelOutcome:
        try:
            answer = self.http.request("DELETE", f"/orders/{supplier_order_id}")
        except SupplierRejected as error:
            if error.status == 404:
                return CancelOutcome(CancelResult.NOT_FOUND, error.reason)
            return CancelOutcome(CancelResult.TOO_LATE, error.reason)
        status = text(answer.body["result"].get("status"))
        if status == "canceled":
            return CancelOutcome(CancelResult.CANCELLED)
        return CancelOutcome(CancelResult.TOO_LATE, f"order is {status}")

    def fetch_status(
        self, *, supplier_order_id: str | None = None, external_ref: str | None = None
    ) -> list[SupplierEvent]:
        order = self.locate_order(supplier_order_id, external_ref, self._order, self._find)
        if order is None:
            return []
        events = [self.status_event(order)]
        items = _item_refs(order)
        for shipment in order.get("shipments") or []:
            events.append(
                self._shipment_event(f"poll:shipment:{shipment['id']}", order, shipment, items)
            )
        return events

    # --- callbacks ----------------------------------------------------------------------------

    def verify_callback(
        self, headers: Mapping[str, str], body: bytes, query: Mapping[str, str]
    ) -> bool:
        secret = str(self.options.get("webhook_secret") or "")
        return signature_or_token(
            self,
            headers,
            query,
            signature=header(headers, SIGNATURE_HEADER),
            expected_signature=sign_v2(secret, body) if secret else None,
        )

    def parse_callback(self, body: bytes) -> list[SupplierEvent]:
        payload = json_object(body)
        kind = require(payload, "type", str)
        data = require(payload, "data")
        order = mapping(data, "order")
        occurred = from_unix(payload.get("created")) or from_iso(payload.get("occurred_at"))
        stamp = payload.get("created") or payload.get("occurred_at") or ""
        event_id = f"{kind}:{order.get('id', '')}:{stamp}"
        items = _item_refs(order)
        if kind in ("package_shipped", "shipment_sent"):
            shipment = require(data, "shipment")
            return [self._shipment_event(event_id, order, shipment, items, occurred)]
        if kind in ("package_returned", "shipment_returned"):
            shipment = mapping(data, "shipment")
            return [
                self._status_event(
                    event_id,
                    order,
                    Stage.RETURNED,
                    kind,
                    occurred,
                    line_item_ids=_shipped_items(shipment, items),
                )
            ]
        if kind in EVENT_STAGES or kind.startswith("order_"):
            if not order:
                raise CallbackPayloadError(f"{kind} without data.order")
            status = text(order.get("status"))
            stage = EVENT_STAGES.get(kind) or self.stage_for(status)
            raw = kind if kind in EVENT_STAGES else status
            return [
                self._status_event(
                    event_id, order, stage, raw, occurred, reason=text(data.get("reason"))
                )
            ]
        return [SupplierEvent(kind=EventKind.OTHER, event_id=event_id, raw_status=kind)]

    # --- setup --------------------------------------------------------------------------------

    def check_credentials(self) -> CheckResult:
        try:
            store = self.http.get("/store").body["result"]
        except SupplierError as error:
            return CheckResult(False, str(error))
        return CheckResult(True, f"store {store.get('id')} {store.get('name', '')}".strip())

    def register_callback(self, url: str) -> RegistrationResult:
        try:
            self.http.request("POST", "/webhooks", json={"url": url, "types": list(WEBHOOK_TYPES)})
        except SupplierError as error:
            return RegistrationResult(False, detail=str(error))
        return RegistrationResult(True, detail=f"webhook v1 set for {len(WEBHOOK_TYPES)} types")

    # --- details ------------------------------------------------------------------------------

    @property
    def _confirm(self) -> bool:
        return bool(self.options.get("confirm", True))

    def _order(self, order_id: str) -> dict[str, Any]:
        order: dict[str, Any] = self.http.get(f"/orders/{order_id}").body["result"]
        return order

    def _find(self, external_ref: str) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = self.http.get(f"/orders/@{external_ref}").body["result"]
        except SupplierRejected as error:
            if error.status == 404:
                return None
            raise
        return result

    def _confirm_if_wanted(self, order: dict[str, Any]) -> dict[str, Any]:
        if order.get("status") != "draft" or not self._confirm:
            return order
        confirmed: dict[str, Any] = self.http.request(
            "POST", f"/orders/{order['id']}/confirm"
        ).body["result"]
        return confirmed

    def _result(
        self, order: dict[str, Any], *, already_existed: bool = False
    ) -> SupplierOrderResult:
        status = text(order.get("status"))
        return SupplierOrderResult(
            supplier_order_id=text(order["id"]),
            raw_status=status,
            stage=self.stage_for(status),
            already_existed=already_existed,
        )

    def _order_body(self, request: SupplierOrderRequest) -> dict[str, Any]:
        r = request.recipient
        body: dict[str, Any] = {
            "external_id": request.external_ref,
            "recipient": {
                "name": r.name,
                "company": r.company,
                "address1": r.address1,
                "address2": r.address2,
                "city": r.city,
                "state_code": r.province_code,
                "country_code": r.country_code,
                "zip": r.zip,
                "phone": r.phone,
                "email": r.email,
            },
            "items": [_item(line) for line in request.lines],
        }
        if request.shipping_method:
            body["shipping"] = request.shipping_method
        return body

    def _status_event(
        self,
        event_id: str,
        order: Mapping[str, Any],
        stage: Stage,
        raw_status: str,
        occurred: Any,
        *,
        reason: str = "",
        line_item_ids: tuple[str, ...] = (),
    ) -> SupplierEvent:
        return SupplierEvent(
            kind=EventKind.STATUS,
            event_id=event_id,
            supplier_order_id=text(order.get("id")) or None,
            external_ref=order.get("external_id"),
            stage=stage,
            raw_status=raw_status,
            reason=reason,
            line_item_ids=line_item_ids,
            occurred_at=occurred,
        )

    def _shipment_event(
        self,
        event_id: str,
        order: Mapping[str, Any],
        shipment: Mapping[str, Any],
        items: Mapping[str, str],
        occurred: Any = None,
    ) -> SupplierEvent:
        shipped = tuple(
            ShipmentItem(
                items.get(text(i.get("item_id")), text(i.get("item_id"))),
                int(i.get("quantity") or 0),
            )
            for i in shipment.get("items") or []
        )
        info = ShipmentInfo(
            shipment_id=text(shipment.get("id")),
            carrier=text(shipment.get("carrier")),  # v2 webhooks carry no carrier
            tracking_number=text(shipment.get("tracking_number")),
            tracking_url=text(shipment.get("tracking_url")),
            items=shipped,
            shipped_at=from_unix(shipment.get("shipped_at"))
            or from_iso(shipment.get("shipped_at")),
        )
        return SupplierEvent(
            kind=EventKind.SHIPMENT,
            event_id=event_id,
            supplier_order_id=text(order.get("id")) or None,
            external_ref=order.get("external_id"),
            stage=Stage.SHIPPED,
            raw_status="reshipment" if shipment.get("reshipment") else "shipped",
            line_item_ids=tuple(i.line_item_id for i in shipped),
            shipment=info,
            occurred_at=occurred,
        )


def _item(line: SupplierLine) -> dict[str, Any]:
    ids = line.spec.identifiers
    item: dict[str, Any] = {"external_id": line.line_item_id, "quantity": line.quantity}
    if ids.get("sync_variant_id"):
        item["sync_variant_id"] = int(ids["sync_variant_id"])
    else:
        item["variant_id"] = int(ids["variant_id"])
        item["files"] = [_file(f) for f in line.spec.files]
    if line.spec.options:
        item["options"] = [{"id": k, "value": v} for k, v in line.spec.options.items()]
    if line.title:
        item["name"] = line.title
    return item


def _file(print_file: PrintFile) -> dict[str, str]:
    kind = print_file.kind if print_file.kind != "default" else (print_file.placement or "default")
    return {"type": kind, "url": print_file.url}


def _item_refs(order: Mapping[str, Any]) -> dict[str, str]:
    """Printful item id → our line item id (the item's external_id)."""
    return {
        text(item.get("id")): text(item.get("external_id") or item.get("id"))
        for item in order.get("items") or []
    }


def _shipped_items(shipment: Mapping[str, Any], items: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(
        items.get(text(i.get("item_id")), text(i.get("item_id")))
        for i in shipment.get("items") or []
    )
