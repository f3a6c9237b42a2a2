"""fulfillmentCreate and friends: Shopify's checks, partial fulfilment, tracking updates."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from integrator.sandbox.shopify import FulfillmentOrderSpec, LineSpec, Shop
from integrator.sandbox.shopify.store import THIS_APP
from tests.sandbox_shopify.conftest import Admin

CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status name trackingInfo(first: 10) { company number url }
                  fulfillmentLineItems(first: 10) { nodes { quantity lineItem { sku } } } }
    userErrors { field message }
  }
}"""
UPDATE = """
mutation($id: ID!, $tracking: FulfillmentTrackingInput!) {
  fulfillmentTrackingInfoUpdate(fulfillmentId: $id, trackingInfoInput: $tracking) {
    fulfillment { trackingInfo(first: 10) { number company } }
    userErrors { field message }
  }
}"""
TRACKING = {"company": "UPS", "number": "1Z999", "url": "https://ups.example/1Z999"}


def fulfillment_input(fulfillment_order: dict[str, Any], quantities: list[int],
                      lines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    lines = lines if lines is not None else fulfillment_order["lineItems"][:len(quantities)]
    return {"fulfillment": {
        "notifyCustomer": False, "trackingInfo": TRACKING,
        "lineItemsByFulfillmentOrder": [{
            "fulfillmentOrderId": fulfillment_order["id"],
            "fulfillmentOrderLineItems": [{"id": line["id"], "quantity": quantity}
                                          for line, quantity in zip(lines, quantities, strict=True)],
        }]}}


def create(admin: Admin, variables: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = admin.run(CREATE, variables)["data"]["fulfillmentCreate"]
    return payload


def test_fulfilling_two_of_three_items_leaves_the_third_open(
    admin: Admin, shop: Shop, order: dict[str, Any]
) -> None:
    fo = order["fulfillmentOrders"][0]

    payload = create(admin, fulfillment_input(fo, [2, 1], fo["lineItems"][:2]))

    assert payload["userErrors"] == []
    assert payload["fulfillment"]["trackingInfo"] == [TRACKING]
    assert [(i["lineItem"]["sku"], i["quantity"])
            for i in payload["fulfillment"]["fulfillmentLineItems"]["nodes"]] == [
        ("TEE-BLK-M-DTG", 2), ("TEE-WHT-L-DTG", 1)]
    assert [line["remainingQuantity"] for line in fo["lineItems"]] == [0, 0, 1]
    assert fo["status"] == "IN_PROGRESS"
    assert order["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    assert shop.counters.fulfillments_by_order[order["id"]] == 1
    assert order["fulfillments"][0]["notifyCustomer"] is False


def test_fulfilling_the_rest_closes_the_fulfillment_order(
    admin: Admin, order: dict[str, Any]
) -> None:
    fo = order["fulfillmentOrders"][0]
    create(admin, fulfillment_input(fo, [2, 1], fo["lineItems"][:2]))

    payload = create(admin, {"fulfillment": {"lineItemsByFulfillmentOrder": [
        {"fulfillmentOrderId": fo["id"]}]}})

    assert payload["userErrors"] == []
    assert payload["fulfillment"]["name"] == f"{order['name']}.2"
    assert fo["status"] == "CLOSED"
    assert order["displayFulfillmentStatus"] == "FULFILLED"
    assert fo["supportedActions"] == []


def test_more_than_remains_is_a_user_error_and_changes_nothing(
    admin: Admin, shop: Shop, order: dict[str, Any]
) -> None:
    fo = order["fulfillmentOrders"][0]

    payload = create(admin, fulfillment_input(fo, [3], fo["lineItems"][:1]))

    assert payload == {"fulfillment": None, "userErrors": [{
        "field": ["fulfillment"],
        "message": "Invalid fulfillment order line item quantity requested."}]}
    assert [line["remainingQuantity"] for line in fo["lineItems"]] == [2, 1, 1]
    assert shop.counters.fulfillments_by_order[order["id"]] == 0


def test_line_item_of_another_fulfillment_order_is_refused(admin: Admin, shop: Shop) -> None:
    order = shop.create_order([LineSpec("A"), LineSpec("B")], fulfillment_orders=[
        FulfillmentOrderSpec(lines=[0]), FulfillmentOrderSpec(lines=[1])])
    first, second = order["fulfillmentOrders"]

    payload = create(admin, fulfillment_input(first, [1], second["lineItems"]))

    assert "does not exist on fulfillment order" in payload["userErrors"][0]["message"]


@pytest.mark.parametrize("status", ["ON_HOLD", "CLOSED", "CANCELLED", "SCHEDULED"])
def test_fulfillment_order_that_cannot_be_fulfilled_is_refused(
    admin: Admin, shop: Shop, order: dict[str, Any], status: str
) -> None:
    fo = shop.set_fulfillment_order_status(order["fulfillmentOrders"][0]["id"], status)

    payload = create(admin, fulfillment_input(fo, [1]))

    assert payload["userErrors"][0]["message"].endswith(f"unfulfillable status= {status.lower()}.")


def test_unknown_fulfillment_order_is_refused(admin: Admin, order: dict[str, Any]) -> None:
    payload = create(admin, {"fulfillment": {"lineItemsByFulfillmentOrder": [
        {"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/404"}]}})

    assert payload["userErrors"][0]["message"] == "Fulfillment order does not exist."


def test_order_without_fulfillment_orders_yet(admin: Admin, shop: Shop) -> None:
    order = shop.create_order([LineSpec("MUG")], fulfillment_orders=[])
    query = "query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id } } } }"

    before = admin.run(query, {"id": order["id"]})["data"]["order"]["fulfillmentOrders"]["nodes"]
    shop.add_fulfillment_orders(order["id"], [FulfillmentOrderSpec()])
    after = admin.run(query, {"id": order["id"]})["data"]["order"]["fulfillmentOrders"]["nodes"]

    assert (len(before), len(after)) == (0, 1)


def test_tracking_update_replaces_tracking(admin: Admin, order: dict[str, Any]) -> None:
    fo = order["fulfillmentOrders"][0]
    created = create(admin, fulfillment_input(fo, [1]))["fulfillment"]

    payload = admin.run(UPDATE, {"id": created["id"], "tracking": {
        "company": "DHL", "number": "JD01"}})["data"]["fulfillmentTrackingInfoUpdate"]

    assert payload == {"fulfillment": {"trackingInfo": [{"number": "JD01", "company": "DHL"}]},
                       "userErrors": []}


def test_tracking_update_of_unknown_fulfillment_is_a_user_error(admin: Admin) -> None:
    payload = admin.run(UPDATE, {"id": "gid://shopify/Fulfillment/404", "tracking": TRACKING})

    assert payload["data"]["fulfillmentTrackingInfoUpdate"]["userErrors"][0]["message"] == (
        "Fulfillment does not exist.")


def test_merchant_fulfilment_outside_the_app_is_not_counted(shop: Shop,
                                                            order: dict[str, Any]) -> None:
    fo = order["fulfillmentOrders"][0]

    shop.fulfil(fo["id"])

    assert fo["status"] == "CLOSED"
    assert shop.counters.fulfillments_by_order[order["id"]] == 0


def test_accepting_a_fulfillment_request(admin: Admin, shop: Shop, order: dict[str, Any]) -> None:
    fo = order["fulfillmentOrders"][0]
    shop.register_fulfillment_service("Our POD", app=THIS_APP)
    shop.move_fulfillment_order(fo["id"], fulfillment_service="Our POD")
    accept = """mutation($id: ID!) { fulfillmentOrderAcceptFulfillmentRequest(id: $id) {
                fulfillmentOrder { status requestStatus } userErrors { message } } }"""

    refused = admin.run(accept, {"id": fo["id"]})["data"]
    shop.request_fulfillment(fo["id"])
    accepted = admin.run(accept, {"id": fo["id"]})["data"]

    assert refused["fulfillmentOrderAcceptFulfillmentRequest"]["userErrors"]
    assert accepted["fulfillmentOrderAcceptFulfillmentRequest"] == {
        "fulfillmentOrder": {"status": "IN_PROGRESS", "requestStatus": "ACCEPTED"},
        "userErrors": []}


def test_cancelled_order_cancels_its_open_fulfillment_orders(shop: Shop,
                                                             order: dict[str, Any]) -> None:
    shop.cancel_order(order["id"])

    assert order["cancelReason"] == "CUSTOMER"
    assert [fo["status"] for fo in order["fulfillmentOrders"]] == ["CANCELLED"]


def test_concurrent_fulfillments_never_take_more_than_remains(admin: Admin, shop: Shop) -> None:
    order = shop.create_order([LineSpec("MUG", quantity=3)])
    fo = order["fulfillmentOrders"][0]

    with ThreadPoolExecutor(max_workers=10) as pool:
        payloads = list(pool.map(lambda _: create(admin, fulfillment_input(fo, [1])), range(10)))

    accepted = [p for p in payloads if not p["userErrors"]]
    assert len(accepted) == 3
    assert fo["lineItems"][0]["remainingQuantity"] == 0
    assert shop.counters.fulfillments_by_order[order["id"]] == 3
