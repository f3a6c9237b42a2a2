"""Signed webhook deliveries: shopify_app verifies them, bodies match Shopify's sample keys."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
from shopify_app.verify import verify_webhook_req

from integrator.sandbox.shopify import (
    AddressSpec,
    SandboxApp,
    SandboxShopify,
    Shop,
    WebhookSender,
    serve,
)

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures/shopify/orders_paid.json"
SECRET = "sandbox-client-secret"
URL = "http://receiver.test/webhooks/shopify"


class Receiver:
    """A WSGI endpoint that verifies with shopify_app and answers from a script of statuses."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        headers = {key[5:].replace("_", "-").lower(): value
                   for key, value in environ.items() if key.startswith("HTTP_")}
        verified = verify_webhook_req(
            {"method": "POST", "headers": headers, "url": URL, "body": body.decode()},
            {"client_id": "sandbox-client-id", "client_secret": SECRET, "old_client_secret": None})
        with self._lock:
            self.received.append({"headers": headers, "body": body, "ok": verified.ok})
            status = self.statuses.pop(0) if self.statuses else (200 if verified.ok else 401)
        start_response(f"{status} X", [("Content-Type", "text/plain")])
        return [b""]


def sender_for(receiver: Receiver, **options: Any) -> WebhookSender:
    http = httpx.Client(transport=httpx.WSGITransport(app=receiver))
    return WebhookSender(SECRET, http=http, sleep=lambda seconds: None, **options)


def test_signed_delivery_verifies_with_shopify_app(shop: Shop, order: dict[str, Any]) -> None:
    receiver = Receiver()

    outcome = sender_for(receiver).send(URL, "orders/paid", shop.webhook_payload(order["id"]),
                                        shop.domain)

    headers = receiver.received[0]["headers"]
    assert outcome.delivered
    assert receiver.received[0]["ok"] is True
    assert headers["x-shopify-topic"] == "orders/paid"
    assert headers["x-shopify-shop-domain"] == shop.domain
    assert {"x-shopify-webhook-id", "x-shopify-event-id", "x-shopify-triggered-at",
            "x-shopify-api-version"} <= set(headers)


def test_a_body_changed_after_signing_does_not_verify(shop: Shop, order: dict[str, Any]) -> None:
    receiver = Receiver()
    delivery = sender_for(receiver).prepare("orders/paid", shop.webhook_payload(order["id"]),
                                            shop.domain)
    reserialised = json.dumps(json.loads(delivery.body)).encode()

    with httpx.Client(transport=httpx.WSGITransport(app=receiver)) as http:
        http.post(URL, content=reserialised, headers=delivery.headers(SECRET))

    assert receiver.received[0]["ok"] is False


def test_body_has_the_keys_of_shopifys_sample(shop: Shop, order: dict[str, Any]) -> None:
    receiver = Receiver()
    shop.update_shipping_address(order["id"], AddressSpec(city="Hamburg", zip="20095"))
    sender_for(receiver).send(URL, "orders/paid", shop.webhook_payload(order["id"]), shop.domain)
    sample = json.loads(SAMPLE.read_text())

    body = json.loads(receiver.received[0]["body"])

    assert set(body) == set(sample)
    assert set(body["line_items"][0]) == set(sample["line_items"][0])
    assert set(body["shipping_address"]) == set(sample["shipping_address"])
    assert body["admin_graphql_api_id"] == order["id"]
    assert body["financial_status"] == "paid"
    assert body["shipping_address"]["city"] == "Hamburg"
    assert [line["sku"] for line in body["line_items"]] == [
        "TEE-BLK-M-DTG", "TEE-WHT-L-DTG", "HAT-NVY-EMB"]
    assert body["line_items"][0]["properties"] == [{"name": "Decoration", "value": "dtg"}]
    assert b"gid:\\/\\/shopify" in receiver.received[0]["body"]  # escaped like Shopify's


def test_app_uninstalled_body_has_the_keys_of_shopifys_sample(shop: Shop) -> None:
    sample = json.loads((SAMPLE.parent / "app_uninstalled.json").read_text())

    body = shop.shop_payload()

    assert set(body) == set(sample)
    assert body["myshopify_domain"] == shop.domain


def test_non_2xx_answers_are_retried_with_the_same_webhook_id(
    shop: Shop, order: dict[str, Any]
) -> None:
    receiver = Receiver(statuses=[500, 503])

    outcome = sender_for(receiver).send(URL, "orders/paid", shop.webhook_payload(order["id"]),
                                        shop.domain)

    assert outcome.statuses == [500, 503, 200]
    assert len({r["headers"]["x-shopify-webhook-id"] for r in receiver.received}) == 1


def test_retries_are_bounded(shop: Shop, order: dict[str, Any]) -> None:
    receiver = Receiver(statuses=[500] * 20)

    outcome = sender_for(receiver, max_attempts=3).send(
        URL, "orders/paid", shop.webhook_payload(order["id"]), shop.domain)

    assert outcome.statuses == [500, 500, 500]
    assert not outcome.delivered


def test_duplicate_storm_delivers_the_same_webhook_concurrently(
    shop: Shop, order: dict[str, Any]
) -> None:
    receiver = Receiver()
    sender = sender_for(receiver)
    delivery = sender.prepare("orders/paid", shop.webhook_payload(order["id"]), shop.domain)

    outcomes = sender.storm(URL, delivery, copies=8)

    assert all(outcome.delivered for outcome in outcomes)
    assert [r["headers"]["x-shopify-webhook-id"] for r in receiver.received] == (
        [delivery.webhook_id] * 8)


def test_dropped_deliveries_send_nothing(shop: Shop, order: dict[str, Any]) -> None:
    receiver = Receiver()

    outcome = sender_for(receiver, should_drop=lambda delivery: True).send(
        URL, "orders/paid", shop.webhook_payload(order["id"]), shop.domain)

    assert outcome.dropped and not outcome.delivered
    assert receiver.received == []


def test_served_on_loopback(sandbox: SandboxShopify, shop: Shop) -> None:
    base_url, stop = serve(SandboxApp(sandbox))
    try:
        response = httpx.post(f"{base_url}/admin/api/2026-04/graphql.json",
                              json={"query": "{ shop { myshopifyDomain } }"},
                              headers={"X-Shopify-Access-Token": "shpat_static_test_token"},
                              timeout=5)
    finally:
        stop()

    assert base_url.startswith("http://127.0.0.1:")
    assert response.json()["data"]["shop"]["myshopifyDomain"] == shop.domain
