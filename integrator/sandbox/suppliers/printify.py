"""Sandbox Printify: one shop's orders, its validation error body, webhooks by topic.

Like the real API as far as it is documented, ``external_id`` is not unique: a second create
makes a second order. The adapter's look-up-first is what prevents doubles, and
``created_count`` shows whether it did.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence
from typing import Any

from werkzeug.wrappers import Request, Response

from integrator.sandbox.suppliers.base import SandboxError, SandboxSupplier, json_response

# developers.printify.com "Securing your webhooks": with a secret set at registration, each
# event carries X-Pfy-Signature: sha256=<hex HMAC-SHA256 of the raw body keyed with the secret>
SIGNATURE_HEADER = "X-Pfy-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


VALIDATION_FAILED = 8150
CANNOT_CANCEL = 8505
CANCELLABLE = ("on-hold", "payment-not-received")
REQUIRED_ADDRESS = ("first_name", "last_name", "country", "address1", "city", "zip")


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S+00:00", time.gmtime())


class PrintifySandbox(SandboxSupplier):
    NAME = "printify"

    def __init__(self, *, shop_id: int = 815256, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shop_id = shop_id
        self.webhooks: list[dict[str, Any]] = []

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

    def error_body(self, status: int, message: str, code: int | None = None) -> Any:
        if status >= 500 or status in (401, 404, 429):
            return {"status": "error", "code": code or status, "message": message}
        return {
            "status": "error",
            "code": code or VALIDATION_FAILED,
            "message": "Validation failed.",
            "errors": {"reason": message, "code": code or VALIDATION_FAILED},
        }

    def reject(self, message: str, code: int = VALIDATION_FAILED) -> SandboxError:
        return SandboxError(400, self.error_body(400, message, code))

    # --- endpoints ----------------------------------------------------------------------------

    def list_shops(self, request: Request) -> Response:
        return json_response(
            [{"id": self.shop_id, "title": "Sandbox shop", "sales_channel": "shopify"}]
        )

    def create_order(self, request: Request, shop_id: int) -> Response:
        self.check_shop(shop_id)
        data = self.body(request)
        self.validate(data)
        order_id = f"5a96f649b2439217d07{self.new_id()}"
        order = {
            "id": order_id,
            "external_id": data.get("external_id"),
            "label": data.get("label", ""),
            "status": "on-hold",
            "address_to": data["address_to"],
            "line_items": [
                {
                    "product_id": item.get("product_id"),
                    "variant_id": item.get("variant_id"),
                    "quantity": item["quantity"],
                    "status": "on-hold",
                    "metadata": {"sku": str(item.get("sku") or item.get("variant_id"))},
                }
                for item in data["line_items"]
            ],
            "shipments": [],
            "created_at": _now(),
        }
        self.remember(order_id, order, str(data.get("external_id") or ""))
        return json_response({"id": order_id})

    def list_orders(self, request: Request, shop_id: int) -> Response:
        self.check_shop(shop_id)
        limit = min(int(request.args.get("limit", 10)), 10)
        page = max(int(request.args.get("page", 1)), 1)
        with self.lock:
            newest_first = list(reversed(self.orders.values()))
        last_page = max(1, -(-len(newest_first) // limit))
        return json_response(
            {
                "current_page": page,
                "data": newest_first[(page - 1) * limit : page * limit],
                "last_page": last_page,
                "per_page": limit,
                "total": len(newest_first),
            }
        )

    def get_order(self, request: Request, shop_id: int, order_id: str) -> Response:
        return json_response(self.existing(shop_id, order_id))

    def send_to_production(self, request: Request, shop_id: int, order_id: str) -> Response:
        order = self.existing(shop_id, order_id)
        if order["status"] != "on-hold":
            raise self.reject("Order has already been sent to production", 8503)
        order["status"] = "sending-to-production"
        return json_response(order)

    def cancel_order(self, request: Request, shop_id: int, order_id: str) -> Response:
        order = self.existing(shop_id, order_id)
        if order["status"] not in CANCELLABLE:
            raise self.reject(
                "Order status must be 'on-hold' or 'payment-not-received'", CANNOT_CANCEL
            )
        order["status"] = "canceled"
        return json_response(order)

    def create_webhook(self, request: Request, shop_id: int) -> Response:
        self.check_shop(shop_id)
        data = self.body(request)
        if not data.get("topic") or not data.get("url"):
            raise self.reject("topic and url are required")
        hook = {
            "id": self.new_id("wh"),
            "topic": data["topic"],
            "url": data["url"],
            "shop_id": shop_id,
        }
        self.webhooks.append(hook)
        self.callback_url = str(data["url"])
        if data.get("secret"):
            self.callback_secret = str(data["secret"])
        return json_response(hook)

    # --- details ------------------------------------------------------------------------------

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

    def validate(self, data: dict[str, Any]) -> None:
        address = data.get("address_to")
        if not isinstance(address, dict):
            raise self.reject("address_to: The address to field is required.")
        for field in REQUIRED_ADDRESS:
            if not address.get(field):
                raise self.reject(f"address_to.{field}: The address_to.{field} field is required.")
        items = data.get("line_items")
        if not isinstance(items, list) or not items:
            raise self.reject("line_items: The line items field is required.")
        for index, item in enumerate(items):
            if not (item.get("sku") or (item.get("product_id") and item.get("variant_id"))):
                raise self.reject(
                    f"line_items.{index}: product_id and variant_id, or sku, are required."
                )
            variant = str(item.get("variant_id") or item.get("sku"))
            if variant in self.unavailable:
                raise self.reject(
                    f"line_items.{index}.variant_id: Variant {variant} is out of stock", 8253
                )

    # --- production and callbacks -------------------------------------------------------------

    def callbacks_for(
        self, order: dict[str, Any], to: str, items: Sequence[str] | None
    ) -> list[dict[str, Any]]:
        if to in ("shipped", "delivered"):
            return [self.ship(order, items, delivered=to == "delivered")]
        status = {
            "in_production": "in-production",
            "on_hold": "has-issues",
            "failed": "has-issues",
            "cancelled": "canceled",
        }[to]
        order["status"] = status
        for line in order["line_items"]:
            line["status"] = status
        data: dict[str, Any] = {
            "shop_id": self.shop_id,
            "status": status,
            "external_id": order["external_id"],
        }
        if to in ("on_hold", "failed"):
            data["reason"] = "Artwork could not be printed at this size"
        return [self.event("order:updated", order, data)]

    def ship(
        self, order: dict[str, Any], skus: Sequence[str] | None, *, delivered: bool
    ) -> dict[str, Any]:
        chosen = [
            line for line in order["line_items"] if skus is None or line["metadata"]["sku"] in skus
        ]
        if delivered and order["shipments"]:
            shipment = order["shipments"][-1]
            shipment["delivered_at"] = _now()
        else:
            number = f"94001102008{self.new_id()}"
            shipment = {
                "carrier": "USPS",
                "number": number,
                "url": f"https://example.com/track/{number}",
                "delivered_at": None,
            }
            order["shipments"].append(shipment)
            for line in chosen:
                line["status"] = "fulfilled"
        done = all(line["status"] == "fulfilled" for line in order["line_items"])
        order["status"] = "fulfilled" if done else "partially-fulfilled"
        data = {
            "shop_id": self.shop_id,
            "shipped_at": _now(),
            "carrier": {
                "code": shipment["carrier"],
                "tracking_number": shipment["number"],
                "tracking_url": shipment["url"],
            },
            "skus": [line["metadata"]["sku"] for line in chosen],
        }
        if delivered:
            data["delivered_at"] = shipment["delivered_at"]
        kind = "order:shipment:delivered" if delivered else "order:shipment:created"
        return self.event(kind, order, data)

    def event(self, kind: str, order: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.new_id("evt_"),
            "type": kind,
            "created_at": _now(),
            "resource": {"id": order["id"], "type": "order", "data": data},
        }

    def sign(self, body: bytes) -> dict[str, str]:
        return {SIGNATURE_HEADER: sign(self.callback_secret, body)} if self.callback_secret else {}
