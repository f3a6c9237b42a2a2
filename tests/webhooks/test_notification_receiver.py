"""``POST <callbackUrl>/fulfillment_order_notification`` passes the column of checks the
webhook receiver passes (webhooks.shopify.signed_json_object), with the same answers:
400 missing headers or no JSON object, 413 too large, 401 bad signature, 503 database down;
then its own: 400 for a kind Shopify does not send."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from integrator.bootstrap import Container
from integrator.db.database import Database
from integrator.db.models import WebhookDelivery
from integrator.pipeline.topics import NOTIFICATION_TOPIC
from integrator.shopify.fulfillment_service import CALLBACK_PATH, NOTIFICATION_PATH
from tests.shopify_signatures import shopify_signature
from webhooks.app import create_app

from .conftest import MAX_BYTES, SECRET, SHOP, count_deliveries, count_jobs

URL = f"{CALLBACK_PATH}/{NOTIFICATION_PATH}"
BODY = b'{"kind":"FULFILLMENT_REQUEST"}'


def signed(body: bytes, secret: str = SECRET, **headers: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": shopify_signature(body, secret),
        "X-Shopify-Shop-Domain": SHOP,
        **headers,
    }


def answer(client: FlaskClient, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    response = client.post(URL, data=body, headers=headers)
    return response.status_code, response.get_json()


def test_each_check_of_the_column_answers_as_the_webhook_receiver_does(
    client: FlaskClient, db: Database
) -> None:
    large = json.dumps({"kind": "FULFILLMENT_REQUEST", "pad": "x" * MAX_BYTES}).encode()
    refused = {
        "no signature": (BODY, {**signed(BODY), "X-Shopify-Hmac-Sha256": ""}),
        "no shop": (BODY, {**signed(BODY), "X-Shopify-Shop-Domain": ""}),
        "too large": (large, signed(large)),
        "forged": (BODY, signed(BODY, secret="not-the-app-secret")),
        "not an object": (b"[1, 2]", signed(b"[1, 2]")),
        "not json": (b"{kind", signed(b"{kind")),
        "unknown kind": (b'{"kind":"X"}', signed(b'{"kind":"X"}')),
    }
    answers = {name: answer(client, *request) for name, request in refused.items()}
    assert answers == {
        "no signature": (400, {"error": "missing_headers"}),
        "no shop": (400, {"error": "missing_headers"}),
        "too large": (413, {"error": "too_large"}),
        "forged": (401, {"error": "bad_signature"}),
        "not an object": (400, {"error": "not_a_json_object"}),
        "not json": (400, {"error": "malformed_json"}),
        "unknown kind": (400, {"error": "unknown_kind"}),
    }
    assert (count_deliveries(db), count_jobs(db)) == (0, 0)

    assert answer(client, BODY, signed(BODY)) == (200, {"status": "stored"})
    with db.read() as session:
        [stored] = session.execute(
            select(WebhookDelivery.topic, WebhookDelivery.shop_domain, WebhookDelivery.body)
        ).all()
    assert tuple(stored) == (NOTIFICATION_TOPIC, SHOP, BODY)


def test_database_down_is_503(db: Database, make_container: Any) -> None:
    container: Container = make_container(db)
    container.db = Database.from_url("postgresql+psycopg://nobody@127.0.0.1:1/x")
    try:
        client = create_app(container.settings, container=container).test_client()
        response = client.post(URL, data=BODY, headers=signed(BODY))
    finally:
        container.db.dispose()
    assert response.status_code == 503
    assert response.headers.get("Retry-After")
    assert count_deliveries(db) == 0
