"""Printify, REST v1, orders of one shop (``options["shop_id"]``); facts from Printify's
published OpenAPI document (``printify_openapi.json``, https://developers.printify.com/openapi.json).

Duplicates: a create whose ``external_id`` the shop already has answers **409, code 8503**, with
the existing order as ``order: {id, external_id}`` (``paths./v1/shops/{shop_id}/orders.json.post
.responses.409`` → ``components.schemas.errorOrderConflictResponse``). So ``submit`` just
creates: a repeat (a retry after a lost answer) costs the same two calls as a first submission,
POST then GET, whatever the shop's order count. The order list carries no external id and has
no filter for one, so Printify orders cannot be found by our reference (``FINDS_BY_REFERENCE``);
we never need to, since the create answer always names the order.

Items: each line item carries our line item id as ``external_id``, which Printify echoes as
``line_items[].metadata.external_id``. Printify names shipped items by **its own SKUs**
(``order:shipment:created`` / ``:delivered`` ``data.skus``; variant 43424 may have SKU
"901426000"), which are not our variant ids: :meth:`complete_events` reads the order and
turns those SKUs into our line item ids (by ``metadata.external_id``, else by the
``product_id``/``variant_id`` or ``sku`` we sent). New orders sit "on-hold" for the shop's
approval window; ``options["send_to_production"]`` sends them at once. The webhook signature
(``X-Pfy-Signature: sha256=<hex>``) is checked when present (HTML docs only); our token in the
URL is always accepted too (ADR 0004).
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
    CancelOutcome,
    CancelResult,
    CheckResult,
    RegistrationResult,
    SupplierAdapter,
    constant_time_equal,
    header,
    hmac_sha256_hex,
    mapping,
    require,
    text,
)
from integrator.suppliers.errors import SupplierError, SupplierRejected, SupplierRequestIncomplete

SIGNATURE_HEADER = "X-Pfy-Signature"
SIGNATURE_FORM = re.compile(r"^sha256=([0-9a-fA-F]{64})$")
WEBHOOK_TOPICS = (
    "order:created",
    "order:updated",
    "order:sent-to-production",
    "order:shipment:created",
    "order:shipment:delivered",
)
# components.responses.errorOrderConflict: "Order already exists for the given external_id."
DUPLICATE_EXTERNAL_ID = "8503"
SHIPPED_LINE_STATUSES = frozenset({"fulfilled", "shipped", "on-the-way", "delivered"})
SHIPMENT_TOPICS = ("order:shipment:created", "order:shipment:delivered")
# what a shipment webhook leaves to complete_events (explain shows it)
SKUS_ONLY = (
    "Printify names the shipped items by its own SKUs: the lines are read from the order "
    "(GET /v1/shops/{shop_id}/orders/{order_id}.json)"
)
# order:updated carries only {shop_id, status} (components.schemas.orderUpdatedData): the
# reason a person reads is what the status means
STATUS_REASONS = {
    "has-issues": "Printify reports issues with the order: see it in the Printify dashboard",
    "payment-not-received": "Printify has not received payment for the order",
}
# how a shipped Printify line without our external id is named until matched to our lines
VARIANT_KEY = "variant:{product_id}:{variant_id}"


def split_name(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return first, last or first


class PrintifyAdapter(SupplierAdapter):
    KEY = "printify"
    DEFAULT_BASE_URL = "https://api.printify.com"
    MAX_REFERENCE_LENGTH = 32  # no documented limit; 32 fits every supplier we know
    RATE_LIMIT_PER_MINUTE = 600
    FINDS_BY_REFERENCE = False
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
        # components.schemas.errorResponse {status, code, message, errors{reason, code}};
        # notFoundResponse {error, request_id}
        if not isinstance(body, dict):
            return str(status), str(body or "")
        errors = mapping(body, "errors")
        reason = errors.get("reason") or body.get("message") or body.get("error") or ""
        return text(body.get("code") or errors.get("code") or status), text(reason)

    # --- orders -------------------------------------------------------------------------------

    def submit(self, request: SupplierOrderRequest) -> SupplierOrderResult:
        try:
            created = self.http.request(
                "POST", f"{self.shop_path}/orders.json", json=self._order_body(request)
            ).body
            order_id, already = text(created["id"]), False
        except SupplierRejected as error:
            existing = duplicate_of(error)
            if existing is None:
                raise
            order_id, already = existing, True
        order = self._order(order_id)
        return self._result(self._send_if_wanted(order), already_existed=already)

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
        order = self.locate_order(supplier_order_id, external_ref, self._order, _not_findable)
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
        # parcels first: an order-level "fulfilled"/"delivered" then covers the lines they name
        return [*order_shipments(order), self.status_event(order)]

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
            "supplier_order_id": _order_id_of(kind, resource, data),
            "external_ref": data.get("external_id"),
            "occurred_at": parse_iso(payload.get("created_at")),
        }
        if kind in SHIPMENT_TOPICS:
            shipment = self._shipment(resource, data)
            common["reason"] = SKUS_ONLY
            delivered = kind == "order:shipment:delivered"
            if delivered:
                common["occurred_at"] = parse_iso(data.get("delivered_at")) or common["occurred_at"]
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
                    reason=text(data.get("reason")) or STATUS_REASONS.get(status, ""),
                    **common,
                )
            ]
        return [SupplierEvent(kind=EventKind.OTHER, raw_status=kind, **common)]

    def complete_events(self, events: Sequence[SupplierEvent]) -> list[SupplierEvent]:
        """Shipment webhooks name Printify SKUs only: read the order (once per order) and
        name the lines those SKUs are, as the identifiers we sent."""
        orders: dict[str, dict[str, Any] | None] = {}
        completed = []
        for event in events:
            shipment = event.shipment
            printify_skus = (
                [s for s in shipment.supplier_skus if not s.startswith("variant:")]
                if shipment
                else []
            )
            if shipment and printify_skus and not shipment.items:
                order_id = event.supplier_order_id or ""
                if order_id not in orders:
                    orders[order_id] = self._order_or_none(order_id) if order_id else None
                event = _named_by_order(event, orders[order_id])
            completed.append(event)
        return completed

    def resolve_shipment_items(
        self, event: SupplierEvent, lines: Sequence[SupplierLine]
    ) -> SupplierEvent:
        shipment = event.shipment
        if shipment is None or shipment.items or not shipment.supplier_skus:
            return super().resolve_shipment_items(event, lines)
        wanted = set(shipment.supplier_skus)
        items = tuple(
            ShipmentItem(line.line_item_id, line.quantity)
            for line in lines
            if wanted & set(_names_we_sent(line))
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

    def _order_or_none(self, order_id: str) -> dict[str, Any] | None:
        try:
            return self._order(order_id)
        except SupplierRejected:
            return None

    def _send_if_wanted(self, order: dict[str, Any]) -> dict[str, Any]:
        if not self.options.get("send_to_production") or order.get("status") != "on-hold":
            return order
        # answers only {"id"} (components.responses.orderIdResponse): read the order again
        self.http.request("POST", f"{self.shop_path}/orders/{order['id']}/send_to_production.json")
        return self._order(text(order["id"]))

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
            shipped_at=parse_iso(data.get("shipped_at")),
            supplier_skus=tuple(text(s) for s in data.get("skus") or ()),
        )


def _order_id_of(kind: str, resource: Mapping[str, Any], data: Mapping[str, Any]) -> str | None:
    """The order a webhook is about: its resource when that is an order; a support request
    names its order in ``data.order_id``; products, shops and preview tasks name none (their
    resource id is not an order id)."""
    if resource.get("type") == "order" or (not resource.get("type") and kind.startswith("order:")):
        return text(resource.get("id")) or None
    return text(data.get("order_id")) or None


def duplicate_of(error: SupplierRejected) -> str | None:
    """The existing order's id when a create was refused for a repeated ``external_id``."""
    if error.status != 409 or error.code != DUPLICATE_EXTERNAL_ID:
        return None
    body = error.body if isinstance(error.body, dict) else {}
    return text(mapping(body, "order").get("id")) or None


def _not_findable(external_ref: str) -> dict[str, Any] | None:
    """Printify offers no look-up by our reference (see the module docstring)."""
    found: dict[str, Any] | None = None
    return found


def _shipped_lines(order: Mapping[str, Any], skus: Sequence[str] | None) -> list[dict[str, Any]]:
    """The order's line items with one of ``skus`` (all shipped ones when None)."""
    lines = [line for line in order.get("line_items") or [] if isinstance(line, dict)]
    if skus is None:
        return [line for line in lines if line.get("status") in SHIPPED_LINE_STATUSES]
    wanted = set(skus)
    return [line for line in lines if text(mapping(line, "metadata").get("sku")) in wanted]


def line_names(
    lines: Sequence[Mapping[str, Any]],
) -> tuple[tuple[ShipmentItem, ...], tuple[str, ...]]:
    """Printify line items as our line item ids (``metadata.external_id``) when Printify
    echoes ours for every one; otherwise each by what we sent for it (:data:`VARIANT_KEY`
    and the SKU), for :meth:`PrintifyAdapter.resolve_shipment_items` to match."""
    ours = [text(mapping(line, "metadata").get("external_id")) for line in lines]
    if all(ours):
        return tuple(ShipmentItem(line_item_id, 0) for line_item_id in ours), ()
    return (), tuple(_variant_keys(lines))


def _named_by_order(event: SupplierEvent, order: Mapping[str, Any] | None) -> SupplierEvent:
    shipment = event.shipment
    assert shipment is not None
    lines = _shipped_lines(order, shipment.supplier_skus) if order else []
    if not lines:
        return event  # SKUs the order does not have: left for the pipeline to flag
    items, keys = line_names(lines)
    named = replace(shipment, items=items, supplier_skus=keys)
    return replace(
        event, shipment=named, line_item_ids=tuple(i.line_item_id for i in items), reason=""
    )


def _variant_keys(lines: Sequence[Mapping[str, Any]]) -> Iterator[str]:
    for line in lines:
        yield VARIANT_KEY.format(
            product_id=line.get("product_id"), variant_id=line.get("variant_id")
        )
        sku = text(mapping(line, "metadata").get("sku"))
        if sku:
            yield sku


def order_shipments(order: Mapping[str, Any]) -> list[SupplierEvent]:
    """``shipments[]`` of an order as shipment (and delivery) events.

    Printify's order does not say which lines each shipment carries: every shipped line is
    named, which is exact for the common single shipment (see ADR 0004)."""
    items, keys = line_names(_shipped_lines(order, None))
    events = []
    for shipment in order.get("shipments") or []:
        number = text(shipment.get("number"))
        info = ShipmentInfo(
            shipment_id=f"{order['id']}:{number}",
            carrier=text(shipment.get("carrier")),
            tracking_number=number,
            tracking_url=text(shipment.get("url")),
            items=items,
            supplier_skus=keys,
        )
        common: dict[str, Any] = {
            "supplier_order_id": text(order["id"]),
            "external_ref": order.get("external_id"),
            "shipment": info,
            "line_item_ids": tuple(i.line_item_id for i in info.items),
        }
        events.append(
            SupplierEvent(
                kind=EventKind.SHIPMENT,
                event_id=f"poll:shipment:{order['id']}:{number}",
                stage=Stage.SHIPPED,
                raw_status="shipped",
                **common,
            )
        )
        if shipment.get("delivered_at"):
            events.append(
                SupplierEvent(
                    kind=EventKind.DELIVERED,
                    event_id=f"poll:delivered:{order['id']}:{number}",
                    stage=Stage.DELIVERED,
                    raw_status="delivered",
                    occurred_at=parse_iso(str(shipment["delivered_at"]).replace(" ", "T")),
                    **common,
                )
            )
    return events


def _names_we_sent(line: SupplierLine) -> Iterator[str]:
    """How a line of ours can appear in a Printify shipment, by what we sent for it."""
    ids = line.spec.identifiers
    if ids.get("product_id") and ids.get("variant_id"):
        yield VARIANT_KEY.format(product_id=ids["product_id"], variant_id=int(ids["variant_id"]))
    else:
        # sent by SKU: Printify's SKU of that product is the one we sent
        yield str(ids.get("sku") or line.sku or "")


def _line_item(line: SupplierLine) -> dict[str, Any]:
    """One of the three published line item forms (``submitOrderRequest.line_items``).

    Print files reach Printify only as the ``print_areas`` of a line by ``blueprint_id`` and
    ``print_provider_id`` (``lineItemWithBlueprint``); a line by ``product_id`` or ``sku``
    prints the artwork saved with that product. Files for such a line would be dropped in
    silence, so the order is held instead, naming them."""
    ids = line.spec.identifiers
    if ids.get("blueprint_id") and ids.get("print_provider_id") and ids.get("variant_id"):
        item: dict[str, Any] = {
            "print_provider_id": int(ids["print_provider_id"]),
            "blueprint_id": int(ids["blueprint_id"]),
            "variant_id": int(ids["variant_id"]),
            "print_areas": _print_areas(line),
            "quantity": line.quantity,
        }
    elif line.spec.files:
        placements = ", ".join(f.placement for f in line.spec.files)
        raise SupplierRequestIncomplete(
            f"line item {line.line_item_id}: print files ({placements}) reach Printify only "
            "with blueprint_id and print_provider_id (print_areas); a product_id or sku "
            "prints the product's saved artwork",
            supplier="printify",
        )
    elif ids.get("product_id") and ids.get("variant_id"):
        item = {
            "product_id": ids["product_id"],
            "variant_id": int(ids["variant_id"]),
            "quantity": line.quantity,
        }
    else:
        item = {"sku": ids.get("sku") or line.sku, "quantity": line.quantity}
    # echoed as line_items[].metadata.external_id: how shipments find our line again
    item["external_id"] = line.line_item_id
    return item


def _print_areas(line: SupplierLine) -> dict[str, str]:
    """``printAreasSimple``: one image URL per print area position."""
    areas: dict[str, str] = {}
    for print_file in line.spec.files:
        if print_file.placement in areas:
            raise SupplierRequestIncomplete(
                f"line item {line.line_item_id}: two print files for the {print_file.placement} "
                "print area (Printify takes one image per position here)",
                supplier="printify",
            )
        areas[print_file.placement] = print_file.url
    if not areas:
        raise SupplierRequestIncomplete(
            f"line item {line.line_item_id}: an order by blueprint_id needs print files "
            "(print_areas)",
            supplier="printify",
        )
    return areas


def _address(address: Address) -> dict[str, str]:
    """``components.schemas.addressTo``; empty optional fields are left out (``email`` has
    format email, which an empty string is not)."""
    first, last = split_name(address.name)
    fields = {
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
    optional = ("email", "phone", "address2")
    return {key: value for key, value in fields.items() if value or key not in optional}
