"""Every reference operation (and every operation the project ships) runs against the sandbox."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse

from integrator.sandbox.shopify import FulfillmentOrderSpec, LineSpec, SandboxShopify, Shop
from integrator.sandbox.shopify.cost import query_cost
from integrator.sandbox.shopify.schema import admin_schema
from integrator.sandbox.shopify.store import THIS_APP
from tests.sandbox_shopify.conftest import Admin

REFERENCE = Path(__file__).resolve().parent / "reference_operations"
PROJECT_OPERATIONS = Path(__file__).resolve().parents[2] / "integrator/shopify/operations"
SINGLE_QUERY_LIMIT = 1000
SUBSCRIPTION = {"uri": "https://integrator.example/webhooks/shopify", "format": "JSON"}


FULFILLMENT_SERVICE_ANSWERS = (
    "AcceptFulfillmentRequest",
    "RejectFulfillmentRequest",
    "AcceptCancellationRequest",
    "RejectCancellationRequest",
)
CANCELLATION_ANSWERS = ("AcceptCancellationRequest", "RejectCancellationRequest")


def reference_documents() -> list[Path]:
    return sorted(REFERENCE.glob("*.graphql"))


def operation_name(document: str) -> str:
    for definition in parse(document).definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.name:
            return definition.name.value
    return ""


def first_fulfillment_order(order: dict[str, Any]) -> dict[str, Any]:
    fulfillment_order: dict[str, Any] = order["fulfillmentOrders"][0]
    return fulfillment_order


def given_fulfillment_variables(order: dict[str, Any]) -> dict[str, Any]:
    """The reference variables, pointed at the seeded FO line item instead of Shopify's."""
    given = json.loads((REFERENCE / "02_fulfillment_create.variables.json").read_text())
    fo = first_fulfillment_order(order)
    group = given["fulfillment"]["lineItemsByFulfillmentOrder"][0]
    group["fulfillmentOrderId"] = fo["id"]
    group["fulfillmentOrderLineItems"][0]["id"] = fo["lineItems"][0]["id"]
    return dict(given)


def prepare_shop_for(name: str, shop: Shop, order: dict[str, Any]) -> None:
    """Put the shop in the state the operation acts on (a fulfillment, a pending request)."""
    fo = first_fulfillment_order(order)
    if name == "FulfillmentServiceUpdate":
        shop.register_fulfillment_service("Our POD", app=THIS_APP)
        shop.move_fulfillment_order(fo["id"], fulfillment_service="Our POD")
    if name == "FulfillmentTrackingInfoUpdate":
        shop.fulfil(fo["id"], {fo["lineItems"][0]["id"]: 1}, {"company": "UPS", "number": "1Z1"})
    if name in FULFILLMENT_SERVICE_ANSWERS:
        # requests reach only FOs at a fulfillment service: this app's, here
        shop.register_fulfillment_service("Our POD", app=THIS_APP)
        shop.move_fulfillment_order(fo["id"], fulfillment_service="Our POD")
        shop.request_fulfillment(fo["id"], "please make it")
    if name in CANCELLATION_ANSWERS:
        fo["requestStatus"] = "ACCEPTED"
        fo["status"] = "IN_PROGRESS"
        shop.request_cancellation(fo["id"], "the buyer changed their mind")


def variables_for(name: str, order: dict[str, Any]) -> dict[str, Any]:
    fo = first_fulfillment_order(order)
    tracking = {"company": "DHL", "number": "JD0002", "url": "https://dhl.example/JD0002"}
    fulfillment_id = order["fulfillments"][0]["id"] if order["fulfillments"] else ""
    return {
        "OrderFulfillmentOrders": {"orderId": order["id"]},
        "FulfillmentOrderLines": {"id": fo["id"]},
        "FulfillmentOrderOrder": {"id": fo["id"]},
        "FulfillmentOrderFulfillments": {"ids": [fo["id"]]},
        "OrderForRouting": {"orderId": order["id"], "metafieldKeys": ["custom.decoration_method"]},
        "OrderFulfillmentState": {"orderId": order["id"]},
        "OrderLineItems": {"orderId": order["id"], "metafieldKeys": ["custom.decoration_method"]},
        "OrderTags": {"orderId": order["id"]},
        "FulfillmentCreate": given_fulfillment_variables(order),
        "FulfillmentTrackingInfoUpdate": {"fulfillmentId": fulfillment_id,
                                          "trackingInfoInput": tracking, "notifyCustomer": True},
        "FulfillmentServiceCreate": {"name": "POD Router", "trackingSupport": True,
                                     "callbackUrl": "https://integrator.example/fs"},
        "AssignedFulfillmentOrders": {},
        "AcceptFulfillmentRequest": {"id": fo["id"], "message": "on it"},
        "RejectFulfillmentRequest": {"id": fo["id"], "reason": "INELIGIBLE_PRODUCT",
                                     "message": "no rule"},
        "AcceptCancellationRequest": {"id": fo["id"], "message": "cancelled at printful"},
        "RejectCancellationRequest": {"id": fo["id"], "message": "in production"},
        "FulfillmentServiceUpdate": {"id": fulfillment_service_id(order),
                                     "callbackUrl": "https://integrator.example/fs2"},
        "CatalogVariants": {"query": "sku:TEE-BLK-M-DTG"},
        "InventoryActivate": {"inventoryItemId": inventory_item_id(order),
                              "locationId": fo["assignedLocation"]["location"]["id"]},
        "OrdersUpdatedSince": {"q": "updated_at:>='2020-01-01T00:00:00Z'",
                               "query": "updated_at:>='2020-01-01T00:00:00Z'"},
        "WebhookSubscriptionCreate": {"topic": "ORDERS_PAID", "webhookSubscription": SUBSCRIPTION},
        "WebhookSubscriptions": {},
        "TagsAdd": {"id": order["id"], "tags": ["routed"]},
        "StageTagSwap": {
            "id": order["id"],
            "add": ["production:submitted"],
            "remove": ["production:routed"],
        },
        "TagsRemove": {"id": order["id"], "tags": ["routed"]},
        "MetafieldsSet": {"metafields": [{"ownerId": order["id"], "namespace": "integrator",
                                          "key": "state", "type": "single_line_text_field",
                                          "value": "routed"}]},
        "ShopCredentials": {},
        "BulkOrdersSince": {},
    }.get(name, {})


def fulfillment_service_id(order: dict[str, Any]) -> str:
    for fo in order["fulfillmentOrders"]:
        service = fo["assignedLocation"]["location"].get("fulfillmentService")
        if service:
            return str(service["id"])
    return ""


def inventory_item_id(order: dict[str, Any]) -> str:
    return str(order["lineItems"][0]["variant"]["inventoryItem"]["id"])


def assert_clean(body: dict[str, Any]) -> None:
    assert "errors" not in body, body["errors"]
    for payload in body["data"].values():
        if isinstance(payload, dict) and "userErrors" in payload:
            assert payload["userErrors"] == []


def without_single_query_limit(sandbox: SandboxShopify) -> None:
    sandbox.config = replace(sandbox.config, max_single_query_cost=None)


@pytest.mark.parametrize("path", reference_documents(), ids=lambda path: path.name)
def test_reference_operation_runs_without_errors(
    path: Path, admin: Admin, sandbox: SandboxShopify, shop: Shop, order: dict[str, Any]
) -> None:
    document = path.read_text()
    name = operation_name(document)
    prepare_shop_for(name, shop, order)
    variables = variables_for(name, order)
    requested = query_cost(admin_schema(), parse(document), None, variables)
    if requested > SINGLE_QUERY_LIMIT:
        # priced by the published rules, these examples' page sizes ask for more than one
        # query may: refused as Shopify documents, nothing taken from the bucket
        refused = admin.run(document, variables)
        assert refused["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
        assert refused["extensions"]["cost"]["requestedQueryCost"] == requested
        assert shop.bucket.status().currently_available == shop.bucket.maximum
        without_single_query_limit(sandbox)

    body = admin.run(document, variables)

    assert_clean(body)
    assert body["extensions"]["cost"]["actualQueryCost"] >= 1


def test_order_fulfillment_orders_answers_the_seeded_order(
    admin: Admin, sandbox: SandboxShopify, order: dict[str, Any]
) -> None:
    without_single_query_limit(sandbox)
    body = admin.run((REFERENCE / "01_order_fulfillment_orders.graphql").read_text(),
                     {"orderId": order["id"]})

    fulfillment_order = body["data"]["order"]["fulfillmentOrders"]["nodes"][0]
    assert [line["remainingQuantity"] for line in fulfillment_order["lineItems"]["nodes"]] == [2, 1, 1]
    assert {"action": "CREATE_FULFILLMENT"} in fulfillment_order["supportedActions"]


def test_assigned_fulfillment_orders_lists_submitted_requests(
    admin: Admin, sandbox: SandboxShopify, shop: Shop, order: dict[str, Any]
) -> None:
    without_single_query_limit(sandbox)
    # only FOs at this app's own fulfillment-service location are "assigned" to it
    shop.register_fulfillment_service("Our POD", app=THIS_APP)
    ours = shop.create_order(
        [LineSpec("TEE-BLK-M-DTG")], fulfillment_orders=[FulfillmentOrderSpec(fulfillment_service="Our POD")]
    )
    shop.add_fulfillment_service("Another POD")  # another app's service
    theirs = shop.create_order(
        [LineSpec("TEE-BLK-M-DTG")],
        fulfillment_orders=[FulfillmentOrderSpec(fulfillment_service="Another POD")],
    )
    shop.request_fulfillment(first_fulfillment_order(theirs)["id"], "not ours")
    shop.request_fulfillment(first_fulfillment_order(ours)["id"], "print these")

    body = admin.run((REFERENCE / "05_assigned_fulfillment_orders.graphql").read_text())

    nodes = body["data"]["assignedFulfillmentOrders"]["nodes"]
    assert [(node["id"], node["requestStatus"]) for node in nodes] == [
        (first_fulfillment_order(ours)["id"], "SUBMITTED")
    ]
    assert nodes[0]["merchantRequests"]["nodes"][0]["message"] == "print these"


@pytest.mark.parametrize("path", sorted(PROJECT_OPERATIONS.glob("*.graphql")),
                         ids=lambda path: path.name)
def test_project_operation_runs_without_errors(
    path: Path, admin: Admin, shop: Shop, order: dict[str, Any]
) -> None:
    document = path.read_text()
    name = operation_name(document)
    prepare_shop_for(name, shop, order)

    variables = variables_for(name, order)

    body = admin.run(document, variables)

    assert_clean(body)
    # our own documents stay under the single-query limit with room to spare
    assert body["extensions"]["cost"]["requestedQueryCost"] <= SINGLE_QUERY_LIMIT
