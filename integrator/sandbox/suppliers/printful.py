"""Sandbox Printful, built from Printful's published API v1 document (orders, webhooks) and the
v2 document (shipments of an order, webhook v2 envelope and signing).

- ``POST /orders`` bodies are validated against ``components.requestBodies.OrderInput`` of the
  v1 document (plus the prose constraints of ``printful_v1_order.overlay.schema.json``) and
  refused with v1's error envelope ``{code, result, error{reason, message}}``.
- A second create with an ``external_id`` the store already has is refused (v1 "Errors": OR-13
  EXTERNAL_ID_IN_USE); nothing is created.
- ``DELETE /orders/{id}`` "Cancels pending order or draft" (v1 ``cancelOrderById``): any other
  status is refused.
- ``POST /webhooks`` replaces the store's whole webhook configuration (v1 ``createWebhook``:
  "only one webhook URL can be active for a store, so calling this method disables all existing
  webhook configuration"); ``GET /webhooks`` shows it.
- Asynchronous cost calculation (v1 "Orders API" section): an order holding a variant of
  ``async_cost_variants`` goes on hold; :meth:`finish_cost_calculation` removes the hold and the
  order returns to draft "even if it was created with the auto-confirm option", posting
  ``order_remove_hold``.
- ``GET /v2/orders/{id}/shipments`` answers v2 ``Shipment`` objects with ``shipment_items``.
- Rate limit: v1 "Printful API has a general rate limit of 120 API calls per minute"; v2 tag
  "Rate Limiting": 120 per 60 s with the headers ``X-Ratelimit-Policy: 120;w=60;``,
  ``X-Ratelimit-Limit``, ``X-Ratelimit-Remaining``, ``X-Ratelimit-Reset`` (seconds until the
  bucket is full again) on every answer, and "when receiving a 429 you can use the
  ``retry-after`` header to check when the next request can be made". The 429 carries v1's
  error envelope (general code 429 ``TOO MANY REQUESTS``).
- With ``webhook_secret`` set, callbacks use the v2 envelope (``shipment_sent`` carries no
  items, as in v2 ``WebhookShipmentData``) and are signed as the v2 "Event signing" section
  says: HMAC-SHA256 of the raw body keyed with the configuration's secret key, hex, in
  ``x-pf-webhook-signature``; otherwise v1 envelopes, unsigned.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import time
from collections.abc import Iterable, Sequence
from typing import Any

from werkzeug.wrappers import Request, Response

from integrator.sandbox.suppliers.base import (
    PublishedRateLimit,
    SandboxError,
    SandboxSupplier,
    json_response,
)
from integrator.sandbox.suppliers.validation import Problem, openapi_request

V1_DOCUMENT = "printful_v1_openapi.json.gz"
# v2 "Event signing": header names as documented
SIGNATURE_HEADER = "x-pf-webhook-signature"
PUBLIC_KEY_HEADER = "x-pf-webhook-public-key"
CANCELLABLE = ("pending", "draft")
V1_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    404: "NotFound",
    429: "TooManyRequests",
}
EXTERNAL_ID_IN_USE = "The external_id provided already exists and cannot be used"
COSTS = {
    "currency": "USD",
    "subtotal": "10.00",
    "shipping": "5.00",
    "tax": "0.00",
    "total": "15.00",
}


def signature(secret_key: str, body: bytes) -> str:
    """v2 event signature: HMAC-SHA256 over the raw body, keyed with the secret key, hex."""
    return hmac.new(secret_key.encode(), body, hashlib.sha256).hexdigest()


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


class PrintfulSandbox(SandboxSupplier):
    NAME = "printful"
    PUBLISHED_RATE_LIMIT = PublishedRateLimit(calls=120, window=60.0)
    REQUEST_SCHEMAS = {
        "create_order": openapi_request(
            V1_DOCUMENT, "/orders", "post", overlay="printful_v1_order.overlay.schema.json"
        ),
        "set_webhooks": openapi_request(V1_DOCUMENT, "/webhooks", "post"),
    }

    def __init__(
        self,
        *,
        store_id: int = 12,
        webhook_secret: str = "",
        async_cost_variants: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.store_id = store_id
        # when set, callbacks use the v2 envelope and carry x-pf-webhook-signature
        self.webhook_secret = webhook_secret
        self.async_cost_variants = {str(v) for v in async_cost_variants}
        # shipments announced by a webhook that GET /v2/orders/{id}/shipments does not list
        # yet (the v2 document does not say the two are consistent at once): set by tests
        self.unlisted_shipments: set[str] = set()
        self.list_new_shipments = True
        # v1 WebhookInfo; no URL configured yet
        self.webhooks: dict[str, Any] = {"url": "", "types": [], "params": {}}

    def rules(self) -> Sequence[tuple[str, str, str]]:
        return (
            ("GET", "/store", "get_store"),
            ("POST", "/orders", "create_order"),
            ("GET", "/orders/<order_key>", "get_order"),
            ("POST", "/orders/<order_key>/confirm", "confirm_order"),
            ("DELETE", "/orders/<order_key>", "cancel_order"),
            ("GET", "/webhooks", "get_webhooks"),
            ("POST", "/webhooks", "set_webhooks"),
            ("GET", "/v2/orders/<int:order_id>/shipments", "get_shipments_v2"),
        )

    def error_body(self, status: int, message: str) -> Any:
        """v1 ``components.responses.BadRequest``/``NotFound``: ``code`` is the HTTP status."""
        return {
            "code": status,
            "result": message,
            "error": {"reason": V1_REASONS.get(status, "Error"), "message": message},
        }

    def rate_limit_headers(self, remaining: int, reset: float) -> dict[str, str]:
        limit = self.calls.limit
        assert limit is not None  # only asked when there is one
        return {
            "X-Ratelimit-Policy": f"{limit.calls};w={int(limit.window)};",
            "X-Ratelimit-Limit": str(limit.calls),
            "X-Ratelimit-Remaining": str(remaining),
            "X-Ratelimit-Reset": f"{reset:.1f}".rstrip("0").rstrip("."),
        }

    def problem_details(self, status: int, title: str, details: str) -> SandboxError:
        """v2 ``components.schemas.ProblemDetails``."""
        return SandboxError(
            status,
            {
                "type": "https://developers.printful.com/docs/v2-beta/#section/Errors",
                "status": status,
                "title": title,
                "details": details,
                "instance": "",
            },
        )

    def invalid_request(self, problems: Sequence[Problem]) -> SandboxError:
        return self.fail(400, "; ".join(str(problem) for problem in problems))

    # --- endpoints ----------------------------------------------------------------------------

    def get_store(self, request: Request) -> Response:
        return self.ok({"id": self.store_id, "name": "Sandbox store", "type": "native"})

    def create_order(self, request: Request) -> Response:
        data = self.body(request)
        self.check_order(data)
        external_id = str(data.get("external_id") or "")
        with self.lock:
            if external_id and self.lookup(f"@{external_id}") is not None:
                raise self.fail(400, EXTERNAL_ID_IN_USE)
            order_id = self.new_id()
            confirm = request.args.get("confirm", "false").lower() in ("1", "true")
            costs_later = bool(
                {str(i.get("variant_id")) for i in data["items"]} & self.async_cost_variants
            )
            order = {
                "id": int(order_id),
                "external_id": external_id or None,
                "store": self.store_id,
                "status": "onhold" if costs_later else ("pending" if confirm else "draft"),
                "shipping": data.get("shipping", "STANDARD"),
                "created": int(time.time()),
                "updated": int(time.time()),
                "recipient": data["recipient"],
                "items": [{**item, "id": int(self.new_id())} for item in data["items"]],
                "shipments": [],
                # Costs: strings; not there yet while they are being calculated
                "costs": {"currency": "USD"} if costs_later else dict(COSTS),
            }
            self.remember(order_id, order, external_id)
        return self.ok(order)

    def get_order(self, request: Request, order_key: str) -> Response:
        return self.ok(self.existing(order_key))

    def confirm_order(self, request: Request, order_key: str) -> Response:
        order = self.existing(order_key)
        if order["status"] != "draft":
            raise self.fail(400, "The order is no longer editable")  # OR-1
        order["status"] = "pending"
        return self.ok(order)

    def cancel_order(self, request: Request, order_key: str) -> Response:
        order = self.existing(order_key)
        if order["status"] not in CANCELLABLE:
            raise self.fail(
                400,
                f"Only pending orders and drafts can be canceled; this one is {order['status']}",
            )
        order["status"] = "canceled"
        return self.ok(order)

    def get_webhooks(self, request: Request) -> Response:
        return self.ok(self.webhooks)

    def set_webhooks(self, request: Request) -> Response:
        data = self.body(request)
        # replaces the whole configuration: one URL per store
        self.webhooks = {
            "url": data["url"],
            "types": list(data["types"]),
            "params": data.get("params") or {},
        }
        self.callback_url = str(data["url"])
        return self.ok(self.webhooks)

    def get_shipments_v2(self, request: Request, order_id: int) -> Response:
        with self.lock:
            order = self.orders.get(str(order_id))
        if order is None:
            raise self.problem_details(404, "Not Found", f"Order {order_id} not found")
        items = {i["id"]: i for i in order["items"]}
        shipments = [
            self.v2_shipment(order, s, items)
            for s in order["shipments"]
            if str(s["id"]) not in self.unlisted_shipments
        ]
        here = f"https://api.printful.com/v2/orders/{order_id}/shipments"
        return json_response(
            {
                "data": shipments,
                "_links": {"self": {"href": f"{here}?limit=20&offset=0"}},
                "paging": {"total": len(shipments), "offset": 0, "limit": 20},
            }
        )

    # --- details ------------------------------------------------------------------------------

    def ok(self, result: Any) -> Response:
        return json_response({"code": 200, "result": result})

    def check_order(self, data: dict[str, Any]) -> None:
        """What the schema cannot say: stock."""
        for index, item in enumerate(data["items"]):
            variant = str(item.get("variant_id") or item.get("sync_variant_id") or "")
            if variant in self.unavailable:
                raise self.fail(400, f"OR-6 Item {index}: variant {variant} is out of stock")

    def lookup(self, order_key: str) -> dict[str, Any] | None:
        if order_key.startswith("@"):
            wanted = order_key[1:]
            for order in self.orders.values():
                if order.get("external_id") == wanted:
                    return order
            return None
        return self.orders.get(order_key)

    def existing(self, order_key: str) -> dict[str, Any]:
        with self.lock:
            order = self.lookup(order_key)
        if order is None:
            raise self.fail(404, "Not Found")
        return order

    def v2_shipment(
        self, order: dict[str, Any], shipment: dict[str, Any], items: dict[int, Any]
    ) -> dict[str, Any]:
        return {
            "id": shipment["id"],
            "order_id": order["id"],
            "order_external_id": order.get("external_id"),
            "carrier": shipment["carrier"],
            "service": shipment["service"],
            "shipment_status": "returned" if shipment.get("returned") else "shipped",
            "shipped_at": _iso(int(shipment["shipped_at"])),
            "delivery_status": "in_transit",
            "delivered_at": None,
            "departure_address": {
                "country_name": "United States",
                "country_code": "US",
                "state_code": "CA",
            },
            "is_reshipment": shipment["reshipment"],
            "tracking_url": shipment["tracking_url"],
            "tracking_events": [],
            "estimated_delivery": None,
            "shipment_items": [
                {
                    "id": int(f"{shipment['id']}{n}"),
                    "order_item_id": i["item_id"],
                    "order_item_external_id": items[i["item_id"]].get("external_id"),
                    "order_item_name": items[i["item_id"]].get("name"),
                    "quantity": i["quantity"],
                }
                for n, i in enumerate(shipment["items"])
            ],
        }

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
        data: dict[str, Any] = {"order": self.order_in_event(order)}
        if reason:
            data["reason"] = reason
        return [self.envelope(kind, data)]

    def remove_hold(self, order_id: str, reason: str, status: str = "pending") -> dict[str, Any]:
        """Printful lifts its hold (``order_remove_hold``); the order is ``status`` again."""
        with self.lock:
            order = self.orders[order_id]
            order["status"] = status
            payload = self.envelope(
                "order_remove_hold", {"reason": reason, "order": self.order_in_event(order)}
            )
        self.post_callback(payload)
        return payload

    def finish_cost_calculation(self, order_id: str) -> dict[str, Any]:
        """Costs are known: the hold is removed and the order is a draft again."""
        with self.lock:
            self.orders[order_id]["costs"] = dict(COSTS)
        return self.remove_hold(order_id, "Order costs calculated", status="draft")

    def return_package(self, order_id: str, reason: str) -> dict[str, Any]:
        """The last shipment came back to the fulfillment facility (``package_returned``)."""
        with self.lock:
            order = self.orders[order_id]
            shipment = order["shipments"][-1]
            shipment["returned"] = True
            data = {
                "reason": reason,
                "shipment": self.v2_webhook_shipment(shipment) if self.webhook_secret else shipment,
                "order": self.order_in_event(order),
            }
            payload = self.envelope(
                "shipment_returned" if self.webhook_secret else "package_returned", data
            )
        self.post_callback(payload)
        return payload

    def ship(self, order: dict[str, Any], line_item_ids: Sequence[str] | None) -> dict[str, Any]:
        chosen = [
            i
            for i in order["items"]
            if line_item_ids is None or i.get("external_id") in line_item_ids
        ]
        shipment_id = int(self.new_id())
        tracking = f"9400{shipment_id:018d}"
        now = int(time.time())
        shipment: dict[str, Any] = {
            "id": shipment_id,
            "carrier": "USPS",
            "service": "USPS First Class Mail",
            "tracking_number": tracking,
            "tracking_url": f"https://tools.usps.com/go/TrackConfirmAction?tLabels={tracking}",
            "created": now,
            "ship_date": time.strftime("%Y-%m-%d"),
            # v1 Shipment.shipped_at: type string, "Ship time in unix timestamp"
            "shipped_at": str(now),
            "reshipment": False,
            "items": [{"item_id": i["id"], "quantity": i["quantity"]} for i in chosen],
        }
        order["shipments"].append(shipment)
        if not self.list_new_shipments:
            self.unlisted_shipments.add(str(shipment_id))
        shipped = {i["item_id"] for s in order["shipments"] for i in s["items"]}
        everything = all(i["id"] in shipped for i in order["items"])
        order["status"] = "fulfilled" if everything else "partial"
        if self.webhook_secret:
            # v2 WebhookShipmentData: no items, no carrier
            return self.envelope(
                "shipment_sent",
                {
                    "shipment": self.v2_webhook_shipment(shipment),
                    "order": self.order_in_event(order),
                },
            )
        return self.envelope("package_shipped", {"shipment": shipment, "order": order})

    def v2_webhook_shipment(self, shipment: dict[str, Any]) -> dict[str, Any]:
        """v2 ``WebhookShipmentData.shipment``: no items, no carrier."""
        return {
            "id": shipment["id"],
            "status": "returned" if shipment.get("returned") else "shipped",
            "store_id": self.store_id,
            "tracking_number": shipment["tracking_number"],
            "tracking_url": shipment["tracking_url"],
            "created_at": _iso(shipment["created"]),
            "ship_date": shipment["ship_date"],
            "shipped_at": _iso(int(shipment["shipped_at"])),
            "reshipment": shipment["reshipment"],
        }

    def order_in_event(self, order: dict[str, Any]) -> dict[str, Any]:
        """v1 events carry the whole order; v2 events a summary without items."""
        if not self.webhook_secret:
            return order
        return {
            "id": order["id"],
            "external_id": order.get("external_id"),
            "status": order["status"],
            "store_id": self.store_id,
            "dashboard_url": f"https://www.printful.com/dashboard?order_id={order['id']}",
            "created_at": _iso(order["created"]),
            "updated_at": _iso(time.time()),
        }

    def envelope(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        data = copy.deepcopy(data)  # the order as it was at this moment
        if self.webhook_secret:
            return {
                "type": kind,
                "occurred_at": _iso(time.time()),
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
            SIGNATURE_HEADER: signature(self.webhook_secret, body),
            PUBLIC_KEY_HEADER: "c2FuZGJveA==",
        }
