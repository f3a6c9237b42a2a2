"""A small stateful fake of Shopify's token endpoint and Admin GraphQL, for httpx.MockTransport.

It answers the integrator's operations by name from in-memory orders, keeps a cost bucket
on an injected clock (THROTTLED when empty), and records every call it was asked.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx

OPERATION = re.compile(r"^\s*(?:query|mutation)\s+(\w+)", re.MULTILINE)


class FakeClock:
    """Monotonic seconds that only move when someone sleeps."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds


@dataclass
class FakeOrder:
    number: int
    line_items: list[dict[str, Any]]
    fulfillment_orders: list[dict[str, Any]]
    fulfillments: list[dict[str, Any]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    metafields: dict[str, str] = field(default_factory=dict)
    financial_status: str = "PAID"
    updated_at: str = "2026-11-22T01:00:00Z"

    @property
    def gid(self) -> str:
        return f"gid://shopify/Order/{self.number}"


def line_item(
    number: int, quantity: int = 1, sku: str = "TEE-BLK-M-DTG", product_type: str = "T-Shirt"
) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/LineItem/{number}",
        "title": f"Item {number}",
        "quantity": quantity,
        "currentQuantity": quantity,
        "unfulfilledQuantity": quantity,
        "sku": sku,
        "variantTitle": "Black / M",
        "vendor": "Acme",
        "requiresShipping": True,
        "isGiftCard": False,
        "customAttributes": [{"key": "Decoration", "value": "dtg"}],
        "variant": {
            "id": f"gid://shopify/ProductVariant/{number}00",
            "sku": sku,
            "selectedOptions": [
                {"name": "Color", "value": "Black"},
                {"name": "Size", "value": "M"},
            ],
        },
        "product": {
            "id": f"gid://shopify/Product/{number}0",
            "productType": product_type,
            "vendor": "Acme",
            "tags": ["decoration:dtg"],
            "metafields": {
                "nodes": [{"namespace": "custom", "key": "decoration_method", "value": "dtg"}]
            },
        },
    }


def fulfillment_order(
    number: int, lines: list[tuple[int, int, int]], status: str = "OPEN", location: int = 1
) -> dict[str, Any]:
    """``lines`` are (fulfillment-order line number, line item number, remaining quantity)."""
    return {
        "id": f"gid://shopify/FulfillmentOrder/{number}",
        "status": status,
        "requestStatus": "UNSUBMITTED",
        "assignedLocation": {"location": {"id": f"gid://shopify/Location/{location}"}},
        "supportedActions": [{"action": "CREATE_FULFILLMENT"}],
        "lineItems": {
            "nodes": [
                {
                    "id": f"gid://shopify/FulfillmentOrderLineItem/{fol}",
                    "remainingQuantity": remaining,
                    "totalQuantity": remaining,
                    "lineItem": {"id": f"gid://shopify/LineItem/{li}"},
                }
                for fol, li, remaining in lines
            ]
        },
    }


class FakeShopify:
    """Callable for ``httpx.MockTransport``: one shop's token endpoint and GraphQL API."""

    def __init__(
        self,
        clock: FakeClock | None = None,
        bucket_size: float = 1000.0,
        restore_rate: float = 50.0,
        query_cost: float = 10.0,
    ) -> None:
        self.clock = clock or FakeClock()
        self.bucket_size = bucket_size
        self.restore_rate = restore_rate
        self.query_cost = query_cost
        self._available = bucket_size
        self._as_of = self.clock()
        self.orders: dict[str, FakeOrder] = {}
        self.subscriptions: list[dict[str, str]] = []
        self.scopes = ["write_orders", "read_products", "write_merchant_managed_fulfillment_orders"]
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.token_requests: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        self.valid_tokens: set[str] = set()
        self.force_throttled = 0
        self.fail_with_status: list[int] = []
        self.lose_answers = 0  # carry the request out, then answer 502 as a broken proxy would
        self.throttled_answers = 0
        self._ids = itertools.count(9000)

    def add_order(self, order: FakeOrder) -> FakeOrder:
        self.orders[order.gid] = order
        return order

    def mutations(self, name: str) -> list[dict[str, Any]]:
        return [variables for op, variables in self.calls if op == name]

    # --- HTTP --------------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/admin/oauth/access_token":
            return self._token(json.loads(request.content))
        if self.fail_with_status:
            return httpx.Response(self.fail_with_status.pop(0), headers={"Retry-After": "0"})
        if request.headers.get("X-Shopify-Access-Token") not in self.valid_tokens:
            return httpx.Response(401, json={"errors": "[API] Invalid API key or access token"})
        payload = json.loads(request.content)
        match = OPERATION.search(payload["query"])
        assert match, payload["query"]
        response = self._graphql(match.group(1), payload.get("variables") or {})
        if self.lose_answers:
            self.lose_answers -= 1
            return httpx.Response(502)
        return response

    def _token(self, body: dict[str, Any]) -> httpx.Response:
        self.token_requests.append(body)
        token = f"shpat_{len(self.token_requests)}"
        self.valid_tokens.add(token)
        answer: dict[str, Any] = {"access_token": token, "scope": ",".join(self.scopes)}
        if body["grant_type"] == "client_credentials":
            answer["expires_in"] = 86399
        else:
            answer |= {
                "expires_in": 3600,
                "refresh_token": f"shprt_{len(self.token_requests)}",
                "refresh_token_expires_in": 7_776_000,
            }
        return httpx.Response(200, json=answer)

    def _graphql(self, operation: str, variables: dict[str, Any]) -> httpx.Response:
        now = self.clock()
        self._available = min(
            self.bucket_size, self._available + (now - self._as_of) * self.restore_rate
        )
        self._as_of = now
        if self.force_throttled or self._available < self.query_cost:
            self.force_throttled = max(0, self.force_throttled - 1)
            self.throttled_answers += 1
            errors = [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]
            return httpx.Response(200, json={"errors": errors, "extensions": self._cost(None)})
        self._available -= self.query_cost
        self.calls.append((operation, variables))
        handler = re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
        data = getattr(self, f"_op_{handler}")(variables)
        return httpx.Response(200, json={"data": data, "extensions": self._cost(self.query_cost)})

    def _cost(self, actual: float | None) -> dict[str, Any]:
        status = {
            "maximumAvailable": self.bucket_size,
            "currentlyAvailable": self._available,
            "restoreRate": self.restore_rate,
        }
        return {
            "cost": {
                "requestedQueryCost": self.query_cost,
                "actualQueryCost": actual,
                "throttleStatus": status,
            }
        }

    # --- operations --------------------------------------------------------------------------

    def _op_order_for_routing(self, variables: dict[str, Any]) -> dict[str, Any]:
        order = self.orders.get(variables["orderId"])
        if order is None:
            return {"order": None}
        return {
            "order": {
                "id": order.gid,
                "name": f"#{order.number}",
                "email": "jon@example.com",
                "currencyCode": "EUR",
                "displayFinancialStatus": order.financial_status,
                "cancelledAt": None,
                "createdAt": "2026-11-22T00:59:00Z",
                "updatedAt": order.updated_at,
                "tags": order.tags,
                "shippingAddress": {
                    "name": "Steve Shipper",
                    "firstName": "Steve",
                    "lastName": "Shipper",
                    "company": None,
                    "address1": "123 Shipping Street",
                    "address2": None,
                    "city": "Shippington",
                    "provinceCode": "KY",
                    "zip": "40003",
                    "countryCodeV2": "US",
                    "phone": "555-555-5555",
                },
                "lineItems": {"pageInfo": {"hasNextPage": False}, "nodes": order.line_items},
                "fulfillmentOrders": {"nodes": order.fulfillment_orders},
            }
        }

    def _op_order_fulfillment_state(self, variables: dict[str, Any]) -> dict[str, Any]:
        order = self.orders.get(variables["orderId"])
        if order is None:
            return {"order": None}
        return {
            "order": {
                "id": order.gid,
                "fulfillments": order.fulfillments,
                "fulfillmentOrders": {"nodes": order.fulfillment_orders},
            }
        }

    def _op_fulfillment_create(self, variables: dict[str, Any]) -> dict[str, Any]:
        fulfillment = variables["fulfillment"]
        order = self._order_of_fulfillment_order(
            fulfillment["lineItemsByFulfillmentOrder"][0]["fulfillmentOrderId"]
        )
        for group in fulfillment["lineItemsByFulfillmentOrder"]:
            fo = next(f for f in order.fulfillment_orders if f["id"] == group["fulfillmentOrderId"])
            for wanted in group["fulfillmentOrderLineItems"]:
                line = next(n for n in fo["lineItems"]["nodes"] if n["id"] == wanted["id"])
                if line["remainingQuantity"] < wanted["quantity"]:
                    message = "Invalid fulfillment order line item quantity requested."
                    return {
                        "fulfillmentCreate": {
                            "fulfillment": None,
                            "userErrors": [{"field": ["fulfillment"], "message": message}],
                        }
                    }
                line["remainingQuantity"] -= wanted["quantity"]
            if all(n["remainingQuantity"] == 0 for n in fo["lineItems"]["nodes"]):
                fo["status"] = "CLOSED"
            else:
                fo["status"] = "IN_PROGRESS"
        tracking = fulfillment.get("trackingInfo") or {}
        created = {
            "id": f"gid://shopify/Fulfillment/{next(self._ids)}",
            "status": "SUCCESS",
            "trackingInfo": [
                {
                    "number": tracking.get("number"),
                    "company": tracking.get("company"),
                    "url": tracking.get("url"),
                }
            ],
        }
        order.fulfillments.append(created)
        return {"fulfillmentCreate": {"fulfillment": created, "userErrors": []}}

    def _order_of_fulfillment_order(self, fo_id: str) -> FakeOrder:
        return next(
            o for o in self.orders.values() if any(f["id"] == fo_id for f in o.fulfillment_orders)
        )

    def _op_fulfillment_tracking_info_update(self, variables: dict[str, Any]) -> dict[str, Any]:
        for order in self.orders.values():
            for fulfillment in order.fulfillments:
                if fulfillment["id"] == variables["fulfillmentId"]:
                    fulfillment["trackingInfo"] = [variables["trackingInfoInput"]]
                    return {
                        "fulfillmentTrackingInfoUpdate": {
                            "fulfillment": fulfillment,
                            "userErrors": [],
                        }
                    }
        error = {"field": ["fulfillmentId"], "message": "Fulfillment does not exist."}
        return {"fulfillmentTrackingInfoUpdate": {"fulfillment": None, "userErrors": [error]}}

    def _op_order_tags(self, variables: dict[str, Any]) -> dict[str, Any]:
        order = self.orders[variables["orderId"]]
        return {"order": {"id": order.gid, "tags": list(order.tags)}}

    def _op_tags_add(self, variables: dict[str, Any]) -> dict[str, Any]:
        order = self.orders[variables["id"]]
        order.tags.extend(t for t in variables["tags"] if t not in order.tags)
        return {"tagsAdd": {"node": {"id": order.gid}, "userErrors": []}}

    def _op_tags_remove(self, variables: dict[str, Any]) -> dict[str, Any]:
        order = self.orders[variables["id"]]
        order.tags[:] = [t for t in order.tags if t not in variables["tags"]]
        return {"tagsRemove": {"node": {"id": order.gid}, "userErrors": []}}

    def _op_metafields_set(self, variables: dict[str, Any]) -> dict[str, Any]:
        out = []
        for metafield in variables["metafields"]:
            order = self.orders[metafield["ownerId"]]
            order.metafields[f"{metafield['namespace']}.{metafield['key']}"] = metafield["value"]
            out.append({"id": "gid://shopify/Metafield/1", **metafield})
        return {"metafieldsSet": {"metafields": out, "userErrors": []}}

    def _op_orders_updated_since(self, variables: dict[str, Any]) -> dict[str, Any]:
        ordered = sorted(self.orders.values(), key=lambda o: (o.updated_at, o.number))
        start = int(variables.get("after") or 0)
        page = ordered[start : start + 2]  # tiny pages so paging is exercised
        nodes = [
            {
                "id": o.gid,
                "name": f"#{o.number}",
                "updatedAt": o.updated_at,
                "displayFinancialStatus": o.financial_status,
                "displayFulfillmentStatus": "UNFULFILLED",
                "cancelledAt": None,
            }
            for o in page
        ]
        more = start + 2 < len(ordered)
        return {
            "orders": {
                "pageInfo": {"hasNextPage": more, "endCursor": str(start + 2)},
                "nodes": nodes,
            }
        }

    def _op_webhook_subscriptions(self, variables: dict[str, Any]) -> dict[str, Any]:
        return {
            "webhookSubscriptions": {
                "pageInfo": {"hasNextPage": False, "endCursor": None},
                "nodes": self.subscriptions,
            }
        }

    def _op_webhook_subscription_create(self, variables: dict[str, Any]) -> dict[str, Any]:
        created = {
            "id": f"gid://shopify/WebhookSubscription/{next(self._ids)}",
            "topic": variables["topic"],
            "uri": variables["webhookSubscription"]["uri"],
        }
        self.subscriptions.append(created)
        return {"webhookSubscriptionCreate": {"webhookSubscription": created, "userErrors": []}}

    def _op_shop_credentials(self, variables: dict[str, Any]) -> dict[str, Any]:
        return {
            "shop": {"name": "Demo", "myshopifyDomain": "demo.myshopify.com"},
            "currentAppInstallation": {"accessScopes": [{"handle": s} for s in self.scopes]},
        }
