"""Sandbox Printify: one shop's orders, built from Printify's published OpenAPI document
(``printify_openapi.json``, https://developers.printify.com/openapi.json; pointers below are
into it) and, for webhook signing, its HTML reference ("Securing your Webhooks").

- A create answers ``{"id"}`` (``components.responses.orderCreated``); a create whose
  ``external_id`` the shop already has answers **409**, code 8503, with the existing order
  ``{id, external_id}`` (``components.responses.errorOrderConflict``).
- Orders answer in the published ``components.schemas.order`` shape: no top-level external id;
  each line item carries **Printify's own SKU** of its variant in ``metadata.sku`` (not the
  variant id) and echoes the line's ``external_id`` as ``metadata.external_id``.
- ``send_to_production`` answers ``{"id"}`` (``orderIdResponse``); errors are
  ``components.schemas.errorResponse``; an unknown order is ``notFoundResponse``.
- Webhook payloads follow ``x-webhooks`` (``order:updated`` data ``{shop_id, status}``;
  ``order:shipment:created``/``:delivered`` data with ``carrier`` and Printify ``skus``),
  signed ``X-Pfy-Signature: sha256=<hex HMAC-SHA256 of the body>`` when the webhook was
  registered with a secret.
- Rate limit (developers.printify.com, "Rate limits"): "600 requests per minute. Customers
  exceeding this limit will receive error responses with a 429". Limits are per account. The
  429 carries the ``errorResponse`` envelope; Printify documents no ``Retry-After`` and none is
  sent (a client must back off on its own).
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Sequence
from typing import Any

from werkzeug.wrappers import Request, Response

from integrator.sandbox.suppliers.base import (
    PublishedRateLimit,
    SandboxError,
    SandboxSupplier,
    json_response,
)
from integrator.sandbox.suppliers.validation import Problem, openapi_request

DOCUMENT = "printify_openapi.json.gz"

VALIDATION_FAILED = 8203  # components.responses.error example
DUPLICATE_EXTERNAL_ID = 8503  # components.responses.errorOrderConflict
# not published: the codes Printify uses for these refusals are our own choice
OUT_OF_STOCK = 8253
CANNOT_CANCEL = 8505
CANCELLABLE = ("on-hold", "payment-not-received")
PAGE_LIMIT = 10  # components.parameters.limit_max_10
SIGNATURE_HEADER = "X-Pfy-Signature"


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S+00:00", time.gmtime())


def printify_sku(product_id: Any, variant_id: Any) -> str:
    """A stable nine-digit SKU per product variant, like Printify's own ("168699843"): never
    the variant id, so a client that confuses the two finds nothing."""
    digest = hashlib.sha256(f"{product_id}:{variant_id}".encode()).hexdigest()
    return str(int(digest, 16) % 900_000_000 + 100_000_000)


class PrintifySandbox(SandboxSupplier):
    NAME = "printify"
    PUBLISHED_RATE_LIMIT = PublishedRateLimit(calls=600, window=60.0)
    REQUEST_SCHEMAS = {
        "create_order": openapi_request(
            DOCUMENT,
            "/v1/shops/{shop_id}/orders.json",
            "post",
            overlay="printify_order.overlay.schema.json",
        ),
        "create_webhook": openapi_request(DOCUMENT, "/v1/shops/{shop_id}/webhooks.json", "post"),
    }

    def __init__(self, *, shop_id: int = 815256, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shop_id = shop_id
        self.webhooks: list[dict[str, Any]] = []
        # the external_id of each order: Printify keeps it, but its order object does not show it
        self.external_ids: dict[str, str] = {}
        # tracking number -> the SKUs its shipment carried
        self.shipped_skus: dict[str, list[str]] = {}

    def rules(self) -> Sequence[tuple[str, str, str]]:
        shop = "/v1/shops/<int:shop_id>"
        return (
            ("GET", "/v1/shops.json", "list_shops"),
            ("POST", f"{shop}/orders.json", "create_order"),
            ("GET", f"{shop}/orders.json", "list_orders"),
            ("GET", f"{shop}/orders/<order_id>.json", "get_order"),
            ("POST", f"{shop}/orders/<order_id>/send_to_production.json", "send_to_production"),
            ("POST", f"{shop}/orders/<order_id>/cancel.json", "cancel_order"),
            ("POST", f"{shop}/webhooks.json", "create_webhook"),
        )

    def rate_limited(self, retry_after: float) -> Response:
        return json_response(self.error_body(429, "Too Many Requests"), 429)

    def error_body(self, status: int, message: str, code: int | None = None) -> Any:
        if status == 404:
            return {"error": "Not found", "request_id": f"{int(time.time())}@{uuid.uuid4()}"}
        if status >= 500 or status in (401, 429):
            return {"status": "error", "code": code or status, "message": message}
        return {
            "status": "error",
            "code": code or VALIDATION_FAILED,
            "message": "Validation failed.",
            "errors": {"reason": message, "code": code or VALIDATION_FAILED},
        }

    def reject(self, message: str, code: int = VALIDATION_FAILED) -> SandboxError:
        return SandboxError(400, self.error_body(400, message, code))

    def invalid_request(self, problems: Sequence[Problem]) -> SandboxError:
        """``components.responses.error``: 400, "Validation failed.", the reason per field."""
        return self.reject("; ".join(str(problem) for problem in problems))

    # --- endpoints ----------------------------------------------------------------------------

    def list_shops(self, request: Request) -> Response:
        return json_response(
            [{"id": self.shop_id, "title": "Sandbox shop", "sales_channel": "shopify"}]
        )

    def create_order(self, request: Request, shop_id: int) -> Response:
        self.check_shop(shop_id)
        data = self.body(request)
        self.refuse_unavailable(data)
        external_id = data.get("external_id")
        if external_id:
            for order_id, known in self.external_ids.items():
                if known == external_id:
                    raise SandboxError(409, conflict(order_id, external_id))
        order_id = uuid.uuid4().hex[:24]
        order = self.new_order(order_id, data)
        if external_id:
            self.external_ids[order_id] = str(external_id)
        self.remember(order_id, order, str(external_id or ""))
        return json_response({"id": order_id})

    def list_orders(self, request: Request, shop_id: int) -> Response:
        self.check_shop(shop_id)
        limit = max(1, min(int(request.args.get("limit") or PAGE_LIMIT), PAGE_LIMIT))
        page = max(int(request.args.get("page") or 1), 1)
        status, sku = request.args.get("status"), request.args.get("sku")
        with self.lock:
            newest_first = [
                order
                for order in reversed(self.orders.values())
                if (not status or order["status"] == status)
                and (not sku or any(line["metadata"]["sku"] == sku for line in order["line_items"]))
            ]
        last_page = max(1, -(-len(newest_first) // limit))
        chunk = newest_first[(page - 1) * limit : page * limit]
        return json_response(
            {
                "current_page": page,
                "data": chunk,
                "first_page_url": "/?page=1",
                "from": (page - 1) * limit + 1 if chunk else None,
                "last_page": last_page,
                "last_page_url": f"/?page={last_page}",
                "next_page_url": f"/?page={page + 1}" if page < last_page else None,
                "path": "/",
                "per_page": limit,
                "prev_page_url": f"/?page={page - 1}" if page > 1 else None,
                "to": (page - 1) * limit + len(chunk) if chunk else None,
                "total": len(newest_first),
            }
        )

    def get_order(self, request: Request, shop_id: int, order_id: str) -> Response:
        return json_response(self.existing(shop_id, order_id))

    def send_to_production(self, request: Request, shop_id: int, order_id: str) -> Response:
        order = self.existing(shop_id, order_id)
        if order["status"] != "on-hold":
            raise self.reject("Order has already been sent to production")
        order["status"] = "sending-to-production"
        order["sent_to_production_at"] = _now()
        for line in order["line_items"]:
            line["status"] = "sending-to-production"
            line["sent_to_production_at"] = order["sent_to_production_at"]
        return json_response({"id": order_id})

    def cancel_order(self, request: Request, shop_id: int, order_id: str) -> Response:
        order = self.existing(shop_id, order_id)
        if order["status"] not in CANCELLABLE:
            raise self.reject(
                "Order status must be 'on-hold' or 'payment-not-received'", CANNOT_CANCEL
            )
        self.set_status(order, "canceled")
        return json_response(order)

    def create_webhook(self, request: Request, shop_id: int) -> Response:
        self.check_shop(shop_id)
        data = self.body(request)
        if not data.get("topic") or not data.get("url"):
            raise self.reject("topic and url are required")  # the schema requires neither
        hook = {
            "topic": data["topic"],
            "url": data["url"],
            "shop_id": str(shop_id),
            "id": uuid.uuid4().hex[:24],
        }
        self.webhooks.append(hook)
        self.callback_url = str(data["url"])
        if data.get("secret"):
            self.callback_secret = str(data["secret"])
        return json_response(hook)

    # --- details ------------------------------------------------------------------------------

    def new_order(self, order_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """An order as ``components.schemas.order`` describes it."""
        lines = [
            line_item(item, data["address_to"].get("country", "")) for item in data["line_items"]
        ]
        return {
            "id": order_id,
            "app_order_id": f"{self.shop_id}.{len(self.orders) + 1}",
            "address_to": data["address_to"],
            "line_items": lines,
            "metadata": {
                "order_type": "api",
                "shop_order_id": len(self.orders) + 1,
                "shop_order_label": str(data.get("label") or ""),
                "shop_fulfilled_at": None,
                "is_reprint": False,
                "reprinted_order_ids": [],
                "child_reprinted_order_ids": [],
            },
            "total_price": sum(line["metadata"]["price"] * line["quantity"] for line in lines),
            "total_shipping": 400,
            "total_tax": 0,
            "status": "on-hold",
            "shipping_method": int(data.get("shipping_method") or 1),
            "is_printify_express": bool(data.get("is_printify_express")),
            "is_economy_shipping": bool(data.get("is_economy_shipping")),
            "shipments": [],
            "created_at": _now(),
            "sent_to_production_at": None,
            "fulfilled_at": None,
            "printify_connect": {
                "url": f"https://printify.me/{order_id}",
                "id": order_id,
            },
        }

    def check_shop(self, shop_id: int) -> None:
        if shop_id != self.shop_id:
            raise self.fail(404, "Shop not found")

    def existing(self, shop_id: int, order_id: str) -> dict[str, Any]:
        self.check_shop(shop_id)
        with self.lock:
            order = self.orders.get(order_id)
        if order is None:
            raise self.fail(404, "Order not found")
        return order

    def refuse_unavailable(self, data: dict[str, Any]) -> None:
        """The body is valid (REQUEST_SCHEMAS); the variants may still be out of stock."""
        for index, item in enumerate(data["line_items"]):
            variant = str(item.get("variant_id") or item.get("sku"))
            if variant in self.unavailable:
                raise self.reject(
                    f"line_items.{index}.variant_id: Variant {variant} is out of stock",
                    OUT_OF_STOCK,
                )

    def set_status(self, order: dict[str, Any], status: str) -> None:
        order["status"] = status
        for line in order["line_items"]:
            line["status"] = status

    # --- production and callbacks -------------------------------------------------------------

    def callbacks_for(
        self, order: dict[str, Any], to: str, items: Sequence[str] | None
    ) -> list[dict[str, Any]]:
        if to == "shipped":
            return self.ship(order, items)
        if to == "delivered":
            return self.deliver(order, items)
        status = {
            "in_production": "in-production",
            "on_hold": "has-issues",
            "failed": "has-issues",
            "cancelled": "canceled",
        }[to]
        self.set_status(order, status)
        return [self.event("order:updated", order, {"shop_id": self.shop_id, "status": status})]

    def ship(self, order: dict[str, Any], items: Sequence[str] | None) -> list[dict[str, Any]]:
        """One shipment of the lines named by ``items`` (our line ids, echoed as
        ``metadata.external_id``, or Printify SKUs); every unshipped line when None."""
        chosen = [
            line
            for line in order["line_items"]
            if (items is None and line["status"] != "fulfilled")
            or (
                items is not None
                and (line["metadata"]["external_id"] in items or line["metadata"]["sku"] in items)
            )
        ]
        if not chosen:
            return []
        number = f"94001102008{self.new_id()}"
        shipment: dict[str, Any] = {
            "carrier": "usps",
            "number": number,
            "url": f"https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
            "delivered_at": None,
        }
        # which lines it carried: the published order object does not show it
        self.shipped_skus[number] = [line["metadata"]["sku"] for line in chosen]
        order["shipments"].append(shipment)
        shipped_at = _now()
        for line in chosen:
            line["status"] = "fulfilled"
            line["fulfilled_at"] = shipped_at
        done = all(line["status"] == "fulfilled" for line in order["line_items"])
        order["status"] = "fulfilled" if done else "partially-fulfilled"
        if done:
            order["fulfilled_at"] = shipped_at
        data = {
            "shop_id": self.shop_id,
            "shipped_at": shipped_at,
            "carrier": carrier(shipment),
            "skus": list(self.shipped_skus[number]),
        }
        return [self.event("order:shipment:created", order, data)]

    def deliver(self, order: dict[str, Any], items: Sequence[str] | None) -> list[dict[str, Any]]:
        """Deliver the shipments carrying ``items`` (our line ids or SKUs); all when None."""
        wanted = None
        if items is not None:
            wanted = {
                line["metadata"]["sku"]
                for line in order["line_items"]
                if line["metadata"]["external_id"] in items or line["metadata"]["sku"] in items
            }
        events = []
        for shipment in order["shipments"]:
            skus = set(self.shipped_skus[shipment["number"]])
            if shipment["delivered_at"] or (wanted is not None and not skus & wanted):
                continue
            shipment["delivered_at"] = _now()
            data = {
                "shop_id": self.shop_id,
                "delivered_at": shipment["delivered_at"],
                "carrier": carrier(shipment),
                "skus": list(self.shipped_skus[shipment["number"]]),
            }
            events.append(self.event("order:shipment:delivered", order, data))
        return events

    def event(self, kind: str, order: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "type": kind,
            "created_at": _now(),
            "resource": {"id": order["id"], "type": "order", "data": data},
        }

    def sign(self, body: bytes) -> dict[str, str]:
        if not self.callback_secret:
            return {}
        digest = hmac.new(self.callback_secret.encode(), body, hashlib.sha256).hexdigest()
        return {SIGNATURE_HEADER: f"sha256={digest}"}


def carrier(shipment: dict[str, Any]) -> dict[str, str]:
    """``components.schemas.orderShipmentCarrier``."""
    return {
        "code": str(shipment["carrier"]).upper(),
        "tracking_number": shipment["number"],
        "tracking_url": shipment["url"],
    }


def conflict(order_id: str, external_id: str) -> dict[str, Any]:
    """``components.responses.errorOrderConflict``, as published."""
    return {
        "status": "error",
        "code": DUPLICATE_EXTERNAL_ID,
        "message": "Operation failed.",
        "errors": {
            "reason": "Order already exists for the given external_id.",
            "code": DUPLICATE_EXTERNAL_ID,
        },
        "order": {"id": order_id, "external_id": external_id},
    }


def line_item(item: dict[str, Any], country: str) -> dict[str, Any]:
    """A line item of ``components.schemas.order`` for one requested line."""
    # an order by blueprint makes its product on the fly; the answer names that product
    product_id = item.get("product_id") or (
        f"bp{item['blueprint_id']}pp{item['print_provider_id']}"
        if item.get("blueprint_id")
        else f"sku-{item.get('sku')}"
    )
    variant_id = item.get("variant_id") or 0
    sku = str(item.get("sku") or printify_sku(product_id, variant_id))
    return {
        "product_id": product_id,
        "quantity": item["quantity"],
        "variant_id": variant_id,
        "print_provider_id": item.get("print_provider_id") or 99,
        "cost": 1050,
        "shipping_cost": 400,
        "status": "on-hold",
        "metadata": {
            "title": f"Product {product_id}",
            "price": 2200,
            "variant_label": f"Variant {variant_id}",
            "sku": sku,
            "country": country,
            "external_id": item.get("external_id"),
        },
        "sent_to_production_at": None,
        "fulfilled_at": None,
    }
