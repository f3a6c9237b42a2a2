"""A fulfillment service in the sandbox: its location, stocking variants there, the FOs Shopify
assigns to it, the merchant's requests and the service's answers, the callback notification."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from integrator.sandbox.shopify import FulfillmentRefused, LineSpec, Shop, WebhookSender
from tests.sandbox_shopify.conftest import Admin

CREATE = """mutation($name: String!, $url: URL) {
  fulfillmentServiceCreate(name: $name, callbackUrl: $url, trackingSupport: true) {
    fulfillmentService { id serviceName callbackUrl trackingSupport
                         location { id name isFulfillmentService } }
    userErrors { field message } } }"""
ACTIVATE = """mutation($item: ID!, $location: ID!) {
  inventoryActivate(inventoryItemId: $item, locationId: $location) {
    inventoryLevel { isActive location { name } } userErrors { field message } } }"""
TOGGLE = """mutation($item: ID!, $updates: [InventoryBulkToggleActivationInput!]!) {
  inventoryBulkToggleActivation(inventoryItemId: $item, inventoryItemUpdates: $updates) {
    inventoryLevels { location { name } } userErrors { field message code } } }"""
ASSIGNED = """query($status: FulfillmentOrderAssignmentStatus) {
  assignedFulfillmentOrders(first: 10, assignmentStatus: $status) {
    nodes { id status requestStatus assignedLocation { name } lineItems(first: 5) { nodes { sku } } } } }"""
ANSWER = """mutation($id: ID!, $message: String) {
  %s(id: $id, message: $message) {
    fulfillmentOrder { status requestStatus } userErrors { field message } } }"""
REJECT = """mutation($id: ID!, $reason: FulfillmentOrderRejectionReason, $message: String) {
  fulfillmentOrderRejectFulfillmentRequest(id: $id, reason: $reason, message: $message) {
    fulfillmentOrder { status requestStatus
      merchantRequests(first: 5) { nodes { kind message responseData } } }
    userErrors { field message } } }"""
SERVICE = "POD Router"


def create_service(admin: Admin) -> dict[str, Any]:
    body = admin.run(CREATE, {"name": SERVICE, "url": "https://integrator.example/fs"})
    payload: dict[str, Any] = body["data"]["fulfillmentServiceCreate"]
    assert payload["userErrors"] == []
    return payload["fulfillmentService"]  # type: ignore[no-any-return]


def stock_ours(admin: Admin, shop: Shop, sku: str, location_id: str) -> dict[str, Any]:
    variant = shop.variant_by_sku(sku)
    assert variant is not None
    body = admin.run(ACTIVATE, {"item": variant["inventoryItem"]["id"], "location": location_id})
    return body["data"]["inventoryActivate"]  # type: ignore[no-any-return]


@pytest.fixture
def service(admin: Admin, shop: Shop, order: dict[str, Any]) -> dict[str, Any]:
    return create_service(admin)


@pytest.fixture
def ours(admin: Admin, shop: Shop, service: dict[str, Any]) -> dict[str, Any]:
    """A paid order of a tee stocked at our location and a hat stocked only at the shop's."""
    stock_ours(admin, shop, "TEE-BLK-M-DTG", service["location"]["id"])
    return shop.create_order([LineSpec("TEE-BLK-M-DTG", 2), LineSpec("HAT-NVY-EMB", 1)])


def our_fo(order: dict[str, Any]) -> dict[str, Any]:
    return next(
        fo
        for fo in order["fulfillmentOrders"]
        if fo["assignedLocation"]["location"]["name"] == SERVICE
    )


def test_a_service_gets_a_location_of_its_name_and_a_second_one_is_refused(
    admin: Admin, shop: Shop, order: dict[str, Any]
) -> None:
    service = create_service(admin)
    again = admin.run(CREATE, {"name": SERVICE, "url": "https://integrator.example/fs"})
    listed = admin.run("{ shop { fulfillmentServices { serviceName location { name } } } }")

    assert service["location"] == {
        "id": service["location"]["id"],
        "name": SERVICE,
        "isFulfillmentService": True,
    }
    assert (service["callbackUrl"], service["trackingSupport"]) == (
        "https://integrator.example/fs",
        True,
    )
    assert again["data"]["fulfillmentServiceCreate"]["userErrors"] == [
        {"field": ["name"], "message": "Name has already been taken"}
    ]
    assert listed["data"]["shop"]["fulfillmentServices"] == [
        {"serviceName": SERVICE, "location": {"name": SERVICE}}
    ]


def test_a_stocked_variant_lands_in_an_fo_assigned_to_the_service(
    admin: Admin, shop: Shop, service: dict[str, Any], ours: dict[str, Any]
) -> None:
    locations = sorted(
        fo["assignedLocation"]["location"]["name"] for fo in ours["fulfillmentOrders"]
    )
    assigned = admin.run(ASSIGNED, {"status": "FULFILLMENT_UNSUBMITTED"})

    assert locations == [SERVICE, "Shop location"]
    assert shop.stocked_at("TEE-BLK-M-DTG") == ["Shop location", SERVICE]
    assert shop.stocked_at("HAT-NVY-EMB") == ["Shop location"]
    assert assigned["data"]["assignedFulfillmentOrders"]["nodes"] == [
        {
            "id": our_fo(ours)["id"],
            "status": "OPEN",
            "requestStatus": "UNSUBMITTED",
            "assignedLocation": {"name": SERVICE},
            "lineItems": {"nodes": [{"sku": "TEE-BLK-M-DTG"}]},
        }
    ]


def test_activation_is_idempotent_and_refuses_unknown_records(
    admin: Admin, shop: Shop, service: dict[str, Any]
) -> None:
    first = stock_ours(admin, shop, "TEE-BLK-M-DTG", service["location"]["id"])
    second = stock_ours(admin, shop, "TEE-BLK-M-DTG", service["location"]["id"])
    unknown = admin.run(
        ACTIVATE, {"item": "gid://shopify/InventoryItem/1", "location": service["location"]["id"]}
    )

    assert (
        first
        == second
        == {"inventoryLevel": {"isActive": True, "location": {"name": SERVICE}}, "userErrors": []}
    )
    assert unknown["data"]["inventoryActivate"]["inventoryLevel"] is None
    assert unknown["data"]["inventoryActivate"]["userErrors"][0]["field"] == ["inventoryItemId"]


def test_bulk_toggle_moves_stock_and_never_empties_a_variant(
    admin: Admin, shop: Shop, service: dict[str, Any]
) -> None:
    variant = shop.variant_by_sku("HAT-NVY-EMB")
    assert variant is not None
    item = variant["inventoryItem"]["id"]
    primary = shop.primary_location["id"]

    only = admin.run(
        TOGGLE, {"item": item, "updates": [{"locationId": primary, "activate": False}]}
    )
    moved = admin.run(
        TOGGLE,
        {
            "item": item,
            "updates": [
                {"locationId": service["location"]["id"], "activate": True},
                {"locationId": primary, "activate": False},
            ],
        },
    )
    nowhere = admin.run(
        TOGGLE,
        {"item": item, "updates": [{"locationId": "gid://shopify/Location/1", "activate": True}]},
    )

    assert only["data"]["inventoryBulkToggleActivation"]["userErrors"][0]["code"] == (
        "CANNOT_DEACTIVATE_FROM_ONLY_LOCATION"
    )
    assert moved["data"]["inventoryBulkToggleActivation"] == {
        "inventoryLevels": [{"location": {"name": SERVICE}}],
        "userErrors": [],
    }
    assert shop.stocked_at("HAT-NVY-EMB") == [SERVICE]
    assert nowhere["data"]["inventoryBulkToggleActivation"]["userErrors"][0]["code"] == (
        "LOCATION_NOT_FOUND"
    )


def test_a_rejected_request_leaves_the_fo_open_with_the_reason_for_the_merchant(
    admin: Admin, shop: Shop, ours: dict[str, Any]
) -> None:
    fo = our_fo(ours)
    shop.request_fulfillment(fo["id"], "please print")

    rejected = admin.run(
        REJECT,
        {"id": fo["id"], "reason": "INELIGIBLE_PRODUCT", "message": "no routing rule for Hat"},
    )
    again = admin.run(REJECT, {"id": fo["id"], "reason": "OTHER"})

    payload = rejected["data"]["fulfillmentOrderRejectFulfillmentRequest"]
    assert (
        payload["fulfillmentOrder"]["status"],
        payload["fulfillmentOrder"]["requestStatus"],
    ) == ("OPEN", "REJECTED")
    assert payload["fulfillmentOrder"]["merchantRequests"]["nodes"] == [
        {
            "kind": "FULFILLMENT_REQUEST",
            "message": "please print",
            "responseData": {"reason": "INELIGIBLE_PRODUCT", "message": "no routing rule for Hat"},
        }
    ]
    assert again["data"]["fulfillmentOrderRejectFulfillmentRequest"]["userErrors"] == [
        {
            "field": ["id"],
            "message": "Cannot reject fulfillment request for fulfillment order "
            "with request status rejected.",
        }
    ]


@pytest.mark.parametrize(
    ("mutation", "status", "request_status"),
    [
        ("fulfillmentOrderAcceptCancellationRequest", "CLOSED", "CANCELLATION_ACCEPTED"),
        ("fulfillmentOrderRejectCancellationRequest", "IN_PROGRESS", "CANCELLATION_REJECTED"),
    ],
)
def test_cancellation_requests_are_answered_once(
    admin: Admin,
    shop: Shop,
    ours: dict[str, Any],
    mutation: str,
    status: str,
    request_status: str,
) -> None:
    fo = our_fo(ours)
    early = admin.run(ANSWER % mutation, {"id": fo["id"]})
    shop.request_fulfillment(fo["id"])
    admin.run(ANSWER % "fulfillmentOrderAcceptFulfillmentRequest", {"id": fo["id"]})
    shop.request_cancellation(fo["id"], "the buyer changed their mind")

    answered = admin.run(ANSWER % mutation, {"id": fo["id"], "message": "done"})
    twice = admin.run(ANSWER % mutation, {"id": fo["id"]})

    assert early["data"][mutation]["userErrors"][0]["message"].endswith(
        "with request status unsubmitted."
    )
    assert answered["data"][mutation] == {
        "fulfillmentOrder": {"status": status, "requestStatus": request_status},
        "userErrors": [],
    }
    assert twice["data"][mutation]["userErrors"]


def test_answers_reach_only_fos_assigned_to_this_app(
    admin: Admin, shop: Shop, order: dict[str, Any], service: dict[str, Any]
) -> None:
    merchant_fo = order["fulfillmentOrders"][0]

    answer = admin.run(
        ANSWER % "fulfillmentOrderAcceptFulfillmentRequest", {"id": merchant_fo["id"]}
    )

    assert answer["data"]["fulfillmentOrderAcceptFulfillmentRequest"] == {
        "fulfillmentOrder": None,
        "userErrors": [{"field": ["id"], "message": "Fulfillment order does not exist."}],
    }
    with pytest.raises(FulfillmentRefused):
        shop.request_fulfillment(merchant_fo["id"])


def test_an_accepted_fo_cannot_be_moved_until_its_cancellation_is_accepted(
    admin: Admin, shop: Shop, ours: dict[str, Any]
) -> None:
    fo = our_fo(ours)
    shop.request_fulfillment(fo["id"])
    admin.run(ANSWER % "fulfillmentOrderAcceptFulfillmentRequest", {"id": fo["id"]})

    with pytest.raises(FulfillmentRefused):
        shop.move_fulfillment_order(fo["id"], location_name="Shop location")


def test_the_callback_notification_is_signed_with_the_app_secret() -> None:
    seen: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    http = httpx.Client(transport=httpx.MockTransport(receive))
    sender = WebhookSender("app-secret", http=http)

    status = sender.notify_fulfillment_service(
        "https://integrator.example/fs/", "CANCELLATION_REQUEST", "pod-demo.myshopify.com"
    )

    request = seen[0]
    expected = base64.b64encode(
        hmac.new(b"app-secret", request.content, hashlib.sha256).digest()
    ).decode()
    assert status == 200
    assert str(request.url) == "https://integrator.example/fs/fulfillment_order_notification"
    assert json.loads(request.content) == {"kind": "CANCELLATION_REQUEST"}
    assert request.headers["X-Shopify-Hmac-Sha256"] == expected
    assert request.headers["X-Shopify-Shop-Domain"] == "pod-demo.myshopify.com"
