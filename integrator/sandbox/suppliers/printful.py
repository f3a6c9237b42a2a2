"""Sandbox Printful: v1 orders API shapes, its error envelope, and v1 (or signed v2) webhooks.

A second create with an ``external_id`` the store already has is answered the way Printful
documents it (error OR-13, external id in use); nothing is created.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from werkzeug.wrappers import Request, Response

from integrator.sandbox.suppliers.base import SandboxSupplier, json_response
from integrator.suppliers.printful import SIGNATURE_HEADER, sign_v2

CANCELLABLE = ("draft", "pending", "failed", "onhold")


class PrintfulSandbox(SandboxSupplier):
    NAME = "printful"

    def __init__(self, *, store_id: int = 12, webhook_secret: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store_id = store_id
        # when set, callbacks use the v2 envelope and carry x-pf-webhook-signature
        self.webhook_secret = webhook_secret
        self.webhooks: dict[str, Any] = {}

    def rules(self) -> Sequence[tuple[str, str, str]]:
        return (
            ("GET", "/store", "get_store"),
            ("POST", "/orders", "create_order"),
            ("GET", "/orders/<order_key>", "get_order"),
            ("POST", "/orders/<order_key>/confirm", "confirm_order"),
            ("DELETE", "/orders/<order_key>", "cancel_order"),
            ("POST", "/webhooks", "set_webhooks"),
        )

    def error_body(self, status: int, message: str) -> Any:
        reasons = {400: "BadRequest", 401: "Unauthorized", 404: "NotFound", 429: "TooManyRequests"}
        return {
            "code": status,
            "result": message,
            "error": {"reason": reasons.get(status, "Error"), "message": message},
        }

    # --- endpoints ----------------------------------------------------------------------------

    def get_store(self, request: Request) -> Response:
        return self.ok({"id": self.store_id, "name": "Sandbox store", "type": "native"})

    def create_order(self, request: Request) -> Response:
        data = self.body(request)
        self.validate(data)
        external_id = str(data.get("external_id") or "")
        with self.lock:
            if external_id and self.lookup(f"@{external_id}") is not None:
                raise self.fail(400, f"OR-13 External ID {external_id} already in use")
            order_id = self.new_id()
            confirm = request.args.get("confirm", "false").lower() in ("1", "true")
            order = {
                "id": int(order_id),
                "external_id": external_id or None,
                "store": self.store_id,
                "status": "pending" if confirm else "draft",
                "shipping": data.get("shipping", "STANDARD"),
                "created": int(time.time()),
                "updated": int(time.time()),
                "recipient": data["recipient"],
                "items": [{**item, "id": int(self.new_id())} for item in data["items"]],
                "shipments": [],
                "costs": {"currency": "USD", "total": "15.00"},
            }
            self.remember(order_id, order, external_id)
        return self.ok(order)

    def get_order(self, request: Request, order_key: str) -> Response:
        return self.ok(self.existing(order_key))

    def confirm_order(self, request: Request, order_key: str) -> Response:
        order = self.existing(order_key)
        if order["status"] != "draft":
            raise self.fail(400, "OR-1 Order is no longer editable")
        order["status"] = "pending"
        return self.ok(order)

    def cancel_order(self, request: Request, order_key: str) -> Response:
        order = self.existing(order_key)
        if order["status"] not in CANCELLABLE:
            raise self.fail(400, f"Order with status {order['status']} can not be canceled")
        order["status"] = "canceled"
        return self.ok(order)

    def set_webhooks(self, request: Request) -> Response:
        data = self.body(request)
        if not data.get("url"):
            raise self.fail(400, "Missing required parameters")
        self.webhooks = {"url": data["url"], "types": data.get("types", []), "params": {}}
        self.callback_url = str(data["url"])
        return self.ok(self.webhooks)

    # --- details ------------------------------------------------------------------------------

    def ok(self, result: Any) -> Response:
        return json_response({"code": 200, "result": result})

    def validate(self, data: dict[str, Any]) -> None:
        recipient = data.get("recipient")
        if not isinstance(recipient, dict) or not data.get("items"):
            raise self.fail(400, "Missing required parameters")
        for field in ("name", "address1", "city", "country_code"):
            if not recipient.get(field):
                raise self.fail(400, f"Recipient: {field} is required")
        external_id = str(data.get("external_id") or "")
        if len(external_id) > 32:
            raise self.fail(400, "External ID can be up to 32 characters long")
        for index, item in enumerate(data["items"]):
            variant = str(item.get("variant_id") or item.get("sync_variant_id") or "")
            if not variant:
                raise self.fail(400, f"Item {index}: variant_id or sync_variant_id is required")
            if int(item.get("quantity") or 0) < 1:
                raise self.fail(400, f"Item {index}: quantity must be positive")
            if variant in self.unavailable:
                raise self.fail(400, f"OR-6 Item {index}: variant {variant} is out of stock")

    def lookup(self, order_key: str) -> dict[str, Any] | None:
        if order_key.startswith("@"):
            wanted = order_key[1:]
            return next((o for o in self.orders.values() if o["external_id"] == wanted), None)
        return self.orders.get(order_key)

    def existing(self, order_key: str) -> dict[str, Any]:
        with self.lock:
            order = self.lookup(order_key)
        if order is None:
            raise self.fail(404, "Not Found")
        return order

    # --- production and callbacks -------------------------------------------------------------

    def callbacks_for(
        self, order: dict[str, Any], to: str, items: Sequence[str] | None
    ) -> list[dict[str, Any]]:
        if to == "shipped":
            return [self.ship(order, items)]
        if to == "delivered":
            return []  # Printful v1 sends no delivery webhook; reconciliation polls for it
        status, kind, reason = {
            "in_production": ("inprocess", "order_updated", ""),
            "on_hold": ("onhold", "order_put_hold", "Print file needs review"),
            "failed": ("failed", "order_failed", "Print file could not be downloaded"),
            "cancelled": ("canceled", "order_canceled", "Canceled by Printful"),
        }[to]
        order["status"] = status
        data: dict[str, Any] = {"order": order}
        if reason:
            data["reason"] = reason
        return [self.envelope(kind, data)]

    def ship(self, order: dict[str, Any], line_item_ids: Sequence[str] | None) -> dict[str, Any]:
        chosen = [
            i
            for i in order["items"]
            if line_item_ids is None or i.get("external_id") in line_item_ids
        ]
        shipment_id = int(self.new_id())
        tracking = f"9400{shipment_id:018d}"
        shipment = {
            "id": shipment_id,
            "carrier": "USPS",
            "service": "USPS First Class Mail",
            "tracking_number": tracking,
            "tracking_url": f"https://tools.usps.com/go/TrackConfirmAction?tLabels={tracking}",
            "created": int(time.time()),
            "ship_date": time.strftime("%Y-%m-%d"),
            "shipped_at": int(time.time()),
            "reshipment": False,
            "items": [{"item_id": i["id"], "quantity": i["quantity"]} for i in chosen],
        }
        order["shipments"].append(shipment)
        shipped = {i["item_id"] for s in order["shipments"] for i in s["items"]}
        everything = all(i["id"] in shipped for i in order["items"])
        order["status"] = "fulfilled" if everything else "partial"
        if self.webhook_secret:
            return self.envelope("shipment_sent", {"shipment": shipment, "order": order})
        return self.envelope("package_shipped", {"shipment": shipment, "order": order})

    def envelope(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        if self.webhook_secret:
            return {
                "type": kind,
                "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "retries": 0,
                "store_id": self.store_id,
                "data": data,
            }
        return {
            "type": kind,
            "created": int(time.time()),
            "retries": 0,
            "store": self.store_id,
            "data": data,
        }

    def sign(self, body: bytes) -> dict[str, str]:
        if not self.webhook_secret:
            return {}
        return {
            SIGNATURE_HEADER: sign_v2(self.webhook_secret, body),
            "x-pf-webhook-public-key": "c2FuZGJveA==",
        }
