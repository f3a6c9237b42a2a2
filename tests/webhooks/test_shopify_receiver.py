"""``POST /webhooks/shopify``: one test per check, each proving what was (not) stored."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from integrator.bootstrap import Container
from integrator.db.database import Database
from integrator.db.models import Job, Shop, WebhookDelivery
from tests.shopify_signatures import shopify_signature
from webhooks.app import create_app

from .conftest import MAX_BYTES, OLD_SECRET, SECRET, SHOP, count_deliveries, count_jobs

URL = "/webhooks/shopify"
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "shopify"
REQUIRED = (
    "X-Shopify-Topic",
    "X-Shopify-Hmac-Sha256",
    "X-Shopify-Shop-Domain",
    "X-Shopify-Webhook-Id",
)
ORDER_BODY = json.dumps(
    {"id": 5001, "admin_graphql_api_id": "gid://shopify/Order/5001", "email": "a@example.com"},
    separators=(",", ":"),
).encode()


def headers_for(
    body: bytes,
    topic: str = "orders/paid",
    *,
    shop: str = SHOP,
    secret: str = SECRET,
    webhook_id: str | None = None,
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": shopify_signature(body, secret),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-11-22T03:00:00.000000Z",
        "X-Shopify-API-Version": "2026-04",
    }


def assert_nothing_stored(db: Database) -> None:
    assert count_deliveries(db) == 0
    assert count_jobs(db) == 0


def deliveries(db: Database) -> list[WebhookDelivery]:
    with db.read() as session:
        rows = list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
        session.expunge_all()
        return rows


def jobs(db: Database) -> list[Job]:
    with db.read() as session:
        rows = list(session.scalars(select(Job).order_by(Job.id)))
        session.expunge_all()
        return rows


# --- method and headers ----------------------------------------------------------------------


def test_each_missing_or_empty_required_header_is_400_and_stores_nothing(
    client: FlaskClient, db: Database
) -> None:
    for missing in REQUIRED:
        absent = headers_for(ORDER_BODY)
        del absent[missing]
        empty = {**headers_for(ORDER_BODY), missing: ""}
        for headers in (absent, empty):
            response = client.post(URL, data=ORDER_BODY, headers=headers)
            assert response.status_code == 400, missing
            assert response.get_json() == {"error": "missing_headers"}
    assert_nothing_stored(db)


def test_wrong_method_is_405_and_stores_nothing(client: FlaskClient, db: Database) -> None:
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        response = client.open(URL, method=method, data=ORDER_BODY, headers=headers_for(ORDER_BODY))
        assert response.status_code == 405, method
    assert_nothing_stored(db)


# --- size ------------------------------------------------------------------------------------


def test_body_over_the_limit_is_413_and_stores_nothing(client: FlaskClient, db: Database) -> None:
    body = json.dumps({"id": 1, "note": "x" * MAX_BYTES}).encode()
    response = client.post(URL, data=body, headers=headers_for(body))
    assert response.status_code == 413
    assert_nothing_stored(db)


def test_body_over_the_limit_without_content_length_is_413(
    client: FlaskClient, db: Database
) -> None:
    body = json.dumps({"id": 1, "note": "x" * MAX_BYTES}).encode()
    response = client.post(
        URL,
        input_stream=io.BytesIO(body),  # no Content-Length: a chunked request
        headers=headers_for(body),
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )
    assert response.request.environ.get("CONTENT_LENGTH") in (None, "")
    assert response.status_code == 413
    assert_nothing_stored(db)


def test_body_exactly_at_the_limit_is_accepted(client: FlaskClient, db: Database) -> None:
    prefix, suffix = b'{"id":1,"note":"', b'"}'
    body = prefix + b"x" * (MAX_BYTES - len(prefix) - len(suffix)) + suffix
    assert len(body) == MAX_BYTES
    response = client.post(URL, data=body, headers=headers_for(body, "products/update"))
    assert response.status_code == 200
    assert count_deliveries(db) == 1


# --- HMAC ------------------------------------------------------------------------------------


def test_bad_hmac_is_401_and_stores_nothing(client: FlaskClient, db: Database) -> None:
    headers = headers_for(ORDER_BODY, secret="not-the-secret")
    assert client.post(URL, data=ORDER_BODY, headers=headers).status_code == 401
    assert_nothing_stored(db)


def test_garbage_hmac_is_401_and_stores_nothing(client: FlaskClient, db: Database) -> None:
    headers = {**headers_for(ORDER_BODY), "X-Shopify-Hmac-Sha256": "not base64 at all!"}
    assert client.post(URL, data=ORDER_BODY, headers=headers).status_code == 401
    assert_nothing_stored(db)


def test_hmac_of_another_body_is_401(client: FlaskClient, db: Database) -> None:
    headers = headers_for(b'{"id":1}')
    assert client.post(URL, data=ORDER_BODY, headers=headers).status_code == 401
    assert_nothing_stored(db)


def test_old_secret_is_accepted_during_rotation(client: FlaskClient, db: Database) -> None:
    response = client.post(URL, data=ORDER_BODY, headers=headers_for(ORDER_BODY, secret=OLD_SECRET))
    assert response.status_code == 200
    assert count_deliveries(db) == 1
    assert count_jobs(db) == 1


def test_old_secret_is_refused_once_the_rotation_is_over(db: Database, make_container: Any) -> None:
    container = make_container(db, SHOPIFY_OLD_CLIENT_SECRET="")
    client = create_app(container.settings, container=container).test_client()
    response = client.post(URL, data=ORDER_BODY, headers=headers_for(ORDER_BODY, secret=OLD_SECRET))
    assert response.status_code == 401
    assert_nothing_stored(db)


def test_reserialised_json_fails_the_hmac(client: FlaskClient, db: Database) -> None:
    # Shopify escapes "/" and uses its own spacing: the signature covers those exact bytes
    original = b'{"id":5001,"admin_graphql_api_id":"gid:\\/\\/shopify\\/Order\\/5001"}'
    headers = headers_for(original)
    reserialised = json.dumps(json.loads(original)).encode()
    assert reserialised != original
    assert client.post(URL, data=reserialised, headers=headers).status_code == 401
    assert_nothing_stored(db)
    assert client.post(URL, data=original, headers=headers).status_code == 200
    stored = deliveries(db)
    assert [d.body for d in stored] == [original]


# --- JSON ------------------------------------------------------------------------------------


def test_non_json_body_is_400_and_stores_nothing(client: FlaskClient, db: Database) -> None:
    for body in (b"not json", b'{"id": 1', b"<xml/>"):
        response = client.post(URL, data=body, headers=headers_for(body))
        assert response.status_code == 400, body
        assert response.get_json() == {"error": "malformed_json"}
    assert_nothing_stored(db)


def test_correctly_signed_bytes_that_are_not_utf8_are_400(
    client: FlaskClient, db: Database
) -> None:
    body = b"\xff\xfe{}"
    response = client.post(URL, data=body, headers=headers_for(body))
    assert_nothing_stored(db)
    assert response.status_code == 400


def test_json_that_is_not_an_object_is_400_and_stores_nothing(
    client: FlaskClient, db: Database
) -> None:
    for body in (b"[1,2,3]", b'"text"', b"42", b"null", b"true"):
        response = client.post(URL, data=body, headers=headers_for(body))
        assert response.status_code == 400, body
        assert response.get_json() == {"error": "not_a_json_object"}
    assert_nothing_stored(db)


def test_empty_body_is_400_and_stores_nothing(client: FlaskClient, db: Database) -> None:
    response = client.post(URL, data=b"", headers=headers_for(b""))
    assert response.status_code == 400
    assert_nothing_stored(db)


# --- dedupe, store, enqueue ------------------------------------------------------------------


def test_a_delivery_is_stored_with_its_headers_and_one_job(
    client: FlaskClient, db: Database
) -> None:
    headers = headers_for(ORDER_BODY, webhook_id="wh-1")
    response = client.post(URL, data=ORDER_BODY, headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"status": "stored"}
    (stored,) = deliveries(db)
    assert (stored.source, stored.topic, stored.shop_domain) == ("shopify", "orders/paid", SHOP)
    assert stored.dedupe_key == "wh-1"
    assert stored.body == ORDER_BODY
    assert stored.event_id == headers["X-Shopify-Event-Id"]
    assert stored.triggered_at == headers["X-Shopify-Triggered-At"]
    assert stored.api_version == "2026-04"
    assert "X-Shopify-Hmac-Sha256" not in stored.headers
    (job,) = jobs(db)
    assert (job.kind, job.payload) == ("shopify.delivery", {"delivery_id": stored.id})


def test_duplicate_webhook_id_is_200_with_one_row_and_one_job(
    client: FlaskClient, db: Database
) -> None:
    headers = headers_for(ORDER_BODY, webhook_id="wh-dup")
    first = client.post(URL, data=ORDER_BODY, headers=headers)
    second = client.post(URL, data=ORDER_BODY, headers=headers)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.get_json() == {"status": "duplicate"}
    assert count_deliveries(db) == 1
    assert count_jobs(db) == 1


def test_same_body_under_a_new_webhook_id_is_a_new_delivery(
    client: FlaskClient, db: Database
) -> None:
    for webhook_id in ("wh-a", "wh-b"):
        headers = headers_for(ORDER_BODY, webhook_id=webhook_id)
        assert client.post(URL, data=ORDER_BODY, headers=headers).status_code == 200
    assert count_deliveries(db) == 2
    assert count_jobs(db) == 2


def test_unknown_topic_is_stored_ignored_and_causes_no_job(
    client: FlaskClient, db: Database
) -> None:
    body = b'{"id":77}'
    response = client.post(URL, data=body, headers=headers_for(body, "inventory_levels/update"))
    assert response.status_code == 200
    assert response.get_json() == {"status": "ignored"}
    (stored,) = deliveries(db)
    assert (stored.topic, stored.outcome) == ("inventory_levels/update", "ignored")
    assert count_jobs(db) == 0


def test_unserved_shop_is_stored_and_causes_no_job(client: FlaskClient, db: Database) -> None:
    other = "stranger.myshopify.com"
    response = client.post(URL, data=ORDER_BODY, headers=headers_for(ORDER_BODY, shop=other))
    assert response.status_code == 200
    (stored,) = deliveries(db)
    assert (stored.shop_domain, stored.outcome) == (other, "ignored")
    assert count_jobs(db) == 0


def test_uninstalled_shop_is_stored_and_causes_no_job(db: Database, make_container: Any) -> None:
    container: Container = make_container(db, SHOPIFY_SHOP="")
    with db.write() as session:
        session.add(Shop(domain="gone.myshopify.com", status="uninstalled"))
    client = create_app(container.settings, container=container).test_client()
    response = client.post(
        URL, data=ORDER_BODY, headers=headers_for(ORDER_BODY, shop="gone.myshopify.com")
    )
    assert response.status_code == 200
    assert count_deliveries(db) == 1
    assert count_jobs(db) == 0


def test_compliance_topics_for_an_unserved_shop_get_their_jobs(
    client: FlaskClient, db: Database
) -> None:
    body = b'{"shop_id":1,"shop_domain":"stranger.myshopify.com"}'
    topics = ["customers/data_request", "customers/redact", "shop/redact"]
    for topic in topics:
        response = client.post(
            URL, data=body, headers=headers_for(body, topic, shop="stranger.myshopify.com")
        )
        assert response.status_code == 200, topic
    stored = deliveries(db)
    assert [(d.topic, d.outcome) for d in stored] == [(t, "stored") for t in topics]
    assert [(j.kind, j.payload) for j in jobs(db)] == [
        ("shopify.delivery", {"delivery_id": d.id}) for d in stored
    ]


# --- database down ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://nobody@127.0.0.1:1/x", "sqlite:////nonexistent-dir/for/sure/x.db"],
    ids=["postgresql-unreachable", "sqlite-missing-directory"],
)
def test_database_down_is_503_and_acknowledges_nothing(
    db: Database, make_container: Any, url: str
) -> None:
    container: Container = make_container(db)
    container.db = Database.from_url(url)
    client = create_app(container.settings, container=container).test_client()
    try:
        response = client.post(URL, data=ORDER_BODY, headers=headers_for(ORDER_BODY))
    finally:
        container.db.dispose()
    assert response.status_code == 503
    assert response.headers.get("Retry-After")
    assert_nothing_stored(db)


# --- the real sample payloads, signed end to end ---------------------------------------------

SAMPLE_TOPICS = {
    "orders_create.json": "orders/create",
    "orders_paid.json": "orders/paid",
    "fulfillments_create.json": "fulfillments/create",
    "app_uninstalled.json": "app/uninstalled",
    "customers_data_request.json": "customers/data_request",
    "customers_redact.json": "customers/redact",
    "shop_redact.json": "shop/redact",
    "fulfillment_orders_fulfillment_request_submitted.json": (
        "fulfillment_orders/fulfillment_request_submitted"
    ),
}


def test_every_sample_has_a_topic() -> None:
    assert sorted(p.name for p in SAMPLES.glob("*.json")) == sorted(SAMPLE_TOPICS)


@pytest.mark.parametrize("name", sorted(SAMPLE_TOPICS))
def test_sample_payload_posted_signed_is_stored(
    client: FlaskClient, db: Database, name: str
) -> None:
    body = (SAMPLES / name).read_bytes().replace(b"{shop}", b"acme")
    topic = SAMPLE_TOPICS[name]
    response = client.post(URL, data=body, headers=headers_for(body, topic))
    assert response.status_code == 200
    (stored,) = deliveries(db)
    assert (stored.topic, stored.shop_domain, stored.body) == (topic, SHOP, body)
    handled = topic != "fulfillments/create"  # fulfillment_orders/* say what is ours and when
    assert count_jobs(db) == (1 if handled else 0)


# --- the same delivery many times at once ----------------------------------------------------


def test_a_duplicate_storm_stores_one_delivery_and_one_job(database_url: str) -> None:
    from integrator.sandbox.shopify import LineSpec
    from integrator.sandbox.stack import Stack, StackOptions

    stack = Stack(StackOptions(database_url=database_url, migrate=False))
    try:
        order = stack.place_order([LineSpec("TEE-BLK-M-DTG")])
        delivery = stack.sender.prepare(
            "orders/paid", stack.shop.webhook_payload(order["id"]), stack.options.shop
        )
        outcomes = stack.sender.storm(f"{stack.integrator_url}{URL}", delivery, copies=8)
        assert all(outcome.delivered for outcome in outcomes)
        assert count_deliveries(stack.db) == 1
        assert count_jobs(stack.db) == 1
        stack.drain()
        assert [so[0] for so in stack.supplier_orders()] == ["printful"]
    finally:
        stack.close()


# --- one log line per delivery -------------------------------------------------------------


def test_a_delivery_is_one_access_log_line_saying_what_became_of_it(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from integrator.logs import JsonFormatter

    caplog.set_level(logging.INFO)
    headers = headers_for(ORDER_BODY, webhook_id="one-line-1")
    first = client.post(URL, data=ORDER_BODY, headers=headers)
    again = client.post(URL, data=ORDER_BODY, headers=headers)
    lines = [json.loads(JsonFormatter().format(record)) for record in caplog.records]
    assert [line["event"] for line in lines] == ["http.request", "http.request"]
    assert [(line["status"], line["outcome"], line["webhook_id"]) for line in lines] == [
        (200, "stored", "one-line-1"),
        (200, "duplicate", "one-line-1"),
    ]
    assert lines[0]["delivery_id"] and lines[1]["delivery_id"] is None
    assert (lines[0]["shop"], lines[0]["topic"], lines[0]["path"]) == (SHOP, "orders/paid", URL)
    assert first.status_code == again.status_code == 200
