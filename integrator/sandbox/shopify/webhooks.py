"""Signed webhook deliveries, as Shopify sends them, with retries, duplicates and drops.

Headers and signing follow https://shopify.dev/docs/apps/build/webhooks/verify-deliveries:
``X-Shopify-Hmac-Sha256`` is the base64 HMAC-SHA256 of the raw body keyed with the app's
client secret. A retry re-sends the same bytes with the same webhook id (Shopify retries a
non-2xx answer 8 times over 4 hours; the sandbox bounds and shortens that).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

SHOPIFY_RETRIES = 8


@dataclass(frozen=True)
class Delivery:
    """One webhook: its body bytes and the ids every (re)delivery of it keeps."""

    topic: str
    shop_domain: str
    body: bytes
    webhook_id: str
    event_id: str
    triggered_at: str
    api_version: str

    def headers(self, client_secret: str) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": self.topic,
            "X-Shopify-Hmac-Sha256": sign(self.body, client_secret),
            "X-Shopify-Shop-Domain": self.shop_domain,
            "X-Shopify-Webhook-Id": self.webhook_id,
            "X-Shopify-Event-Id": self.event_id,
            "X-Shopify-Triggered-At": self.triggered_at,
            "X-Shopify-API-Version": self.api_version,
        }


@dataclass
class DeliveryOutcome:
    delivery: Delivery
    statuses: list[int | None] = field(default_factory=list)  # None: no answer (timeout…)
    dropped: bool = False

    @property
    def delivered(self) -> bool:
        return any(status is not None and 200 <= status < 300 for status in self.statuses)


def sign(body: bytes, client_secret: str) -> str:
    """Return Shopify's webhook signature of ``body``."""
    digest = hmac.new(client_secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def encode_body(payload: Mapping[str, Any]) -> bytes:
    """Serialise like Shopify, which escapes ``/`` as ``\\/``: only raw-body HMACs verify."""
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()


class WebhookSender:
    """Posts signed deliveries to a URL, retrying non-2xx answers a bounded number of times."""

    def __init__(
        self,
        client_secret: str,
        *,
        http: httpx.Client | None = None,
        max_attempts: int = SHOPIFY_RETRIES + 1,
        backoff_seconds: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
        api_version: str = "2026-04",
        should_drop: Callable[[Delivery], bool] | None = None,
    ) -> None:
        self.client_secret = client_secret
        self.http = http or httpx.Client(timeout=httpx.Timeout(5.0, connect=1.0))
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.sleep = sleep
        self.api_version = api_version
        self.should_drop = should_drop or (lambda delivery: False)

    def prepare(
        self,
        topic: str,
        payload: Mapping[str, Any],
        shop_domain: str,
        *,
        event_id: str | None = None,
    ) -> Delivery:
        """Make a new delivery (fresh webhook id) of ``payload`` for ``topic``."""
        return Delivery(
            topic=topic,
            shop_domain=shop_domain,
            body=encode_body(payload),
            webhook_id=str(uuid.uuid4()),
            event_id=event_id or str(uuid.uuid4()),
            triggered_at=datetime.now(UTC)
            .isoformat(timespec="microseconds")
            .replace("+00:00", "Z"),
            api_version=self.api_version,
        )

    def send(
        self, url: str, topic: str, payload: Mapping[str, Any], shop_domain: str
    ) -> DeliveryOutcome:
        return self.deliver(url, self.prepare(topic, payload, shop_domain))

    def deliver(self, url: str, delivery: Delivery) -> DeliveryOutcome:
        """Post ``delivery`` until a 2xx answer or ``max_attempts``; drops send nothing."""
        outcome = DeliveryOutcome(delivery)
        if self.should_drop(delivery):
            outcome.dropped = True
            return outcome
        for attempt in range(self.max_attempts):
            if attempt:
                self.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            outcome.statuses.append(self._post(url, delivery))
            if outcome.delivered:
                break
        return outcome

    def storm(self, url: str, delivery: Delivery, copies: int) -> list[DeliveryOutcome]:
        """Deliver the same webhook ``copies`` times at once (Shopify's duplicate deliveries)."""
        with ThreadPoolExecutor(max_workers=max(copies, 1)) as pool:
            return list(pool.map(lambda _: self.deliver(url, delivery), range(copies)))

    def notify_fulfillment_service(
        self, callback_url: str, kind: str, shop_domain: str
    ) -> int | None:
        """POST ``<callbackUrl>/fulfillment_order_notification`` with ``{"kind": kind}``
        (``FULFILLMENT_REQUEST`` or ``CANCELLATION_REQUEST``), as Shopify tells a fulfillment
        service that requests wait; signed like a webhook (shopify-app-js verifies these
        requests with the same HMAC, ``authenticate.fulfillmentService``). Once, no retries:
        Shopify's pings are hints, the assigned fulfillment orders are the truth."""
        body = encode_body({"kind": kind})
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Hmac-Sha256": sign(body, self.client_secret),
            "X-Shopify-Shop-Domain": shop_domain,
            "X-Shopify-API-Version": self.api_version,
        }
        url = callback_url.rstrip("/") + "/fulfillment_order_notification"
        try:
            return self.http.post(url, content=body, headers=headers).status_code
        except httpx.HTTPError:
            return None

    def close(self) -> None:
        self.http.close()

    def _post(self, url: str, delivery: Delivery) -> int | None:
        try:
            response = self.http.post(
                url, content=delivery.body, headers=delivery.headers(self.client_secret)
            )
        except httpx.HTTPError:
            return None
        return response.status_code
