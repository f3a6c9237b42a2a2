"""Sandbox Printify against Printify's published OpenAPI document (printify_openapi.json): its
own request examples are accepted, bad bodies refused with its error body and nothing made,
a repeated external_id answered 409/8503 with the existing order, and every answer and
webhook has the documented shape; signatures checked as "Securing your webhooks" describes."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

import pytest
import requests

from integrator.sandbox.suppliers.printify import PrintifySandbox
from integrator.sandbox.suppliers.transport import mount
from integrator.sandbox.suppliers.validation import (
    load_document,
    openapi_response,
    openapi_webhook,
)

DOCUMENT = "printify_openapi.json.gz"
SHOP = 815256
BASE = "http://printify.sandbox"
ORDERS = f"{BASE}/v1/shops/{SHOP}/orders.json"
KEY = "sandbox-key"


def submit_examples() -> dict[str, dict[str, Any]]:
    """``components.requestBodies.submitOrder``'s examples, by name."""
    body = load_document(DOCUMENT)["components"]["requestBodies"]["submitOrder"]
    examples = body["content"]["application/json"]["examples"]
    return {name: example["value"] for name, example in examples.items()}


@pytest.fixture
def sandbox() -> PrintifySandbox:
    return PrintifySandbox(api_key=KEY, shop_id=SHOP, unavailable={"9999"})


@pytest.fixture
def http(sandbox: PrintifySandbox) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {KEY}"
    return mount(session, BASE, sandbox)


# The document types its times ``format: date-time`` but every one of its examples writes them
# "2017-04-18 13:24:28+00:00" (a space, not RFC 3339's "T"); the sandbox answers as the
# examples do, so that one form is not counted against it.
PUBLISHED_TIME = re.compile(r"'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00' is not a 'date-time'$")


def assert_shape(schema: Any, body: Any) -> None:
    problems = [str(p) for p in schema.problems(body) if not PUBLISHED_TIME.search(str(p))]
    assert problems == [], json.dumps(body)[:300]


def test_the_documents_own_examples_write_times_with_a_space() -> None:
    example = load_document(DOCUMENT)["components"]["responses"]["order"]["content"][
        "application/json"]["examples"]["Successful operation"]["value"]
    schema = openapi_response(DOCUMENT, "/v1/shops/{shop_id}/orders/{order_id}.json", "get")

    problems = [str(p) for p in schema.problems(example)]

    assert example["created_at"] == "2017-04-18 13:24:28+00:00"
    assert problems and all(PUBLISHED_TIME.search(p) for p in problems)


@pytest.mark.parametrize("name", sorted(submit_examples()))
def test_every_published_submit_example_is_accepted(
    sandbox: PrintifySandbox, http: requests.Session, name: str
) -> None:
    body = {**submit_examples()[name], "external_id": f"ext-{len(name)}-{name[:9]}"}

    answer = http.post(ORDERS, json=body, timeout=5)

    assert answer.status_code == 200, answer.text
    assert_shape(openapi_response(DOCUMENT, "/v1/shops/{shop_id}/orders.json", "post"),
                 answer.json())
    assert sandbox.created_count(body["external_id"]) == 1


def changed(path: str, value: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(submit_examples()["Submit an order"]))
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
    # a string variant id fits none of the three line item forms
    ("line_items.0.variant_id", "17887", "line_items[0]: print_provider_id is required"),
    ("line_items.0.quantity", "lots", "line_items[0].quantity: 'lots' is not of type 'integer'"),
    ("line_items.0.quantity", -5, "line_items[0].quantity: -5 is less than the minimum of 1"),
    ("line_items", [], "line_items: [] should be non-empty"),
    ("line_items", None, "line_items is required"),
    ("address_to.country", "ZZZ", "address_to.country: 'ZZZ' is not a 'iso3166-alpha2'"),
    ("address_to.address1", None, "address_to: address1 is required"),
    ("address_to.email", "not-an-email", "address_to.email: 'not-an-email' is not a 'email'"),
    ("shipping_method", "express", "shipping_method: 'express' is not of type 'integer'"),
]


@pytest.mark.parametrize(("path", "value", "said"), REFUSED)
def test_bad_orders_are_refused_with_printifys_error_body(
    sandbox: PrintifySandbox, http: requests.Session, path: str, value: Any, said: str
) -> None:
    answer = http.post(ORDERS, json=changed(path, value), timeout=5)

    assert answer.status_code == 400
    body = answer.json()
    assert_shape(openapi_response(DOCUMENT, "/v1/shops/{shop_id}/orders.json", "post", 400), body)
    assert (body["status"], body["code"], body["message"]) == ("error", 8203, "Validation failed.")
    assert said in body["errors"]["reason"]
    assert sandbox.orders == {}


def test_a_repeated_external_id_is_answered_409_with_the_existing_order(
    sandbox: PrintifySandbox, http: requests.Session
) -> None:
    body = submit_examples()["Submit an order"]
    first = http.post(ORDERS, json=body, timeout=5).json()

    again = http.post(ORDERS, json=body, timeout=5)

    assert again.status_code == 409
    assert_shape(openapi_response(DOCUMENT, "/v1/shops/{shop_id}/orders.json", "post", 409),
                 again.json())
    assert again.json() == {
        "status": "error",
        "code": 8503,
        "message": "Operation failed.",
        "errors": {"reason": "Order already exists for the given external_id.", "code": 8503},
        "order": {"id": first["id"], "external_id": body["external_id"]},
    }
    assert sandbox.created_count(body["external_id"]) == 1


def test_every_answer_has_the_documented_shape(sandbox: PrintifySandbox,
                                               http: requests.Session) -> None:
    created = http.post(ORDERS, json=submit_examples()["Submit an order"], timeout=5).json()
    other = http.post(ORDERS, json=submit_examples()["Submit an order with SKU"],
                      timeout=5).json()
    order_path = "/v1/shops/{shop_id}/orders/{order_id}.json"
    url = f"{BASE}/v1/shops/{SHOP}/orders/{created['id']}.json"
    sandbox.advance(other["id"], "shipped")

    answers = [
        (openapi_response(DOCUMENT, order_path, "get"), http.get(url, timeout=5)),
        (openapi_response(DOCUMENT, "/v1/shops/{shop_id}/orders.json", "get"),
         http.get(ORDERS, timeout=5)),
        (openapi_response(DOCUMENT, "/v1/shops/{shop_id}/orders/{order_id}/send_to_production"
                                    ".json", "post"),
         http.post(url.replace(".json", "/send_to_production.json"), timeout=5)),
        (openapi_response(DOCUMENT, order_path, "get"),
         http.get(f"{BASE}/v1/shops/{SHOP}/orders/{other['id']}.json", timeout=5)),
        (openapi_response(DOCUMENT, "/v1/shops/{shop_id}/webhooks.json", "post"),
         http.post(f"{BASE}/v1/shops/{SHOP}/webhooks.json",
                   json={"topic": "order:created", "url": "https://example.com/hook"},
                   timeout=5)),
        (openapi_response(DOCUMENT, "/v1/shops.json", "get"),
         http.get(f"{BASE}/v1/shops.json", timeout=5)),
        # the published body of an unknown id (components.responses.notFound)
        (openapi_response(DOCUMENT, "/v1/shops/{shop_id}/orders/{order_id}/support-requests/"
                                    "{supportRequestId}", "get", 404),
         http.get(f"{BASE}/v1/shops/{SHOP}/orders/000000000000000000000000.json", timeout=5)),
    ]
    for schema, answer in answers:
        assert answer.status_code in (200, 404)
        assert_shape(schema, answer.json())
    shipped = answers[3][1].json()
    # Printify's own SKUs, never our variant id; our line id echoed
    assert [line["metadata"]["sku"] for line in shipped["line_items"]] == ["MY-SKU"]
    placed = answers[0][1].json()
    assert placed["line_items"][0]["variant_id"] == 17887
    assert placed["line_items"][0]["metadata"]["sku"] not in ("17887", "")
    assert placed["line_items"][0]["metadata"]["external_id"] == "line-item-abc-001"
    assert "external_id" not in placed  # the published order object has none


def test_cancel_answers_the_order_or_refuses_with_the_error_body(
    sandbox: PrintifySandbox, http: requests.Session
) -> None:
    first = http.post(ORDERS, json=submit_examples()["Submit an order"], timeout=5).json()
    second = http.post(ORDERS, json=submit_examples()["Submit an order with SKU"],
                       timeout=5).json()
    sandbox.advance(second["id"], "in_production")
    cancel = "/v1/shops/{shop_id}/orders/{order_id}/cancel.json"

    cancelled = http.post(f"{BASE}/v1/shops/{SHOP}/orders/{first['id']}/cancel.json", timeout=5)
    refused = http.post(f"{BASE}/v1/shops/{SHOP}/orders/{second['id']}/cancel.json", timeout=5)

    assert cancelled.status_code == 200 and cancelled.json()["status"] == "canceled"
    assert_shape(openapi_response(DOCUMENT, cancel, "post"), cancelled.json())
    assert refused.status_code == 400
    assert_shape(openapi_response(DOCUMENT, cancel, "post", 400), refused.json())


def test_every_webhook_has_the_documented_shape_and_signature() -> None:
    sandbox = PrintifySandbox(api_key=KEY, shop_id=SHOP, callback_secret="shh")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {KEY}"
    http = mount(session, BASE, sandbox)
    made = [http.post(ORDERS, json={**submit_examples()["Submit an order"],
                                    "external_id": f"e{n}"}, timeout=5).json()["id"]
            for n in range(2)]

    payloads = [
        *sandbox.advance(made[0], "in_production"),
        *sandbox.advance(made[0], "on_hold"),
        *sandbox.advance(made[0], "shipped"),
        *sandbox.advance(made[0], "delivered"),
        *sandbox.advance(made[1], "cancelled"),
    ]

    assert [p["type"] for p in payloads] == [
        "order:updated", "order:updated", "order:shipment:created", "order:shipment:delivered",
        "order:updated"]
    for payload in payloads:
        assert_shape(openapi_webhook(DOCUMENT, payload["type"]), payload)
        body = json.dumps(payload).encode()
        expected = "sha256=" + hmac.new(b"shh", body, hashlib.sha256).hexdigest()
        assert sandbox.sign(body) == {"X-Pfy-Signature": expected}
    shipped = payloads[2]["resource"]["data"]
    line = sandbox.orders[made[0]]["line_items"][0]
    assert shipped["skus"] == [line["metadata"]["sku"]] != [str(line["variant_id"])]
