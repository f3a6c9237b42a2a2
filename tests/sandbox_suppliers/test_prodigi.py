"""Sandbox Prodigi against the Prodigi v4 reference: its own example requests (reference text
and the official Postman collection) are accepted, bad ones refused with Prodigi's base error
object, and nothing is made."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests

from integrator.sandbox.suppliers.prodigi import ProdigiSandbox
from integrator.sandbox.suppliers.transport import mount
from tests.suppliers.conftest import fixture_json

BASE = "http://prodigi.sandbox"
KEY = "sandbox-key"
EXAMPLES = (
    "prodigi_create_order.docs.json",  # reference, "Create order"
    "prodigi_create_order_oms.postman.json",  # Postman collection, "Create Order - OMS"
    "prodigi_create_photobook_order.postman.json",  # Postman, "Create Photobook Order"
)


@pytest.fixture
def sandbox() -> ProdigiSandbox:
    return ProdigiSandbox(api_key=KEY)


@pytest.fixture
def http(sandbox: ProdigiSandbox) -> requests.Session:
    session = requests.Session()
    session.headers["X-API-Key"] = KEY
    return mount(session, BASE, sandbox)


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_published_create_order_examples_are_accepted(
    sandbox: ProdigiSandbox, http: requests.Session, example: str
) -> None:
    body = fixture_json(example)

    answer = http.post(f"{BASE}/v4.0/Orders", json=body, timeout=5)

    assert answer.status_code == 200
    assert answer.json()["outcome"] == "Created"
    order = answer.json()["order"]
    assert order["shippingMethod"] == body["shippingMethod"]
    assert order["recipient"] == body["recipient"]
    assert len(sandbox.orders) == 1


def _changed(path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(fixture_json("prodigi_create_order.docs.json"))
    *parents, last = path.split(".")
    target = body
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_changed("recipient.address.countryCode", "ZZZ"),
         "recipient.address.countryCode: 'ZZZ' is not a 'iso3166-alpha2'"),
        (_changed("recipient.address.countryCode", "UK"),
         "recipient.address.countryCode: 'UK' is not a 'iso3166-alpha2'"),
        (_changed("items.0.copies", "lots"), "items[0].copies: 'lots' is not of type 'integer'"),
        (_changed("items.0.copies", -5), "items[0].copies: -5 is less than the minimum of 1"),
        (_changed("items.0.copies", 2.5), "items[0].copies: 2.5 is not of type 'integer'"),
        (_changed("shippingMethod", "Teleport"),
         "shippingMethod: 'Teleport' is not one of ['Budget', 'Standard', 'Express', 'Overnight']"),
        (_changed("shippingMethod", KeyError), "shippingMethod is required"),
        (_changed("recipient.name", KeyError), "recipient: name is required"),
        (_changed("recipient.address.townOrCity", KeyError),
         "recipient.address: townOrCity is required"),
        (_changed("items.0.sizing", "squash"),
         "items[0].sizing: 'squash' is not one of ['fillPrintArea', 'fitPrintArea', "
         "'stretchToPrintArea']"),
        (_changed("items.0.assets.0.url", KeyError), "items[0].assets[0]: url is required"),
    ],
)
def test_bad_orders_are_refused_with_prodigis_error_object(
    sandbox: ProdigiSandbox, http: requests.Session, body: dict[str, Any], message: str
) -> None:
    answer = http.post(f"{BASE}/v4.0/Orders", json=body, timeout=5)

    assert answer.status_code == 400
    error = answer.json()
    assert set(error) == {"outcome", "statusCode", "statusText", "data", "traceParent"}
    assert (error["outcome"], error["statusCode"]) == ("ValidationFailed", 400)
    assert error["data"] == {"message": message}
    assert sandbox.orders == {}


def test_shipments_name_their_items_and_complete_comes_when_all_shipped(
    sandbox: ProdigiSandbox, http: requests.Session
) -> None:
    body = fixture_json("prodigi_create_order.docs.json")
    body["items"] = [dict(body["items"][0], merchantReference=ref) for ref in ("111", "222")]
    order = http.post(f"{BASE}/v4.0/Orders", json=body, timeout=5).json()["order"]

    [partial] = sandbox.advance(order["id"], "shipped", items=["111"])
    [complete] = sandbox.advance(order["id"], "shipped", items=["222"])

    assert partial["type"] == "com.prodigi.order.shipments.changed#Shipped"
    assert partial["data"]["order"]["status"]["stage"] == "InProgress"
    assert complete["type"] == "com.prodigi.order.status.stage.changed#Complete"
    shipments = complete["data"]["order"]["shipments"]
    ids = {i["merchantReference"]: i["id"] for i in complete["data"]["order"]["items"]}
    assert [[i["itemId"] for i in s["items"]] for s in shipments] == [[ids["111"]], [ids["222"]]]


def keys(value: dict[str, Any]) -> list[str]:
    return sorted(value)


def test_answers_have_the_published_shape(sandbox: ProdigiSandbox, http: requests.Session) -> None:
    body = fixture_json("prodigi_create_order.docs.json")
    created = http.post(f"{BASE}/v4.0/Orders", json=body, timeout=5).json()
    order_id = created["order"]["id"]
    sandbox.advance(order_id, "shipped")
    fetched = http.get(f"{BASE}/v4.0/Orders/{order_id}", timeout=5).json()
    published_create = fixture_json("prodigi_create_order_response.docs.json")  # reference
    published_get = fixture_json("prodigi_get_order_by_id.postman.json")  # Postman collection

    assert keys(created) == keys(published_create) == ["order", "outcome", "traceParent"]
    assert created["outcome"] == published_create["outcome"] == "Created"
    for answer in (created, fetched):
        assert keys(answer["order"]) == keys(published_create["order"])
        assert keys(answer["order"]["status"]) == keys(published_create["order"]["status"])
        assert keys(answer["order"]["status"]["details"]) == keys(
            published_create["order"]["status"]["details"])
        assert keys(answer["order"]["items"][0]) == keys(published_create["order"]["items"][0])
        assert keys(answer["order"]["items"][0]["assets"][0]) == keys(
            published_create["order"]["items"][0]["assets"][0])
    assert keys(fetched) == keys(published_get)
    [shipment] = fetched["order"]["shipments"]
    [published_shipment] = published_get["order"]["shipments"]
    assert keys(shipment) == keys(published_shipment)
    for part in ("carrier", "tracking", "fulfillmentLocation"):
        assert keys(shipment[part]) == keys(published_shipment[part])
    assert keys(shipment["items"][0]) == keys(published_shipment["items"][0]) == ["itemId"]
