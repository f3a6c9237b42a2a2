"""Sandbox Gelato against Gelato's published documentation (gelato_v4_api_docs.md): the
document's own request examples are accepted, bad ones refused with Gelato's error body and
nothing made; every answer and callback has the documented shape (our JSON Schemas, written
from the reference tables and checked against the document's own examples)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import requests

from integrator.sandbox.suppliers.gelato import GelatoSandbox
from integrator.sandbox.suppliers.transport import mount
from integrator.sandbox.suppliers.validation import json_schema_request
from tests.suppliers.conftest import FIXTURES, fixture_json

BASE = "http://gelato.sandbox"
KEY = "sandbox-key"
ORDER_SHAPE = json_schema_request("gelato_order.schema.json")
WEBHOOK_SHAPE = json_schema_request("gelato_webhook.schema.json")
# the document's example answers and order webhooks
DOCUMENT_ORDERS = (
    "gelato_v4_get_order.docs.json",
    "gelato_v4_create_order.docs.json",
    "gelato_v4_patch_order.docs.json",
    "gelato_v4_split_create_order.docs.json",
)
DOCUMENT_WEBHOOKS = (
    "gelato_order_status_updated.docs.json",
    "gelato_order_item_status_updated.docs.json",
    "gelato_order_item_tracking_code_updated.docs.json",
    "gelato_order_delivery_estimate_updated.docs.json",
    "gelato_v4_split_order_status_updated_1.docs.json",
    "gelato_v4_split_order_status_updated_2.docs.json",
    "gelato_v4_split_order_item_status_updated_1.docs.json",
    "gelato_v4_split_order_item_status_updated_2.docs.json",
    "gelato_v4_split_order_item_status_updated_3.docs.json",
)


@pytest.fixture
def sandbox() -> GelatoSandbox:
    return GelatoSandbox(api_key=KEY, unavailable={"discontinued_uid"})


@pytest.fixture
def http(sandbox: GelatoSandbox) -> requests.Session:
    session = requests.Session()
    session.headers["X-API-KEY"] = KEY
    return mount(session, BASE, sandbox)


def docs_order() -> dict[str, Any]:
    """"Create order → Request example", as published."""
    body: dict[str, Any] = fixture_json("gelato_v4_create_order_request.docs.json")
    return body


def assert_shape(schema: Any, body: Any) -> None:
    assert [str(p) for p in schema.problems(body)] == [], json.dumps(body)[:300]


# --- requests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "example",
    ["gelato_v4_create_order_request.docs.json", "gelato_v4_split_create_order_request.docs.json"],
)
def test_the_documents_own_create_order_examples_are_accepted(
    sandbox: GelatoSandbox, http: requests.Session, example: str
) -> None:
    body = fixture_json(example)

    answer = http.post(f"{BASE}/v4/orders", json=body, timeout=5)

    assert answer.status_code == 200, answer.text
    assert answer.json()["orderReferenceId"] == body["orderReferenceId"]
    assert sandbox.created_count(body["orderReferenceId"]) == 1


def changed(path: str, value: Any) -> dict[str, Any]:
    """The documented example with one field set (``None``: removed)."""
    body = docs_order()
    *parents, last = path.split(".")
    node: Any = body
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return body


REFUSED = [
    ("shippingAddress.email", None, "shippingAddress: email is required"),
    ("shippingAddress.state", None, "shippingAddress: state is required"),
    ("shippingAddress.country", "ZZ", "shippingAddress.country: 'ZZ' is not a 'iso3166-alpha2'"),
    ("shippingAddress.country", "usa",
     "shippingAddress.country: 'usa' does not match '^[A-Z]{2}$'"),
    ("shippingAddress.firstName", "P" * 26,
     f"shippingAddress.firstName: '{'P' * 26}' is too long"),
    ("shippingAddress.email", "nobody", "shippingAddress.email: 'nobody' does not match"),
    ("items.0.quantity", "lots", "items[0].quantity: 'lots' is not of type 'integer'"),
    ("items.0.quantity", -5, "items[0].quantity: -5 is less than the minimum of 1"),
    ("items.0.files.0.type", "sideways", "items[0].files[0].type: 'sideways' is not one of"),
    ("items", [], "items: [] should be non-empty"),
    ("currency", "XYZ", "currency: 'XYZ' is not one of"),
    ("orderType", "sample", "orderType: 'sample' is not one of ['order', 'draft']"),
    ("customerReferenceId", None, "customerReferenceId is required"),
    ("metadata", [{"key": "k", "value": str(n)} for n in range(21)], "metadata: [{"),
]


@pytest.mark.parametrize(("path", "value", "said"), REFUSED)
def test_what_the_documentation_refuses_is_refused_with_gelatos_error_body(
    sandbox: GelatoSandbox, http: requests.Session, path: str, value: Any, said: str
) -> None:
    answer = http.post(f"{BASE}/v4/orders", json=changed(path, value), timeout=5)

    assert answer.status_code == 400
    body = answer.json()
    assert set(body) == {"code", "message"}  # "Stock availability → Error response"
    assert body["code"] == "invalid_request"
    assert said in body["message"]
    assert sandbox.orders == {}


def test_state_is_not_required_outside_the_us_canada_and_australia(
    sandbox: GelatoSandbox, http: requests.Session
) -> None:
    body = changed("shippingAddress.state", None)
    body["shippingAddress"]["country"] = "DE"

    assert http.post(f"{BASE}/v4/orders", json=body, timeout=5).status_code == 200


def test_a_body_that_is_not_json_is_refused(sandbox: GelatoSandbox,
                                            http: requests.Session) -> None:
    answer = http.post(f"{BASE}/v4/orders", data=b"{", timeout=5)

    assert (answer.status_code, answer.json()) == (
        400, {"code": "invalid_request", "message": "Invalid JSON"})


def test_the_documents_patch_examples(sandbox: GelatoSandbox, http: requests.Session) -> None:
    draft = http.post(f"{BASE}/v4/orders", json={**docs_order(), "orderType": "draft"},
                      timeout=5).json()
    printed = (FIXTURES / "gelato_v4_patch_order_request_items.docs.txt").read_text()

    # the second example is printed with a trailing comma: not JSON, refused as such
    refused = http.patch(f"{BASE}/v4/orders/{draft['id']}", data=printed.encode(), timeout=5)
    wrong = http.patch(f"{BASE}/v4/orders/{draft['id']}", json={"orderType": "draft"}, timeout=5)
    patched = http.patch(f"{BASE}/v4/orders/{draft['id']}",
                         json=fixture_json("gelato_v4_patch_order_request.docs.json"), timeout=5)

    assert refused.status_code == 400 and refused.json()["message"] == "Invalid JSON"
    assert wrong.status_code == 400 and "orderType: 'order' was expected" in wrong.json()["message"]
    assert patched.status_code == 200
    assert (patched.json()["orderType"], patched.json()["fulfillmentStatus"]) == (
        "order", "created")
    again = http.patch(f"{BASE}/v4/orders/{draft['id']}", json={"orderType": "order"}, timeout=5)
    assert again.status_code == 400  # "only orders having orderType equal to draft"


def test_the_documents_search_example_and_its_limit(sandbox: GelatoSandbox,
                                                    http: requests.Session) -> None:
    http.post(f"{BASE}/v4/orders", json=docs_order(), timeout=5)

    found = http.post(f"{BASE}/v4/orders:search",
                      json=fixture_json("gelato_v4_search_orders_request.docs.json"), timeout=5)
    too_many = http.post(f"{BASE}/v4/orders:search", json={"limit": 500}, timeout=5)

    assert found.status_code == 200
    [summary] = found.json()["orders"]
    assert summary["orderReferenceId"] == "{{myOrderId}}" and summary["country"] == "US"
    assert too_many.status_code == 400
    assert "limit: 500 is greater than the maximum of 100" in too_many.json()["message"]


# --- answers and callbacks ------------------------------------------------------------------


@pytest.mark.parametrize("example", DOCUMENT_ORDERS)
def test_our_order_schema_fits_the_documents_own_examples(example: str) -> None:
    assert_shape(ORDER_SHAPE, fixture_json(example))


@pytest.mark.parametrize("example", DOCUMENT_WEBHOOKS)
def test_our_webhook_schema_fits_the_documents_own_examples(example: str) -> None:
    assert_shape(WEBHOOK_SHAPE, fixture_json(example))


def test_every_answer_has_the_documented_shape(sandbox: GelatoSandbox,
                                               http: requests.Session) -> None:
    body = copy.deepcopy(docs_order())
    body["items"].append({**body["items"][0], "itemReferenceId": "{{myItemId2}}"})
    created = http.post(f"{BASE}/v4/orders", json=body, timeout=5).json()
    sandbox.advance(created["id"], "shipped", ["{{myItemId1}}"])
    got = http.get(f"{BASE}/v4/orders/{created['id']}", timeout=5).json()
    draft = http.post(f"{BASE}/v4/orders", json={**docs_order(), "orderType": "draft"},
                      timeout=5).json()
    patched = http.patch(f"{BASE}/v4/orders/{draft['id']}", json={"orderType": "order"},
                         timeout=5).json()

    for order in (created, got, draft, patched):
        assert_shape(ORDER_SHAPE, order)
    # tracking only where "Get order" puts it: a package naming Gelato's own item ids
    [package] = got["shipment"]["packages"]
    assert package["orderItemIds"] == [got["items"][0]["id"]]
    assert all("fulfillments" not in item for item in got["items"])
    [summary, _] = http.post(f"{BASE}/v4/orders:search", json={}, timeout=5).json()["orders"]
    assert {"id", "orderReferenceId", "orderType", "fulfillmentStatus", "financialStatus",
            "channel", "createdAt", "updatedAt"} <= set(summary)
    missing = http.get(f"{BASE}/v4/orders/00000000-0000-0000-0000-000000000000", timeout=5)
    assert missing.status_code == 404 and set(missing.json()) == {"code", "message"}


def test_every_callback_has_the_documented_shape(sandbox: GelatoSandbox,
                                                 http: requests.Session) -> None:
    made = [http.post(f"{BASE}/v4/orders", json={**docs_order(), "orderReferenceId": f"r{n}"},
                      timeout=5).json()["id"] for n in range(2)]

    payloads = [
        *sandbox.advance(made[0], "in_production"),
        *sandbox.advance(made[0], "on_hold"),
        *sandbox.advance(made[0], "shipped"),
        *sandbox.advance(made[0], "delivered"),
        *sandbox.advance(made[1], "failed"),
        *sandbox.advance(made[1], "cancelled"),
    ]

    assert {p["event"] for p in payloads} == {
        "order_status_updated", "order_item_status_updated", "order_item_tracking_code_updated"}
    for payload in payloads:
        assert_shape(WEBHOOK_SHAPE, payload)


def test_cancel_answers_409_once_production_started(sandbox: GelatoSandbox,
                                                    http: requests.Session) -> None:
    order = http.post(f"{BASE}/v4/orders", json=docs_order(), timeout=5).json()
    sandbox.advance(order["id"], "in_production")

    answer = http.post(f"{BASE}/v4/orders/{order['id']}:cancel", timeout=5)

    assert answer.status_code == 409
    assert answer.json() == {
        "code": "conflict",
        "message": "The order cannot be canceled, because at least one of the items is in "
                   "'printed' status.",
    }
