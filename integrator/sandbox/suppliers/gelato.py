"""Sandbox Gelato, order API v4, built from Gelato's published documentation
(``gelato_v4_api_docs.md``, a verbatim copy of https://dashboard.gelato.com/docs/; section
names below are that document's).

- Orders answer in the "Get order" shape: tracking lives only in ``shipment.packages[]``
  (``{id, orderItemIds, trackingCode, trackingUrl}``, Gelato's own item ids), never on items.
- "Search orders" filters by ``ids``, ``orderReferenceId(s)``, ``orderTypes``,
  ``fulfillmentStatuses``, ``countries``; answers ``{"orders": [...]}`` with the documented
  OrderObject fields.
- "Split orders": with ``split_by_family`` the items of different product families (the first
  word of ``productUid``: apparel, flat, canvas, mug...) become connected orders sharing the
  ``orderReferenceId``, each listing all of them in ``connectedOrderIds``; the create answer is
  the first of them.
- "Cancel order": 409 once any item is printed (or later), 404 for an unknown id.
- Like the real API as documented, a repeated ``orderReferenceId`` makes a second order; the
  adapter's search-first prevents that (``created_count`` shows whether it did).
- Errors use the one published body, ``{"code", "message"}`` ("Stock availability → Error
  response"); the codes of order endpoints are not published, so ours are descriptive.
- Webhooks ("Webhooks → Events"): ``order_item_tracking_code_updated`` per shipped item and
  ``order_status_updated`` with ``items[].fulfillments[]``. Gelato signs nothing: the dashboard
  sends a static header of the merchant's choosing (``auth_header``) with the secret.
- Rate limit: none published (no number in the reference documents or anywhere we could
  find), so this sandbox refuses nothing for rate; our client still keeps to its own polite
  limit, shared by every process (ADR 0007).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from werkzeug.wrappers import Request, Response

from integrator.sandbox.suppliers.base import SandboxError, SandboxSupplier, json_response
from integrator.sandbox.suppliers.validation import Problem, json_schema_request

# "Order statuses lifecycle": "An order can only be canceled ... before it moves into
# production"; "Cancel order": 409 once an item is printed
NOT_CANCELLABLE = (
    "in_production",
    "printed",
    "shipped",
    "in_transit",
    "delivered",
    "returned",
    "canceled",
)
SEARCH_LIMIT = 100
SUMMARY_FIELDS = (
    "id",
    "orderReferenceId",
    "orderType",
    "fulfillmentStatus",
    "financialStatus",
    "channel",
    "currency",
    "storeId",
    "connectedOrderIds",
    "createdAt",
    "updatedAt",
    "orderedAt",
)
FACILITY = "21315db8-e694-4ded-a72a-98f60814c6e8"
SHIPMENT_METHOD = ("DHL Express Domestic US", "dhl_express_domestic_us")
# what the dashboard sends when told "I want to take Authorization to this webhook"
DEFAULT_AUTH_HEADER = "X-Integrator-Token"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


def family(product_uid: str) -> str:
    return product_uid.split("_", 1)[0]


class GelatoSandbox(SandboxSupplier):
    NAME = "gelato"
    API_KEY_HEADER = "X-API-KEY"
    # Gelato publishes no machine-readable schema: ours, written from its reference tables
    REQUEST_SCHEMAS = {
        "create_order": json_schema_request("gelato_create_order.schema.json"),
        "patch_order": json_schema_request("gelato_patch_order.schema.json"),
        "search_orders": json_schema_request("gelato_search_orders.schema.json"),
    }

    def __init__(
        self,
        *,
        split_by_family: bool = False,
        auth_header: str = DEFAULT_AUTH_HEADER,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.split_by_family = split_by_family
        self.auth_header = auth_header

    def rules(self) -> Sequence[tuple[str, str, str]]:
        return (
            ("POST", "/v4/orders", "create_order"),
            ("POST", "/v4/orders:search", "search_orders"),
            ("GET", "/v4/orders/<order_id>", "get_order"),
            ("PATCH", "/v4/orders/<order_id>", "patch_order"),
            ("DELETE", "/v4/orders/<order_id>", "delete_order"),
            ("POST", "/v4/orders/<order_id>:cancel", "cancel_order"),
        )

    def error_body(self, status: int, message: str) -> Any:
        codes = {
            400: "invalid_request",
            401: "invalid_api_key_provided",
            404: "not_found",
            409: "conflict",
            429: "too_many_requests",
        }
        return {"code": codes.get(status, "internal_server_error"), "message": message}

    def invalid_request(self, problems: Sequence[Problem]) -> SandboxError:
        return self.fail(400, "; ".join(str(problem) for problem in problems))

    # --- endpoints ----------------------------------------------------------------------------

    def create_order(self, request: Request) -> Response:
        data = self.body(request)
        self.refuse_unavailable(data)
        groups = self.production_groups(data["items"])
        ids = [str(uuid.uuid4()) for _ in groups]
        orders = [
            self.new_order(order_id, data, items, ids)
            for order_id, items in zip(ids, groups, strict=True)
        ]
        for order in orders:
            self.orders[order["id"]] = order
        # counts what the merchant asked for: one create, however Gelato splits it
        self.remember(orders[0]["id"], orders[0], str(data["orderReferenceId"]))
        return json_response(orders[0])

    def search_orders(self, request: Request) -> Response:
        data = self.body(request)
        limit = min(int(data.get("limit") or 50), SEARCH_LIMIT)
        offset = int(data.get("offset") or 0)
        with self.lock:
            found = [o for o in self.orders.values() if matches(o, data)]
        return json_response({"orders": [summary(o) for o in found[offset : offset + limit]]})

    def get_order(self, request: Request, order_id: str) -> Response:
        return json_response(self.existing(order_id))

    def patch_order(self, request: Request, order_id: str) -> Response:
        order = self.existing(order_id)
        if order["orderType"] != "draft":
            raise self.fail(400, "Only orders having orderType equal to draft can be patched")
        order["orderType"] = "order"
        order["financialStatus"] = "pending"
        self.set_status(order, "created")
        return json_response(order)

    def delete_order(self, request: Request, order_id: str) -> Response:
        order = self.existing(order_id)
        if order["orderType"] != "draft":
            raise self.fail(400, "Only orders having orderType equal to draft can be deleted")
        with self.lock:
            del self.orders[order_id]
        return Response(status=200)

    def cancel_order(self, request: Request, order_id: str) -> Response:
        order = self.existing(order_id)
        if any(item["fulfillmentStatus"] in NOT_CANCELLABLE for item in order["items"]):
            raise self.fail(
                409,
                "The order cannot be canceled, because at least one of the items is in "
                "'printed' status.",
            )
        order["financialStatus"] = "canceled"
        self.set_status(order, "canceled")
        return Response(status=200)

    # --- details ------------------------------------------------------------------------------

    def production_groups(self, items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        if not self.split_by_family:
            return [items]
        groups: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            groups.setdefault(family(str(item["productUid"])), []).append(item)
        return list(groups.values())

    def new_order(
        self,
        order_id: str,
        data: dict[str, Any],
        items: list[dict[str, Any]],
        connected: list[str],
    ) -> dict[str, Any]:
        """An order as "Get order → Response" describes it."""
        draft = data.get("orderType") == "draft"
        status = "draft" if draft else "created"
        now = _now()
        address = data["shippingAddress"]
        return {
            "id": order_id,
            "orderType": "draft" if draft else "order",
            "orderReferenceId": data["orderReferenceId"],
            "customerReferenceId": data["customerReferenceId"],
            "fulfillmentStatus": status,
            "financialStatus": "draft" if draft else "pending",
            "currency": data["currency"],
            "channel": "api",
            "storeId": None,
            "createdAt": now,
            "updatedAt": now,
            "orderedAt": now,
            "items": [
                {
                    "id": str(uuid.uuid4()),
                    "itemReferenceId": item["itemReferenceId"],
                    "productUid": item["productUid"],
                    "files": list(item.get("files") or []),
                    "processedFileUrl": None,
                    "quantity": item["quantity"],
                    "fulfillmentStatus": status,
                    "previews": [],
                }
                for item in items
            ],
            "shipment": {
                "id": str(uuid.uuid4()),
                "shipmentMethodName": SHIPMENT_METHOD[0],
                "shipmentMethodUid": data.get("shipmentMethodUid") or SHIPMENT_METHOD[1],
                "packageCount": 0,
                "minDeliveryDays": 3,
                "maxDeliveryDays": 5,
                "minDeliveryDate": time.strftime("%Y-%m-%d", time.gmtime(time.time() + 3 * 86400)),
                "maxDeliveryDate": time.strftime("%Y-%m-%d", time.gmtime(time.time() + 5 * 86400)),
                "totalWeight": 300 * len(items),
                "fulfillmentCountry": "US",
                "packages": [],
            },
            "shippingAddress": {"id": str(uuid.uuid4()), "orderId": order_id, **address},
            "receipts": [],
            "connectedOrderIds": list(connected) if len(connected) > 1 else [],
        }

    def existing(self, order_id: str) -> dict[str, Any]:
        with self.lock:
            order = self.orders.get(order_id)
        if order is None:
            raise self.fail(404, "Order not found.")
        return order

    def refuse_unavailable(self, data: dict[str, Any]) -> None:
        """The body is valid (REQUEST_SCHEMAS); the products may still not be made there."""
        for index, item in enumerate(data["items"]):
            if item["productUid"] in self.unavailable:
                raise self.fail(
                    400,
                    f"items[{index}].productUid: Product {item['productUid']} "
                    f"is not available in {data['shippingAddress']['country']}",
                )

    def set_status(self, order: dict[str, Any], status: str) -> None:
        order["fulfillmentStatus"] = status
        order["updatedAt"] = _now()
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
            "fulfillmentFacilityId": FACILITY,
            "status": item["fulfillmentStatus"],
            "comment": comment,
            "created": _now(),
        }

    def ship(self, order: dict[str, Any], item_refs: Sequence[str] | None) -> list[dict[str, Any]]:
        """One package with the chosen items (all not yet shipped when ``item_refs`` is None)."""
        chosen = [
            item
            for item in order["items"]
            if (item_refs is None and item["fulfillmentStatus"] != "shipped")
            or (item_refs is not None and item["itemReferenceId"] in item_refs)
        ]
        if not chosen:
            return []
        code = f"GEL{self.new_id()}"
        package = {
            "id": str(uuid.uuid4()),
            "orderItemIds": [item["id"] for item in chosen],
            "trackingCode": code,
            "trackingUrl": f"https://www.dhl.com/track?code={code}",
        }
        shipment = order["shipment"]
        shipment["packages"].append(package)
        shipment["packageCount"] = len(shipment["packages"])
        for item in chosen:
            item["fulfillmentStatus"] = "shipped"
        everything = all(i["fulfillmentStatus"] == "shipped" for i in order["items"])
        order["fulfillmentStatus"] = "shipped" if everything else "printed"
        order["updatedAt"] = _now()
        tracking = [self.tracking_code_updated(order, item, package) for item in chosen]
        return [*tracking, self.order_status_updated(order)]

    def tracking_code_updated(
        self, order: dict[str, Any], item: dict[str, Any], package: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "id": f"tc_{uuid.uuid4().hex[:13]}",
            "event": "order_item_tracking_code_updated",
            "orderId": order["id"],
            "storeId": None,
            "itemReferenceId": item["itemReferenceId"],
            "orderReferenceId": order["orderReferenceId"],
            "trackingCode": package["trackingCode"],
            "trackingUrl": package["trackingUrl"],
            "shipmentMethodName": order["shipment"]["shipmentMethodName"],
            "shipmentMethodUid": order["shipment"]["shipmentMethodUid"],
            "productionCountry": "US",
            "productionStateProvince": "NY",
            "productionFacilityId": FACILITY,
            "created": _now(),
        }

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
                    "itemReferenceId": item["itemReferenceId"],
                    "fulfillmentStatus": item["fulfillmentStatus"],
                    "fulfillments": fulfillments_of(order, item),
                }
                for item in order["items"]
            ],
        }

    def sign(self, body: bytes) -> dict[str, str]:
        # the static header configured in Gelato's dashboard
        return {self.auth_header: self.callback_secret} if self.callback_secret else {}


def fulfillments_of(order: dict[str, Any], item: dict[str, Any]) -> list[dict[str, Any]]:
    """``OrderItemFulfillment``s of an item: one per package carrying it."""
    shipment = order["shipment"]
    return [
        {
            "trackingCode": package["trackingCode"],
            "trackingUrl": package["trackingUrl"],
            "shipmentMethodName": shipment["shipmentMethodName"],
            "shipmentMethodUid": shipment["shipmentMethodUid"],
            "fulfillmentCountry": "US",
            "fulfillmentStateProvince": "NY",
            "fulfillmentFacilityId": FACILITY,
        }
        for package in shipment["packages"]
        if item["id"] in package["orderItemIds"]
    ]


def matches(order: dict[str, Any], search: dict[str, Any]) -> bool:
    """ "Search orders → Request" filters (absent filters match everything)."""
    references = set(search.get("orderReferenceIds") or [])
    if search.get("orderReferenceId"):
        references.add(search["orderReferenceId"])
    filters = (
        (search.get("ids"), order["id"]),
        (references, order["orderReferenceId"]),
        (search.get("orderTypes"), order["orderType"]),
        (search.get("fulfillmentStatuses"), order["fulfillmentStatus"]),
        (search.get("countries"), order["shippingAddress"].get("country")),
    )
    return all(not wanted or value in wanted for wanted, value in filters)


def summary(order: dict[str, Any]) -> dict[str, Any]:
    """A search result ("Search orders → Response → OrderObject")."""
    address = order["shippingAddress"]
    return {
        **{field: order[field] for field in SUMMARY_FIELDS},
        "country": address.get("country"),
        "firstName": address.get("firstName"),
        "lastName": address.get("lastName"),
        "itemsCount": len(order["items"]),
        "totalInclVat": "0.00",
    }
