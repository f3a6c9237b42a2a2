"""Sandbox Prodigi, built from the Prodigi Print API v4.0 reference text: orders with
idempotencyKey (a repeat create answers AlreadyExists with the first order), the cancel
action's outcomes, and CloudEvents callbacks with the full order.

Create bodies are validated against ``schemas/prodigi_create_order.schema.json`` (written from
the reference's "Order object" tables) and refused with the base error object
(``{statusText, statusCode, data, traceParent}`` plus ``outcome: ValidationFailed``, 400).
Callbacks are not signed (the reference documents no signature); they reach the callback URL,
which carries our token.
- Rate limit: none published (no number in the reference documents or anywhere we could
  find), so this sandbox refuses nothing for rate; our client still keeps to its own polite
  limit, shared by every process (ADR 0007).
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Sequence
from typing import Any

from werkzeug.wrappers import Request, Response

from integrator.sandbox.suppliers.base import SandboxSupplier, json_response
from integrator.sandbox.suppliers.validation import json_schema_request

OUTCOME_WORDS = {
    400: "ValidationFailed",
    401: "Unauthorized",
    404: "EntityNotFound",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "InternalServerError",
}
DETAIL_STEPS = (
    "downloadAssets",
    "printReadyAssetsPrepared",
    "allocateProductionLocation",
    "inProduction",
    "shipping",
)
# "Callbacks" > type: com.prodigi + the object + the path of what changed + "#" new value
STAGE_EVENT = "com.prodigi.order.status.stage.changed#{stage}"
# the reference says a callback is sent "when a shipment is made" but gives no type string for
# it; this one follows the documented pattern (the adapter reads the order, never the type)
SHIPMENT_EVENT = "com.prodigi.order.shipments.changed#Shipped"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _trace() -> str:
    return f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"


class ProdigiSandbox(SandboxSupplier):
    NAME = "prodigi"
    API_KEY_HEADER = "X-API-Key"
    REQUEST_SCHEMAS = {"create_order": json_schema_request("prodigi_create_order.schema.json")}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.by_idempotency_key: dict[str, str] = {}

    def rules(self) -> Sequence[tuple[str, str, str]]:
        return (
            ("POST", "/v4.0/Orders", "create_order"),
            ("GET", "/v4.0/Orders", "list_orders"),
            ("GET", "/v4.0/Orders/<order_id>", "get_order"),
            ("GET", "/v4.0/Orders/<order_id>/actions", "get_actions"),
            ("POST", "/v4.0/Orders/<order_id>/actions/cancel", "cancel_order"),
        )

    def error_body(self, status: int, message: str) -> Any:
        word = OUTCOME_WORDS.get(status, "InternalServerError")
        return {
            "outcome": word,
            "statusCode": status,
            "statusText": word,
            "data": {"message": message},
            "traceParent": _trace(),
        }

    # --- endpoints ----------------------------------------------------------------------------

    def create_order(self, request: Request) -> Response:
        data = self.body(request)
        self.validate(data)
        key = str(data.get("idempotencyKey") or "")
        with self.lock:
            if key and key in self.by_idempotency_key:
                order = self.orders[self.by_idempotency_key[key]]
                return json_response(
                    {"outcome": "AlreadyExists", "order": order, "traceParent": _trace()}
                )
            order_id = self.new_id("ord_")
            order = {
                "id": order_id,
                "created": _now(),
                "lastUpdated": _now(),
                "callbackUrl": data.get("callbackUrl"),
                "merchantReference": data.get("merchantReference"),
                "shippingMethod": data["shippingMethod"],
                "idempotencyKey": key or None,
                "status": {
                    "stage": "InProgress",
                    "issues": [],
                    "details": dict.fromkeys(DETAIL_STEPS, "NotStarted"),
                },
                "charges": [],
                "shipments": [],
                "recipient": data["recipient"],
                "items": [
                    {
                        "id": self.new_id("ori_"),
                        "status": "NotYetDownloaded",
                        "merchantReference": item.get("merchantReference"),
                        "sku": item["sku"],
                        "copies": item["copies"],
                        "sizing": item["sizing"],
                        "attributes": item.get("attributes") or {},
                        "assets": [
                            {"id": self.new_id("ast_"), "status": "InProgress", **asset}
                            for asset in item["assets"]
                        ],
                        "recipientCost": item.get("recipientCost"),
                    }
                    for item in data["items"]
                ],
                "packingSlip": data.get("packingSlip"),
                "metadata": data.get("metadata") or {},
            }
            order["status"]["details"]["downloadAssets"] = "InProgress"
            if key:
                self.by_idempotency_key[key] = order_id
            self.remember(order_id, order, key or str(data.get("merchantReference") or ""))
        return json_response({"outcome": "Created", "order": order, "traceParent": _trace()})

    def list_orders(self, request: Request) -> Response:
        refs = set(request.args.getlist("merchantReferences"))
        top = int(request.args.get("top", 10))
        with self.lock:
            orders = [o for o in self.orders.values() if not refs or o["merchantReference"] in refs]
        return json_response(
            {
                "outcome": "Ok",
                "orders": orders[:top],
                "hasMore": len(orders) > top,
                "nextUrl": None,
                "traceParent": _trace(),
            }
        )

    def get_order(self, request: Request, order_id: str) -> Response:
        return json_response(
            {"outcome": "Ok", "order": self.existing(order_id), "traceParent": _trace()}
        )

    def get_actions(self, request: Request, order_id: str) -> Response:
        order = self.existing(order_id)
        available = "Yes" if self.cancellable(order) else "No"
        return json_response(
            {
                "outcome": "Ok",
                "cancel": {"isAvailable": available},
                "changeRecipientDetails": {"isAvailable": available},
                "changeShippingMethod": {"isAvailable": available},
                "changeMetaData": {"isAvailable": "Yes"},
                "traceParent": _trace(),
            }
        )

    def cancel_order(self, request: Request, order_id: str) -> Response:
        order = self.existing(order_id)
        if order["status"]["stage"] == "Cancelled" or not self.cancellable(order):
            return json_response(
                {"outcome": "ActionNotAvailable", "order": order, "traceParent": _trace()}
            )
        order["status"]["stage"] = "Cancelled"
        return json_response({"outcome": "Cancelled", "order": order, "traceParent": _trace()})

    # --- details ------------------------------------------------------------------------------

    def cancellable(self, order: dict[str, Any]) -> bool:
        details = order["status"]["details"]
        return bool(
            order["status"]["stage"] == "InProgress" and details["inProduction"] == "NotStarted"
        )

    def existing(self, order_id: str) -> dict[str, Any]:
        with self.lock:
            order = self.orders.get(order_id)
        if order is None:
            raise self.fail(404, f"Order {order_id} not found")
        return order

    def validate(self, data: dict[str, Any]) -> None:
        """What the schema cannot say: which SKUs this lab can make."""
        for index, item in enumerate(data["items"]):
            if item["sku"] in self.unavailable:
                raise self.fail(
                    400,
                    f"items[{index}].sku: ItemUnavailable - {item['sku']} is "
                    "not available for this destination",
                )

    # --- production and callbacks -------------------------------------------------------------

    def callbacks_for(
        self, order: dict[str, Any], to: str, items: Sequence[str] | None
    ) -> list[dict[str, Any]]:
        status = order["status"]
        details = status["details"]
        if to == "in_production":
            details.update(
                downloadAssets="Complete",
                printReadyAssetsPrepared="Complete",
                allocateProductionLocation="Complete",
                inProduction="InProgress",
            )
        elif to == "on_hold":
            status["issues"] = [
                {
                    "objectId": order["id"],
                    "errorCode": "order.RequiresPaymentAuthorisation",
                    "description": "Payment authorisation required",
                    "authorisationDetails": {"authorisationUrl": "https://example"},
                }
            ]
        elif to == "failed":
            details["downloadAssets"] = "Error"
            status["issues"] = [
                {
                    "objectId": order["items"][0]["id"],
                    "errorCode": "order.items.assets.FailedToDownloaded",
                    "description": "Asset failed to download after 10 attempts",
                }
            ]
        elif to == "cancelled":
            status["stage"] = "Cancelled"
        elif to == "shipped":
            self.ship(order, items)
        elif to == "delivered":
            return []  # Prodigi reports no delivery
        return [self.cloud_event(order)]

    def ship(self, order: dict[str, Any], merchant_refs: Sequence[str] | None) -> None:
        shipped_ids = {i["itemId"] for s in order["shipments"] for i in s["items"]}
        chosen = [
            i
            for i in order["items"]
            if i["id"] not in shipped_ids
            and (merchant_refs is None or i["merchantReference"] in merchant_refs)
        ]
        number = f"9400111{self.new_id()}"
        order["shipments"].append(
            {
                "id": self.new_id("shp_"),
                "status": "Shipped",
                "carrier": {"name": "USPS", "service": "USPS First Class Mail"},
                "tracking": {
                    "number": number,
                    "url": f"https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
                },
                "dispatchDate": _now(),
                "items": [{"itemId": i["id"]} for i in chosen],
                "fulfillmentLocation": {"countryCode": "US", "labCode": "us1"},
            }
        )
        shipped_ids |= {i["id"] for i in chosen}
        details = order["status"]["details"]
        details.update(inProduction="Complete")
        if all(i["id"] in shipped_ids for i in order["items"]):
            details["shipping"] = "Complete"
            order["status"]["stage"] = "Complete"
        else:
            details["shipping"] = "InProgress"

    def cloud_event(self, order: dict[str, Any]) -> dict[str, Any]:
        order["lastUpdated"] = _now()
        kind = (
            SHIPMENT_EVENT
            if order["shipments"] and order["status"]["stage"] == "InProgress"
            else STAGE_EVENT.format(stage=order["status"]["stage"])
        )
        return {
            "specversion": "1.0",
            "type": kind,
            "source": "http://api.sandbox.prodigi.com/v4.0/Orders/",
            "id": self.new_id("evt_"),
            "time": _now(),
            "datacontenttype": "application/json",
            "data": {"order": copy.deepcopy(order)},  # the order as it was at this moment
            "subject": order["id"],
        }
