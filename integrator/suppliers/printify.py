"""Printify, REST v1, orders of one shop (``options["shop_id"]``).

Printify documents no uniqueness for ``external_id``, so ``submit`` looks for our reference
among the shop's most recent orders before creating one. New orders sit "on-hold" for the
shop's approval window; ``options["send_to_production"]`` sends them at once. Shipment
webhooks name shipped items by SKU only: :meth:`resolve_shipment_items` maps them back to our
lines. Webhook signature (``X-Pfy-Signature: sha256=<hex>``) is checked when present; it is
third-party knowledge, so our token in the URL is always accepted too (ADR 0004).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
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
    CancelOutcome,
    CancelResult,
    CheckResult,
    RegistrationResult,
    SupplierAdapter,
    constant_time_equal,
    from_iso,
    header,
    hmac_sha256_hex,
    mapping,
    require,
    text,
)
from integrator.suppliers.errors import SupplierError, SupplierRejected

SIGNATURE_HEADER = "X-Pfy-Signature"
SIGNATURE_FORM = re.compile(r"^sha256=([0-9a-fA-F]{64})$")
WEBHOOK_TOPICS = (
    "order:created",
    "order:updated",
    "order:sent-to-production",
    "order:shipment:created",
    "order:shipment:delivered",
)
# Printify cannot look an order up by our reference: submit pages back (newest first, 10 per
# page) through the orders made within LOOKUP_WINDOW, which covers any retry of ours; the page
# cap only bounds a runaway listing.
LOOKUP_WINDOW = timedelta(days=7)
LOOKUP_MAX_PAGES = 500
PAGE_SIZE = 10
SHIPPED_LINE_STATUSES = frozenset({"fulfilled", "shipped", "on-the-way", "delivered"})


def _older_than(orders: list[dict[str, Any]], moment: datetime) -> bool:
    """True when the page's last (oldest) order was made before ``moment``."""
    if not orders:
        return True
    created = from_iso(str(orders[-1].get("created_at") or "").replace(" ", "T"))
    return created is not None and created.astimezone(UTC) < moment


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def split_name(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return first, last or first


class PrintifyAdapter(SupplierAdapter):
    KEY = "printify"
    DEFAULT_BASE_URL = "https://api.printify.com"
    MAX_REFERENCE_LENGTH = 32  # no documented limit; 32 fits every supplier we know
    RATE_LIMIT_PER_MINUTE = 600
    STATUS_MAP = {
        "draft": Stage.SUBMITTED,
        "pending": Stage.SUBMITTED,
        "on-hold": Stage.SUBMITTED,  # the normal approval window after import, not a problem
        "sending-to-production": Stage.SUBMITTED,
        "payment-not-received": Stage.ON_HOLD,
        "has-issues": Stage.ON_HOLD,
        "in-production": Stage.IN_PRODUCTION,
        "partially-fulfilled": Stage.IN_PRODUCTION,
        "fulfilled": Stage.SHIPPED,
        "shipped": Stage.SHIPPED,
        "on-the-way": Stage.SHIPPED,
        "delivered": Stage.DELIVERED,
        "canceled": Stage.CANCELLED,
    }

    @property
    def shop_path(self) -> str:
        return f"/v1/shops/{self.options.get('shop_id', '')}"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.options.get('api_key', '')}"}

    def describe_error(self, status: int, body: Any) -> tuple[str, str]:
        if not isinstance(body, dict):
            return str(status), str(body or "")
        errors = mapping(body, "errors")
        reason = errors.get("reason") or body.get("message") or body.get("error") or ""
        return text(body.get("code") or errors.get("code") or status), text(reason)

    # --- orders -------------------------------------------------------------------------------

    def submit(self, request: SupplierOrderRequest) -> SupplierOrderResult:
        existing = self._find(request.external_ref)
        if existing is not None:
            return self._result(self._send_if_wanted(existing), already_existed=True)
        created = self.http.request(
            "POST", f"{self.shop_path}/orders.json", json=self._order_body(request)
        ).body
        order = self._order(text(created["id"]))
        return self._result(self._send_if_wanted(order))

    def cancel(self, supplier_order_id: str) -> CancelOutcome:
        try:
            order = self.http.request(
                "POST", f"{self.shop_path}/orders/{supplier_order_id}/cancel.json"
            ).body
        except SupplierRejected as error:
            if error.status == 404:
                return CancelOutcome(CancelResult.NOT_FOUND, error.reason)
            return CancelOutcome(CancelResult.TOO_LATE, error.reason)
        if order.get("status") == "canceled":
            return CancelOutcome(CancelResult.CANCELLED)
        return CancelOutcome(CancelResult.TOO_LATE, f"order is {order.get('status')}")

    def fetch_status(
        self, *, supplier_order_id: str | None = None, external_ref: str | None = None
    ) -> list[SupplierEvent]:
        order = self.locate_order(supplier_order_id, external_ref, self._order, self._find)
        if order is None:
            return []
        return self.order_events(order)

    # --- payloads -----------------------------------------------------------------------------

    def is_callback(self, payload: Mapping[str, Any]) -> bool:
        return "resource" in payload and "type" in payload

    def unwrap_order(self, payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
        # GET /v1/shops/{shop_id}/orders/{order_id}.json answers the order object itself
        return payload if "id" in payload and "line_items" in payload else None

    def order_events(self, order: Mapping[str, Any]) -> list[SupplierEvent]:
        events = [self.status_event(order)]
        # Printify's order shows shipments without their items: name the fulfilled SKUs
        skus = tuple(
            text((line.get("metadata") or {}).get("sku"))
            for line in order.get("line_items") or []
            if line.get("status") in SHIPPED_LINE_STATUSES
        )
        for shipment in order.get("shipments") or []:
            number = text(shipment.get("number"))
            events.append(
                SupplierEvent(
                    kind=EventKind.SHIPMENT,
                    event_id=f"poll:shipment:{order['id']}:{number}",
                    supplier_order_id=text(order["id"]),
                    external_ref=order.get("external_id"),
                    stage=Stage.SHIPPED,
                    raw_status="shipped",
                    shipment=ShipmentInfo(
                        shipment_id=f"{order['id']}:{number}",
                        carrier=text(shipment.get("carrier")),
                        tracking_number=number,
                        tracking_url=text(shipment.get("url")),
                        supplier_skus=skus,
                    ),
                )
            )
        return events

    def verify_callback(
        self, headers: Mapping[str, str], body: bytes, query: Mapping[str, str]
    ) -> bool:
        """A signature in the documented form (``sha256=<64 hex>``, "Securing your webhooks")
        decides when we hold the secret we registered it with: a wrong one is refused whatever
        else the request carries. Otherwise (no signature, or one in a form we cannot confirm)
        our token in the URL is the proof."""
        given = header(headers, SIGNATURE_HEADER)
        found = SIGNATURE_FORM.match(given.strip()) if given else None
        secret = self.callback_secret
        if found and secret:
            return constant_time_equal(
                found.group(1).lower(), hmac_sha256_hex(secret.encode(), body)
            )
        return self.token_matches(headers, query)

    def callback_events(self, payload: Mapping[str, Any]) -> list[SupplierEvent]:
        kind = require(payload, "type", str)
        resource = require(payload, "resource")
        data = mapping(resource, "data")
        event_id = (
            text(payload.get("id")) or f"{kind}:{resource.get('id')}:{payload.get('created_at')}"
        )
        common: dict[str, Any] = {
            "event_id": event_id,
            "supplier_order_id": text(resource.get("id")) or None,
            "external_ref": data.get("external_id"),
            "occurred_at": from_iso(payload.get("created_at")),
        }
        if kind in ("order:shipment:created", "order:shipment:delivered"):
            shipment = self._shipment(resource, data)
            delivered = kind == "order:shipment:delivered"
            return [
                SupplierEvent(
                    kind=EventKind.DELIVERED if delivered else EventKind.SHIPMENT,
                    stage=Stage.DELIVERED if delivered else Stage.SHIPPED,
                    raw_status=kind,
                    shipment=shipment,
                    **common,
                )
            ]
        if kind == "order:sent-to-production":
            return [
                SupplierEvent(
                    kind=EventKind.STATUS, stage=Stage.SUBMITTED, raw_status=kind, **common
                )
            ]
        if kind.startswith("order:") and data.get("status"):
            status = text(data["status"])
            return [
                SupplierEvent(
                    kind=EventKind.STATUS,
                    stage=self.stage_for(status),
                    raw_status=status,
                    reason=text(data.get("reason")),
                    **common,
                )
            ]
        return [SupplierEvent(kind=EventKind.OTHER, raw_status=kind, **common)]

    def resolve_shipment_items(
        self, event: SupplierEvent, lines: Sequence[SupplierLine]
    ) -> SupplierEvent:
        shipment = event.shipment
        if shipment is None or shipment.items or not shipment.supplier_skus:
            return event
        wanted = set(shipment.supplier_skus)
        items = tuple(
            ShipmentItem(line.line_item_id, line.quantity)
            for line in lines
            if wanted
            & {line.sku, line.spec.identifiers.get("variant_id"), line.spec.identifiers.get("sku")}
        )
        if not items:
            return event
        return replace(
            event,
            shipment=replace(shipment, items=items),
            line_item_ids=tuple(i.line_item_id for i in items),
        )

    # --- setup --------------------------------------------------------------------------------

    def check_credentials(self) -> CheckResult:
        try:
            shops = self.http.get("/v1/shops.json").body
        except SupplierError as error:
            return CheckResult(False, str(error))
        ids = {text(shop.get("id")) for shop in shops or []}
        shop_id = text(self.options.get("shop_id"))
        if shop_id not in ids:
            return CheckResult(False, f"token works but shop {shop_id} is not among {sorted(ids)}")
        return CheckResult(True, f"shop {shop_id} reachable")

    def register_callback(self, url: str) -> RegistrationResult:
        try:
            for topic in WEBHOOK_TOPICS:
                self.http.request(
                    "POST",
                    f"{self.shop_path}/webhooks.json",
                    json={"topic": topic, "url": url, "secret": self.callback_secret},
                )
        except SupplierError as error:
            return RegistrationResult(False, detail=str(error))
        return RegistrationResult(True, detail=f"{len(WEBHOOK_TOPICS)} webhook topics registered")

    # --- details ------------------------------------------------------------------------------

    def _order(self, order_id: str) -> dict[str, Any]:
        order: dict[str, Any] = self.http.get(f"{self.shop_path}/orders/{order_id}.json").body
        return order

    def _find(self, external_ref: str) -> dict[str, Any] | None:
        oldest_wanted = datetime.now(UTC) - LOOKUP_WINDOW
        for page in range(1, LOOKUP_MAX_PAGES + 1):
            listing = self.http.get(
                f"{self.shop_path}/orders.json", params={"page": page, "limit": PAGE_SIZE}
            ).body
            orders = listing.get("data") or []
            for order in orders:
                if order.get("external_id") == external_ref:
                    return dict(order)
            if page >= int(listing.get("last_page") or 1) or _older_than(orders, oldest_wanted):
                return None
        return None

    def _send_if_wanted(self, order: dict[str, Any]) -> dict[str, Any]:
        if not self.options.get("send_to_production") or order.get("status") != "on-hold":
            return order
        sent: dict[str, Any] = self.http.request(
            "POST", f"{self.shop_path}/orders/{order['id']}/send_to_production.json"
        ).body
        return sent

    def _result(
        self, order: Mapping[str, Any], *, already_existed: bool = False
    ) -> SupplierOrderResult:
        status = text(order.get("status"))
        return SupplierOrderResult(
            text(order["id"]), status, self.stage_for(status), already_existed=already_existed
        )

    def _order_body(self, request: SupplierOrderRequest) -> dict[str, Any]:
        return {
            "external_id": request.external_ref,
            "label": request.order_name,
            "line_items": [_line_item(line) for line in request.lines],
            "shipping_method": int(request.shipping_method or 1),
            "send_shipping_notification": False,
            "address_to": _address(request.recipient),
        }

    def _shipment(self, resource: Mapping[str, Any], data: Mapping[str, Any]) -> ShipmentInfo:
        carrier = mapping(data, "carrier")
        number = text(carrier.get("tracking_number"))
        return ShipmentInfo(
            # Printify names no shipment id; the tracking number is unique per shipment
            shipment_id=f"{resource.get('id')}:{number}",
            carrier=text(carrier.get("code")),
            tracking_number=number,
            tracking_url=text(carrier.get("tracking_url")),
            shipped_at=from_iso(data.get("shipped_at")),
            supplier_skus=tuple(text(s) for s in data.get("skus") or ()),
        )


def _line_item(line: SupplierLine) -> dict[str, Any]:
    ids = line.spec.identifiers
    if ids.get("product_id") and ids.get("variant_id"):
        return {
            "product_id": ids["product_id"],
            "variant_id": int(ids["variant_id"]),
            "quantity": line.quantity,
        }
    return {"sku": ids.get("sku") or line.sku, "quantity": line.quantity}


def _address(address: Address) -> dict[str, str]:
    first, last = split_name(address.name)
    return {
        "first_name": first,
        "last_name": last,
        "email": address.email,
        "phone": address.phone,
        "country": address.country_code,
        "region": address.province_code,
        "address1": address.address1,
        "address2": address.address2,
        "city": address.city,
        "zip": address.zip,
    }
