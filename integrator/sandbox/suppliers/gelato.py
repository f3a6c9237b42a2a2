"""Sandbox Gelato: order API v4 shapes, search by reference, draft → order, cancel with 409
once printed, and both tracking event kinds. Like the real API as documented, a repeated
``orderReferenceId`` makes a second order; the adapter's search-first prevents that."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from werkzeug.wrappers import Request, Response

from integrator.sandbox.suppliers.base import SandboxSupplier, json_response

# the header a merchant sets in Gelato's dashboard ("I want to take Authorization to this
# webhook"); the name is ours to choose, the service documents it for its callbacks
TOKEN_HEADER = "X-Integrator-Token"

NOT_CANCELLABLE = ("in_production", "printed", "shipped", "delivered", "canceled")
REQUIRED_ADDRESS = ("firstName", "lastName", "addressLine1", "city", "postCode", "country")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


class GelatoSandbox(SandboxSupplier):
    NAME = "gelato"
    API_KEY_HEADER = "X-API-KEY"

    def rules(self) -> Sequence[tuple[str, str, str]]:
        return (
            ("POST", "/v4/orders", "create_order"),
            ("POST", "/v4/orders:search", "search_orders"),
            ("GET", "/v4/orders/<order_id>", "get_order"),
            ("PATCH", "/v4/orders/<order_id>", "patch_order"),
            ("POST", "/v4/orders/<order_id>:cancel", "cancel_order"),
        )

    def error_body(self, status: int, message: str) -> Any:
        codes = {
            400: "validation_error",
            401: "unauthorized",
            404: "not_found",
            409: "conflict",
            429: "too_many_requests",
        }
        return {
            "code": codes.get(status, "internal_error"),
            "message": message,
            "requestId": str(uuid.uuid4()),
        }

    # --- endpoints ----------------------------------------------------------------------------

    def create_order(self, request: Request) -> Response:
        data = self.body(request)
        self.validate(data)
        order_id = str(uuid.uuid4())
        draft = data.get("orderType") == "draft"
        order = {
            "id": order_id,
            "orderType": "draft" if draft else "order",
            "orderReferenceId": data["orderReferenceId"],
            "customerReferenceId": data.get("customerReferenceId"),
            "fulfillmentStatus": "draft" if draft else "created",
            "financialStatus": "draft" if draft else "pending",
            "currency": data.get("currency", "USD"),
            "channel": "api",
            "storeId": None,
            "createdAt": _now(),
            "shippingAddress": data["shippingAddress"],
            "items": [
                {
                    "id": str(uuid.uuid4()),
                    "itemReferenceId": item["itemReferenceId"],
                    "productUid": item["productUid"],
                    "quantity": item["quantity"],
                    "fulfillmentStatus": "draft" if draft else "created",
                    "fulfillments": [],
                }
                for item in data["items"]
            ],
        }
        self.remember(order_id, order, str(data["orderReferenceId"]))
        return json_response(order)

    def search_orders(self, request: Request) -> Response:
        data = self.body(request)
        wanted = set(data.get("orderReferenceIds") or [])
        with self.lock:
            orders = [
                o for o in self.orders.values() if not wanted or o["orderReferenceId"] in wanted
            ]
        limit = int(data.get("limit") or 50)
        summary = [
            {
                k: o[k]
                for k in (
                    "id",
                    "orderType",
                    "orderReferenceId",
                    "fulfillmentStatus",
                    "financialStatus",
                    "createdAt",
                )
            }
            for o in orders[:limit]
        ]
        return json_response({"orders": summary})

    def get_order(self, request: Request, order_id: str) -> Response:
        return json_response(self.existing(order_id))

    def patch_order(self, request: Request, order_id: str) -> Response:
        order = self.existing(order_id)
        if order["orderType"] != "draft":
            raise self.fail(400, "Only draft orders can be updated")
        if self.body(request).get("orderType") == "order":
            order["orderType"] = "order"
            order["fulfillmentStatus"] = "created"
            for item in order["items"]:
                item["fulfillmentStatus"] = "created"
        return json_response(order)

    def cancel_order(self, request: Request, order_id: str) -> Response:
        order = self.existing(order_id)
        if order["fulfillmentStatus"] in NOT_CANCELLABLE:
            raise self.fail(
                409,
                "Order cannot be canceled, because at least one of the items "
                "is in 'printed' status",
            )
        self.set_status(order, "canceled")
        return Response(status=200)

    # --- details ------------------------------------------------------------------------------

    def existing(self, order_id: str) -> dict[str, Any]:
        with self.lock:
            order = self.orders.get(order_id)
        if order is None:
            raise self.fail(404, f"Order {order_id} not found")
        return order

    def validate(self, data: dict[str, Any]) -> None:
        if not data.get("orderReferenceId"):
            raise self.fail(400, "orderReferenceId: This value should not be blank.")
        address = data.get("shippingAddress")
        if not isinstance(address, dict):
            raise self.fail(400, "shippingAddress: This value should not be blank.")
        for field in REQUIRED_ADDRESS:
            if not address.get(field):
                raise self.fail(400, f"shippingAddress.{field}: This value should not be blank.")
        items = data.get("items")
        if not isinstance(items, list) or not items:
            raise self.fail(400, "items: This collection should contain 1 element or more.")
        for index, item in enumerate(items):
            for field in ("itemReferenceId", "productUid", "quantity"):
                if not item.get(field):
                    raise self.fail(400, f"items[{index}].{field}: This value should not be blank.")
            if item["productUid"] in self.unavailable:
                raise self.fail(
                    400,
                    f"items[{index}].productUid: Product {item['productUid']} "
                    f"is not available in {address['country']}",
                )

    def set_status(self, order: dict[str, Any], status: str) -> None:
        order["fulfillmentStatus"] = status
        for item in order["items"]:
            item["fulfillmentStatus"] = status

    # --- production and callbacks -------------------------------------------------------------

    def callbacks_for(
        self, order: dict[str, Any], to: str, items: Sequence[str] | None
    ) -> list[dict[str, Any]]:
        if to == "shipped":
            return self.ship(order, items)
        status = {
            "in_production": "in_production",
            "on_hold": "on_hold",
            "failed": "failed",
            "cancelled": "canceled",
            "delivered": "delivered",
        }[to]
        self.set_status(order, status)
        comment = {
            "on_hold": "Print file resolution too low, awaiting approval",
            "failed": "Print file could not be downloaded",
        }.get(to)
        item_events = (
            [self.item_status_updated(order, item, comment) for item in order["items"]]
            if comment
            else []
        )
        return [*item_events, self.order_status_updated(order)]

    def item_status_updated(
        self, order: dict[str, Any], item: dict[str, Any], comment: str
    ) -> dict[str, Any]:
        return {
            "id": f"is_{uuid.uuid4().hex[:13]}",
            "event": "order_item_status_updated",
            "itemReferenceId": item["itemReferenceId"],
            "orderReferenceId": order["orderReferenceId"],
            "orderId": order["id"],
            "storeId": None,
            "fulfillmentCountry": "US",
            "fulfillmentStateProvince": "NY",
            "fulfillmentFacilityId": "21315db8-e694-4ded-a72a-98f60814c6e8",
            "status": item["fulfillmentStatus"],
            "comment": comment,
            "created": _now(),
        }

    def ship(self, order: dict[str, Any], item_refs: Sequence[str] | None) -> list[dict[str, Any]]:
        events = []
        for item in order["items"]:
            if item_refs is not None and item["itemReferenceId"] not in item_refs:
                continue
            code = f"GEL{self.new_id()}"
            fulfillment = {
                "trackingCode": code,
                "trackingUrl": f"https://www.dhl.com/track?code={code}",
                "shipmentMethodName": "DHL Express Domestic US",
                "shipmentMethodUid": "dhl_express_domestic_us",
                "fulfillmentCountry": "US",
                "fulfillmentStateProvince": "NY",
                "fulfillmentFacilityId": "21315db8-e694-4ded-a72a-98f60814c6e8",
            }
            item["fulfillments"].append(fulfillment)
            item["fulfillmentStatus"] = "shipped"
            events.append(
                {
                    "id": f"tc_{uuid.uuid4().hex[:13]}",
                    "event": "order_item_tracking_code_updated",
                    "orderId": order["id"],
                    "storeId": None,
                    "itemReferenceId": item["itemReferenceId"],
                    "orderReferenceId": order["orderReferenceId"],
                    "trackingCode": code,
                    "trackingUrl": fulfillment["trackingUrl"],
                    "shipmentMethodName": fulfillment["shipmentMethodName"],
                    "shipmentMethodUid": fulfillment["shipmentMethodUid"],
                    "productionCountry": "US",
                    "productionStateProvince": "NY",
                    "productionFacilityId": fulfillment["fulfillmentFacilityId"],
                    "created": _now(),
                }
            )
        everything = all(i["fulfillmentStatus"] == "shipped" for i in order["items"])
        order["fulfillmentStatus"] = "shipped" if everything else "in_production"
        return [*events, self.order_status_updated(order)]

    def order_status_updated(self, order: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"os_{uuid.uuid4().hex[:13]}",
            "event": "order_status_updated",
            "orderId": order["id"],
            "storeId": None,
            "orderReferenceId": order["orderReferenceId"],
            "fulfillmentStatus": order["fulfillmentStatus"],
            "items": [
                {
                    "itemReferenceId": i["itemReferenceId"],
                    "fulfillmentStatus": i["fulfillmentStatus"],
                    "fulfillments": list(i["fulfillments"]),
                }
                for i in order["items"]
            ],
        }

    def sign(self, body: bytes) -> dict[str, str]:
        # the static header configured in Gelato's dashboard
        return {TOKEN_HEADER: self.callback_secret} if self.callback_secret else {}
