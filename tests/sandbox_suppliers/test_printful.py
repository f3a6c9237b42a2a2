"""Sandbox Printful against Printful's published API v1/v2 documents: the documents' own
example requests are accepted, bad ones refused with v1's error envelope, and nothing is made."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests

from integrator.sandbox.suppliers.printful import PrintfulSandbox, signature
from integrator.sandbox.suppliers.transport import mount
from integrator.sandbox.suppliers.validation import (
    load_document,
    openapi_response,
    openapi_webhook,
)

BASE = "http://printful.sandbox"
KEY = "sandbox-key"


def curl_bodies(path: str, method: str) -> list[dict[str, Any]]:
    """The JSON bodies of the document's own curl examples of one operation."""
    operation = load_document("printful_v1_openapi.json.gz")["paths"][path][method]
    bodies = []
    for sample in operation.get("x-codeSamples", []):
        found = re.search(r"--data-raw '(.*)'", sample["source"], re.DOTALL)
        if sample["lang"] == "Curl" and found:
            bodies.append(json.loads(found.group(1)))
    return bodies


@pytest.fixture
def sandbox() -> PrintfulSandbox:
    return PrintfulSandbox(api_key=KEY, unavailable={"9999"})


@pytest.fixture
def http(sandbox: PrintfulSandbox) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {KEY}"
    return mount(session, BASE, sandbox)


def good_order() -> dict[str, Any]:
    [body] = curl_bodies("/orders", "post")
    return body


def test_the_documents_own_create_order_example_is_accepted(
    sandbox: PrintfulSandbox, http: requests.Session
) -> None:
    body = good_order()
    assert body["recipient"]["country_code"] == "US"  # the example from the document

    answer = http.post(f"{BASE}/orders", json={**body, "external_id": "ref-1"}, timeout=5)

    assert answer.status_code == 200
    assert answer.json()["code"] == 200
    assert answer.json()["result"]["status"] == "draft"
    assert sandbox.created_count("ref-1") == 1


def test_the_documents_own_webhook_example_is_accepted(
    sandbox: PrintfulSandbox, http: requests.Session
) -> None:
    [body] = curl_bodies("/webhooks", "post")

    answer = http.post(f"{BASE}/webhooks", json=body, timeout=5)

    assert answer.status_code == 200
    assert answer.json()["result"] == {
        "url": "http://www.example.com/printful/webhook",
        "types": ["package_shipped", "stock_updated"],
        "params": {"stock_updated": {"product_ids": [5, 12]}},
    }


def _recipient(**changes: Any) -> dict[str, Any]:
    body = good_order()
    body["recipient"] = {**body["recipient"], **changes}
    return body


def _item(**changes: Any) -> dict[str, Any]:
    body = good_order()
    body["items"] = [{**body["items"][0], **changes}]
    return body


def _without(key: str) -> dict[str, Any]:
    body = good_order()
    del body[key]
    return body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_recipient(country_code="ZZZ"), "recipient.country_code: 'ZZZ' is not a 'iso3166-alpha2'"),
        (_recipient(country_code="ZZ"), "recipient.country_code: 'ZZ' is not a 'iso3166-alpha2'"),
        (_item(quantity="lots"), "items[0].quantity: 'lots' is not of type 'integer'"),
        (_item(quantity=-5), "items[0].quantity: -5 is less than the minimum of 1"),
        (_item(quantity=1.5), "items[0].quantity: 1.5 is not of type 'integer'"),
        (_item(quantity=1001), "items[0].quantity: 1001 is greater than the maximum of 1000"),
        (_item(variant_id="8630"), "items[0].variant_id: '8630' is not of type 'integer'"),
        (_without("recipient"), "recipient is required"),
        (_without("items"), "items is required"),
        (_recipient(city=""), "recipient: city is required"),
        ({**good_order(), "items": []}, "items: [] should be non-empty"),
    ],
)
def test_bad_orders_are_refused_with_printfuls_error_envelope(
    sandbox: PrintfulSandbox, http: requests.Session, body: dict[str, Any], message: str
) -> None:
    answer = http.post(f"{BASE}/orders", json={**body, "external_id": "ref-bad"}, timeout=5)

    assert answer.status_code == 400
    assert answer.json() == {
        "code": 400,
        "result": message,
        "error": {"reason": "BadRequest", "message": message},
    }
    assert sandbox.created_count("ref-bad") == 0
    assert sandbox.orders == {}


def test_a_body_that_is_not_json_is_refused(http: requests.Session) -> None:
    answer = http.post(f"{BASE}/orders", data=b"{", timeout=5)

    assert answer.status_code == 400
    assert answer.json()["error"] == {"reason": "BadRequest", "message": "Invalid JSON"}


def test_cancel_takes_only_pending_or_draft_orders(
    sandbox: PrintfulSandbox, http: requests.Session
) -> None:
    created = http.post(f"{BASE}/orders", json=good_order(), timeout=5).json()["result"]
    sandbox.orders[str(created["id"])]["status"] = "inprocess"

    refused = http.delete(f"{BASE}/orders/{created['id']}", timeout=5)

    assert refused.status_code == 400
    assert refused.json()["error"]["reason"] == "BadRequest"
    assert sandbox.orders[str(created["id"])]["status"] == "inprocess"


def test_v2_shipments_of_an_order_name_their_items(
    sandbox: PrintfulSandbox, http: requests.Session
) -> None:
    body = good_order()
    body["items"] = [{**body["items"][0], "external_id": "111"}, {**body["items"][0], "external_id": "222"}]
    created = http.post(f"{BASE}/orders", json=body, timeout=5).json()["result"]
    sandbox.advance(str(created["id"]), "shipped", items=["222"])

    answer = http.get(f"{BASE}/v2/orders/{created['id']}/shipments", timeout=5).json()

    [shipment] = answer["data"]
    assert answer["paging"] == {"total": 1, "offset": 0, "limit": 20}
    assert [(i["order_item_external_id"], i["quantity"]) for i in shipment["shipment_items"]] == [
        ("222", 1)
    ]
    missing = http.get(f"{BASE}/v2/orders/999/shipments", timeout=5)
    assert missing.status_code == 404
    assert set(missing.json()) == {"type", "status", "title", "details", "instance"}


# openssl: printf %s '{"type":"shipment_sent"}' | openssl dgst -sha256 -hmac a01376f30766acf7f706cc84beb57b79
OPENSSL_VECTOR = "bfe6c00a5aa0484f4723a541df94ac73ec4a4b69d3e897dc53643984a6e365d0"


def test_v2_callbacks_are_signed_as_printfuls_docs_say() -> None:
    assert signature("a01376f30766acf7f706cc84beb57b79", b'{"type":"shipment_sent"}') == (
        OPENSSL_VECTOR
    )
    sandbox = PrintfulSandbox(api_key=KEY, webhook_secret="a01376f30766acf7f706cc84beb57b79")
    body = b'{"type":"shipment_sent"}'
    headers = sandbox.sign(body)
    assert headers["x-pf-webhook-signature"] == OPENSSL_VECTOR


# --- answers and callbacks have the published shapes -----------------------------------------

V1 = "printful_v1_openapi.json.gz"
V2 = "printful_v2_openapi.json.gz"


def assert_shape(schema: Any, body: Any) -> None:
    assert [str(p) for p in schema.problems(body)] == [], json.dumps(body)[:300]


def test_every_answer_has_the_documented_shape(
    sandbox: PrintfulSandbox, http: requests.Session
) -> None:
    body = good_order()
    body["items"] = [{**body["items"][0], "external_id": "111"}]
    created = http.post(f"{BASE}/orders", json={**body, "external_id": "ref-1"}, timeout=5)
    order_id = created.json()["result"]["id"]
    sandbox.advance(str(order_id), "shipped")

    answers = [
        (openapi_response(V1, "/orders", "post"), created),
        (openapi_response(V1, "/orders/{id}", "get"), http.get(f"{BASE}/orders/{order_id}")),
        (openapi_response(V1, "/orders/{id}", "get"), http.get(f"{BASE}/orders/@ref-1")),
        (openapi_response(V1, "/webhooks", "get"), http.get(f"{BASE}/webhooks")),
        (openapi_response(V1, "/webhooks", "post"),
         http.post(f"{BASE}/webhooks", json={"url": "https://x.test/h", "types": ["package_shipped"]})),
        (openapi_response(V2, "/v2/orders/{order_id}/shipments", "get"),
         http.get(f"{BASE}/v2/orders/{order_id}/shipments")),
        (openapi_response(V1, "/orders", "post", 400),
         http.post(f"{BASE}/orders", json={"items": []})),
        (openapi_response(V1, "/orders/{id}", "get", 404), http.get(f"{BASE}/orders/999")),
    ]
    draft = http.post(f"{BASE}/orders", json={**good_order(), "external_id": "ref-2"},
                      timeout=5).json()["result"]["id"]
    answers += [
        (openapi_response(V1, "/orders/{id}/confirm", "post"),
         http.post(f"{BASE}/orders/{draft}/confirm")),
        (openapi_response(V1, "/orders/{id}", "delete"), http.delete(f"{BASE}/orders/{draft}")),
    ]
    for schema, answer in answers:
        assert answer.status_code in (200, 400, 404)
        assert_shape(schema, answer.json())


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_every_callback_has_the_documented_shape(version: str) -> None:
    sandbox = PrintfulSandbox(api_key=KEY, webhook_secret="key" if version == "v2" else "",
                              async_cost_variants={"8630"})
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {KEY}"
    http = mount(session, BASE, sandbox)
    made = [
        http.post(f"{BASE}/orders", json={**good_order(), "external_id": f"ref-{n}"},
                  timeout=5).json()["result"]["id"]
        for n in range(2)
    ]
    payloads = [
        *sandbox.advance(str(made[0]), "in_production"),
        *sandbox.advance(str(made[0]), "on_hold"),
        sandbox.finish_cost_calculation(str(made[0])),
        *sandbox.advance(str(made[0]), "shipped"),
        sandbox.return_package(str(made[0]), "Unclaimed"),
        *sandbox.advance(str(made[1]), "failed"),
        *sandbox.advance(str(made[1]), "cancelled"),
    ]
    document = V2 if version == "v2" else V1

    assert [p["type"] for p in payloads] == (
        ["order_updated", "order_put_hold", "order_remove_hold", "shipment_sent",
         "shipment_returned", "order_failed", "order_canceled"] if version == "v2" else
        ["order_updated", "order_put_hold", "order_remove_hold", "package_shipped",
         "package_returned", "order_failed", "order_canceled"])
    for payload in payloads:
        assert_shape(openapi_webhook(document, payload["type"]), payload)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"external_id": "x" * 33}, "external_id: '" + "x" * 33 + "' does not match "
                                    "'^[A-Za-z0-9_-]{1,32}$'"),
        ({"external_id": "order #1"}, "external_id: 'order #1' does not match "
                                      "'^[A-Za-z0-9_-]{1,32}$'"),
        ({"recipient": {**good_order()["recipient"], "state_code": ""}},
         "recipient: state_code is required"),
        ({"recipient": {k: v for k, v in good_order()["recipient"].items() if k != "state_code"}},
         "recipient: state_code is required"),
    ],
)
def test_documented_prose_rules_are_enforced(
    sandbox: PrintfulSandbox, http: requests.Session, changes: dict[str, Any], message: str
) -> None:
    answer = http.post(f"{BASE}/orders", json={**good_order(), **changes}, timeout=5)

    assert answer.status_code == 400
    assert answer.json()["result"] == message
    assert sandbox.orders == {}


def test_state_code_is_needed_only_in_the_us_australia_and_canada(
    http: requests.Session,
) -> None:
    recipient = {k: v for k, v in good_order()["recipient"].items() if k != "state_code"}
    german = {**recipient, "country_code": "DE", "city": "Berlin", "zip": "10115"}

    answer = http.post(f"{BASE}/orders", json={**good_order(), "recipient": german}, timeout=5)

    assert answer.status_code == 200
