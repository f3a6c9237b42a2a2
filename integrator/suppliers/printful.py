"""Printful, v1 orders API (the stable one) with v1 and v2 webhooks.

Idempotency: our external reference is the order's ``external_id`` (≤32 characters of
letters, digits, dash, underscore; "Each order's External ID must be unique within the store",
v1 "Orders API"). ``submit`` looks it up first with ``GET /orders/@{external_id}`` and creates
only when Printful has none; a create refused with 400 looks up again (a concurrent attempt may
have made it), whatever the refusal's wording. Each item's ``external_id`` is our Shopify line
item id, so shipments name our items directly. Drafts or confirmed orders per
``options["confirm"]``; a draft that comes back from asynchronous cost calculation
(``order_remove_hold``: "Such an order will return to a draft status (even if it was created
with the auto-confirm option) and will need to be confirmed") is confirmed by
``complete_events``.

Callbacks (docs/adding-a-supplier.md, "What proves a callback"): v1 webhooks are unsigned, so
our token in the registered URL is the proof; with ``options["webhook_secret"]`` (the secret
key of a v2 webhook configuration) the v2 signature is the proof and is required.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from integrator.domain.iso_dates import parse_iso
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
    constant_time_equal,
    from_unix,
    header,
    hmac_sha256_hex,
    mapping,
    require,
    text,
)
from integrator.suppliers.errors import (
    CallbackPayloadError,
    RetryableSupplierError,
    SupplierError,
    SupplierRejected,
)

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
    "shipment_put_hold": Stage.ON_HOLD,
    "shipment_put_hold_approval": Stage.ON_HOLD,
    "shipment_out_of_stock": Stage.ON_HOLD,
}
HOLD_RELEASES = frozenset({"order_remove_hold", "shipment_remove_hold"})
SHIPPED_EVENTS = frozenset({"package_shipped", "shipment_sent"})
RETURN_EVENTS = frozenset({"package_returned", "shipment_returned"})


def _about_orders(kind: str) -> bool:
    """Event types whose ``data`` is an object about an order or a shipment."""
    return kind.startswith(("order_", "shipment_", "package_"))


# v1 "cancelOrderById": "Cancels pending order or draft"
CANCELLABLE = frozenset({"pending", "draft"})
# "Errors" tag: the documented codes (OR-13 ...) are names, not a field of the error body;
# they are recognised when a message happens to quote one
ERROR_CODE = re.compile(r"\b((?:OR|FL|PR)-\d+)\b")
SHIPMENT_PAGE = 20
SHIPMENT_PAGES = 10
SETUP_WARNING = (
    "Printful keeps one webhook configuration per store: POST /webhooks replaces it whole "
    '("calling this method disables all existing webhook configuration", Printful API v1).'
)


def signature_valid(secret_key: str, body: bytes, given: str) -> bool:
    """Printful v2 "Event signing": hex HMAC-SHA256 of the raw body keyed with the secret key.

    The docs do not say whether the key is the secret's text or its hex-decoded bytes (their
    example secret is not even hex), so both are tried: either proves the sender holds it."""
    keys = [secret_key.encode()]
    with contextlib.suppress(ValueError):
        keys.append(bytes.fromhex(secret_key))
    wanted = given.strip().lower()
    return any(constant_time_equal(wanted, hmac_sha256_hex(key, body)) for key in keys)


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
        """(code, reason) where Printful's error bodies put them.

        v1 (``components.responses.BadRequest``): ``{code: <HTTP status>, result: <message>,
        error: {reason: "BadRequest", message}}``: the code is ``error.reason``, or a documented
        code (OR-13 ...) when the message quotes one. v2 (``ProblemDetails``): ``{type, status,
        title, details, instance}``: the code is ``title``, the reason ``details``."""
        if not isinstance(body, dict):
            return str(status), str(body or "")
        error = mapping(body, "error")
        if error or "result" in body:
            message = text(error.get("message") or body.get("result"))
            found = ERROR_CODE.search(message)
            return (found.group(1) if found else text(error.get("reason") or status)), message
        if "title" in body or "details" in body:
            title = text(body.get("title") or status)
            return title, text(body.get("details") or body.get("detail") or title)
        return super().describe_error(status, body)

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
            if error.status != 400:
                raise
            # OR-13 (external id in use) has no field of its own in the error body: whatever
            # the wording, an order made by a concurrent or crashed attempt is found again
            found = self._find(request.external_ref)
            if found is None:
                raise
            return self._result(self._confirm_if_wanted(found), already_existed=True)
        return self._result(answer.body["result"])

    def cancel(self, supplier_order_id: str) -> CancelOutcome:
        try:
            order = self._order(supplier_order_id)
        except SupplierRejected as error:
            if error.status == 404:
                return CancelOutcome(CancelResult.NOT_FOUND, error.reason)
            raise
        status = text(order.get("status"))
        if status == "canceled":
            return CancelOutcome(CancelResult.CANCELLED, "already canceled at Printful")
        if status not in CANCELLABLE:
            return CancelOutcome(CancelResult.TOO_LATE, _not_cancellable(supplier_order_id, status))
        try:
            answer = self.http.request("DELETE", f"/orders/{supplier_order_id}")
        except SupplierRejected as error:
            if error.status == 404:
                return CancelOutcome(CancelResult.NOT_FOUND, error.reason)
            return CancelOutcome(
                CancelResult.TOO_LATE, f"Printful refused to cancel: {error.reason}"
            )
        status = text(answer.body["result"].get("status"))
        if status == "canceled":
            return CancelOutcome(CancelResult.CANCELLED)
        return CancelOutcome(CancelResult.TOO_LATE, _not_cancellable(supplier_order_id, status))

    def fetch_status(
        self, *, supplier_order_id: str | None = None, external_ref: str | None = None
    ) -> list[SupplierEvent]:
        order = self.locate_order(supplier_order_id, external_ref, self._order, self._find)
        if order is None:
            return []
        return self.order_events(order)

    # --- payloads -----------------------------------------------------------------------------

    def verify_callback(
        self, headers: Mapping[str, str], body: bytes, query: Mapping[str, str]
    ) -> bool:
        """v2 configuration (``webhook_secret`` set): the signature is the proof and is
        required ("If you find that you receive an event with invalid or missing signature, you
        should ignore the event"). Otherwise v1: unsigned, our token in the URL is the proof and
        any signature header is ignored (we hold no key to check it with)."""
        secret = str(self.options.get("webhook_secret") or "")
        if secret:
            given = header(headers, SIGNATURE_HEADER)
            return bool(given) and signature_valid(secret, body, str(given))
        return self.token_matches(headers, query)

    def is_callback(self, payload: Mapping[str, Any]) -> bool:
        # v1 {type, created, retries, store, data}; v2 {type, occurred_at, retries, store_id, data}
        return isinstance(payload.get("type"), str) and "data" in payload

    def unwrap_order(self, payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
        # v1 GET /orders/{id}: {code, result: order}; v2 GET /v2/orders/{id}: {data: order}
        for candidate in (payload.get("result"), payload.get("data"), payload):
            if isinstance(candidate, dict) and "id" in candidate and "status" in candidate:
                return candidate
        return None

    def order_events(self, order: Mapping[str, Any]) -> list[SupplierEvent]:
        items = _item_refs(order)
        shipments = [
            self._shipment_event(f"poll:shipment:{shipment['id']}", order, shipment, items)
            for shipment in order.get("shipments") or []
        ]
        # shipments first: an item is shipped by its parcel (with tracking), not by the status
        return [*shipments, _covered_only(self.status_event(order), order)]

    def callback_events(self, payload: Mapping[str, Any]) -> list[SupplierEvent]:
        kind = require(payload, "type", str)
        if not _about_orders(kind) and not isinstance(payload.get("data"), dict):
            # e.g. v2 catalog_stock_updated, whose data is a list of variants
            return [SupplierEvent(kind=EventKind.OTHER, event_id=f"{kind}:", raw_status=kind)]
        data = require(payload, "data")
        order = mapping(data, "order")
        occurred = from_unix(payload.get("created")) or parse_iso(payload.get("occurred_at"))
        stamp = payload.get("created") or payload.get("occurred_at") or ""
        event_id = f"{kind}:{order.get('id', '')}:{stamp}"
        items = _item_refs(order)
        reason = text(data.get("reason"))
        if kind in SHIPPED_EVENTS:
            shipment = require(data, "shipment")
            return [self._shipment_event(event_id, order, shipment, items, occurred)]
        if kind in RETURN_EVENTS:
            shipment = mapping(data, "shipment")
            info = self._shipment_info(shipment, items)
            return [
                self._status_event(
                    event_id,
                    order,
                    Stage.RETURNED,
                    kind,
                    occurred,
                    reason=reason,
                    line_item_ids=tuple(i.line_item_id for i in info.items),
                    shipment=info,
                )
            ]
        if kind in EVENT_STAGES or kind in HOLD_RELEASES or kind.startswith("order_"):
            if not order and kind.startswith("shipment_"):
                # v2 ShipmentPutOnHold / ShipmentRemovedFromHold carry the shipment and no
                # order: understood and kept, but nothing here says whose items it holds
                return [self._orderless_shipment_event(kind, data, event_id)]
            if not order:
                raise CallbackPayloadError(f"{kind} without data.order")
            status = text(order.get("status"))
            stage = EVENT_STAGES.get(kind) or self.stage_for(status)
            raw = kind if kind in EVENT_STAGES else status
            if kind in HOLD_RELEASES and status != "draft":
                raw = kind
            event = self._status_event(
                event_id,
                order,
                stage,
                raw,
                occurred,
                reason=reason,
                releases_hold=kind in HOLD_RELEASES,
            )
            return [_covered_only(event, order)]
        return [SupplierEvent(kind=EventKind.OTHER, event_id=event_id, raw_status=kind)]

    def _orderless_shipment_event(
        self, kind: str, data: Mapping[str, Any], event_id: str
    ) -> SupplierEvent:
        shipment = text(mapping(data, "shipment").get("id")) or "?"
        why = text(data.get("reason"))
        return SupplierEvent(
            kind=EventKind.OTHER,
            event_id=f"{event_id}{shipment}",
            raw_status=kind,
            reason=f"shipment {shipment}{': ' + why if why else ''} (the webhook names no "
            "order, so no item is moved by it)",
        )

    def complete_events(self, events: Sequence[SupplierEvent]) -> list[SupplierEvent]:
        """Fetch the items of v2 shipments (``GET /v2/orders/{id}/shipments``) and confirm
        drafts that came back from cost calculation (``options.confirm``)."""
        done = []
        for event in events:
            if event.shipment is not None and event.shipment.items_pending:
                event = self._with_fetched_items(event)
            if event.raw_status == "draft" and self._confirm and event.supplier_order_id:
                event = self._confirmed(event)
            done.append(event)
        return done

    # --- setup --------------------------------------------------------------------------------

    def check_credentials(self) -> CheckResult:
        try:
            store = self.http.get("/store").body["result"]
        except SupplierError as error:
            return CheckResult(False, str(error))
        return CheckResult(True, f"store {store.get('id')} {store.get('name', '')}".strip())

    def registration_warning(self, url: str) -> str | None:
        """Printful keeps one webhook configuration per store: say what POST /webhooks would
        replace."""
        if self.options.get("webhook_secret"):
            return None  # v2 configurations are set by hand (register_callback says how)
        try:
            current = self.http.get("/webhooks").body["result"]
        except SupplierError as error:
            return f"{SETUP_WARNING} The current configuration could not be read: {error}"
        current_url = text(current.get("url"))
        if not current_url or current_url == url:
            return None
        types = ", ".join(text(t) for t in current.get("types") or []) or "no event types"
        return (
            f"{SETUP_WARNING} It now sends {types} to {_without_query(current_url)}; "
            "that URL will stop receiving Printful events."
        )

    def register_callback(self, url: str) -> RegistrationResult:
        if self.options.get("webhook_secret"):
            return RegistrationResult(False, manual_steps=V2_MANUAL_STEPS.format(url=url))
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

    def _confirmed(self, event: SupplierEvent) -> SupplierEvent:
        """Confirm the draft the event reports; the event then carries the new status."""
        try:
            order = self._confirm_if_wanted(self._order(str(event.supplier_order_id)))
        except SupplierRejected as error:
            # confirmed by someone else meanwhile, or no longer a draft: nothing to do
            return replace(event, reason=event.reason or f"not confirmed: {error.reason}")
        status = text(order.get("status"))
        return replace(event, stage=self.stage_for(status), raw_status=status)

    def _with_fetched_items(self, event: SupplierEvent) -> SupplierEvent:
        """v2 ``shipment_sent`` names no items: read them from the order's shipments."""
        shipment = event.shipment
        assert shipment is not None
        listed = self._v2_shipment(str(event.supplier_order_id), shipment.shipment_id)
        if listed is None:
            raise RetryableSupplierError(
                f"shipment {shipment.shipment_id} not yet listed for order "
                f"{event.supplier_order_id}",
                supplier=self.name,
            )
        items = tuple(
            ShipmentItem(text(i.get("order_item_external_id")), int(i.get("quantity") or 0))
            for i in listed.get("shipment_items") or []
            if i.get("order_item_external_id")
        )
        named_all = bool(items) and len(items) == len(listed.get("shipment_items") or [])
        info = replace(
            shipment,
            items=items,
            items_pending=not named_all,
            carrier=shipment.carrier or text(listed.get("carrier")),
            tracking_url=shipment.tracking_url or _clean_url(listed.get("tracking_url")),
        )
        return replace(event, shipment=info, line_item_ids=tuple(i.line_item_id for i in items))

    def _v2_shipment(self, order_id: str, shipment_id: str) -> Mapping[str, Any] | None:
        for page in range(SHIPMENT_PAGES):
            answer = self.http.get(
                f"/v2/orders/{order_id}/shipments",
                params={"limit": SHIPMENT_PAGE, "offset": page * SHIPMENT_PAGE},
            ).body
            shipments = answer.get("data") or []
            for shipment in shipments:
                if text(shipment.get("id")) == shipment_id:
                    return dict(shipment)
            if len(shipments) < SHIPMENT_PAGE:
                return None
        return None

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
        shipment: ShipmentInfo | None = None,
        releases_hold: bool = False,
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
            shipment=shipment,
            occurred_at=occurred,
            releases_hold=releases_hold,
        )

    def _shipment_info(self, shipment: Mapping[str, Any], items: Mapping[str, str]) -> ShipmentInfo:
        listed = shipment.get("items")
        shipped = tuple(
            ShipmentItem(
                items.get(text(i.get("item_id")), text(i.get("item_id"))),
                int(i.get("quantity") or 0),
            )
            for i in listed or []
        )
        return ShipmentInfo(
            shipment_id=text(shipment.get("id")),
            carrier=text(shipment.get("carrier")),  # v2 webhooks carry no carrier
            tracking_number=text(shipment.get("tracking_number")),
            tracking_url=_clean_url(shipment.get("tracking_url")),
            items=shipped,
            shipped_at=from_unix(shipment.get("shipped_at"))
            or parse_iso(shipment.get("shipped_at")),
            # v2 WebhookShipmentData has no items: they must be fetched, never assumed
            items_pending=not isinstance(listed, list) or not shipped,
        )

    def _shipment_event(
        self,
        event_id: str,
        order: Mapping[str, Any],
        shipment: Mapping[str, Any],
        items: Mapping[str, str],
        occurred: Any = None,
    ) -> SupplierEvent:
        info = self._shipment_info(shipment, items)
        return SupplierEvent(
            kind=EventKind.SHIPMENT,
            event_id=event_id,
            supplier_order_id=text(order.get("id")) or None,
            external_ref=order.get("external_id"),
            stage=Stage.SHIPPED,
            raw_status="reshipment" if shipment.get("reshipment") else "shipped",
            reason=(
                "the payload names no items: they are read from /v2/orders/{id}/shipments"
                if info.items_pending
                else ""
            ),
            line_item_ids=tuple(i.line_item_id for i in info.items),
            shipment=info,
            occurred_at=occurred,
        )


V2_MANUAL_STEPS = (
    "webhook_secret is set, so Printful webhooks v2 are in use: POST /v2/webhooks with "
    "default_url {url} and the events you want, then put the secret_key it returns (shown "
    "once) in options.webhook_secret."
)


def _covered_only(event: SupplierEvent, order: Mapping[str, Any]) -> SupplierEvent:
    """An order-level "fulfilled" ("all items are shipped") moves only the items the order's
    shipments name; with none named it moves nothing (the shipments' own events will)."""
    if event.stage is not Stage.SHIPPED:
        return event
    items = _item_refs(order)
    covered = tuple(
        dict.fromkeys(
            items.get(text(i.get("item_id")), text(i.get("item_id")))
            for shipment in order.get("shipments") or []
            for i in shipment.get("items") or []
        )
    )
    if covered:
        return replace(event, line_item_ids=covered)
    return replace(
        event,
        stage=None,
        reason=event.reason or f"{event.raw_status}, but the payload names no shipped items",
    )


def _not_cancellable(order_id: str, status: str) -> str:
    return (
        f"Printful cancels only pending or draft orders (DELETE /orders/{{id}}); "
        f"order {order_id} is {status or 'in an unknown status'}: cancel it in the Printful "
        "dashboard or with Printful support"
    )


def _without_query(url: str) -> str:
    """A URL fit for the terminal: our token (or anyone's) stays out of it."""
    return url.split("?", 1)[0]


def _clean_url(value: Any) -> str:
    # the v2 document's example URLs begin with a zero-width space (U+200B)
    return text(value).strip().lstrip("\u200b")


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
