"""``POST /webhooks/shopify``: a column of checks on the raw bytes, then store + enqueue + 200.

Order (https://shopify.dev/docs/apps/build/webhooks/verify-deliveries): headers → size →
HMAC over the exact bytes received → JSON within limits → column limits → dedupe on
X-Shopify-Webhook-Id → one transaction that stores the delivery and enqueues its job → 200.
Nothing is acknowledged before it is stored, and nothing reads the body before its signature
is verified: an unsigned request costs the HMAC and nothing more. Our fulfillment service's
notification endpoint passes the same column (:func:`signed_json_object`) before its own check.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from integrator.db.errors import database_unavailable
from integrator.metrics import DELIVERIES
from integrator.pipeline.inbox import (
    KEPT_HEADERS,
    NewDelivery,
    UnstorableDelivery,
    check_storable,
    kept_headers,
)
from integrator.pipeline.topics import HANDLED_TOPICS, NOTIFICATION_KINDS, NOTIFICATION_TOPIC
from integrator.shopify.fulfillment_service import CALLBACK_PATH, NOTIFICATION_PATH
from integrator.shopify.webhook_verification import HMAC_HEADER, verify_signature
from webhooks.extensions import container_of, inbox_of
from webhooks.guards import MalformedBody, TooLarge, parse_json_object, read_body, refuse
from webhooks.request_context import add_to_access_log

log = logging.getLogger(__name__)
shopify_webhooks = Blueprint("shopify_webhooks", __name__)

REQUIRED_HEADERS = (
    "X-Shopify-Topic",
    "X-Shopify-Hmac-Sha256",
    "X-Shopify-Shop-Domain",
    "X-Shopify-Webhook-Id",
)
# a fulfillment service notification carries no topic, and no webhook id to dedupe on
NOTIFICATION_HEADERS = (HMAC_HEADER, "X-Shopify-Shop-Domain")


# each header a view reads, with its WSGI environ key: read once into a dict (werkzeug's
# case-insensitive lookups, about thirty per delivery, cost more than the HMAC)
_READ_HEADERS = {
    name: "CONTENT_TYPE" if name == "Content-Type" else "HTTP_" + name.upper().replace("-", "_")
    for name in (*KEPT_HEADERS, HMAC_HEADER)
}


def shopify_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """The non-empty headers the Shopify views read, by their canonical names."""
    return {name: environ[key] for name, key in _READ_HEADERS.items() if environ.get(key)}


def topic_label(topic: str) -> str:
    """The topic as a metrics label: one we subscribe to, else ``other`` (the header is input,
    and every distinct label value is a new time series kept for the life of the process)."""
    return topic if topic in HANDLED_TOPICS else "other"


def _rejected(status: int, reason: str, topic: str = "unknown") -> ResponseReturnValue:
    DELIVERIES.labels("shopify", topic, reason).inc()
    log.info("webhook.rejected", extra={"source": "shopify", "reason": reason, "topic": topic})
    return refuse(status, reason)


class Refused(Exception):
    """A check of the column failed: answer ``status`` with the metrics-safe ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def signed_json_object(
    headers: Mapping[str, str], required_headers: tuple[str, ...]
) -> tuple[bytes, dict[str, Any]]:
    """The column of checks every Shopify delivery passes, on the raw bytes and in this order:
    headers present (400) → size (413) → HMAC over the exact bytes (401) → a JSON object
    within the parser's limits (400). Returns the body and its object.

    :raises Refused: at the first check that fails.
    """
    if any(not headers.get(name) for name in required_headers):
        raise Refused(400, "missing_headers")
    settings = container_of(current_app).settings
    try:
        body = read_body(request, settings.webhook_max_bytes)
    except TooLarge:
        raise Refused(413, "too_large") from None
    if not verify_signature(body, headers.get(HMAC_HEADER), settings.shopify_secrets):
        raise Refused(401, "bad_signature")
    try:
        return body, parse_json_object(body)
    except MalformedBody as malformed:
        raise Refused(400, malformed.reason) from None


@shopify_webhooks.post("/webhooks/shopify")
def receive() -> ResponseReturnValue:
    headers = shopify_headers(request.environ)
    topic = headers.get("X-Shopify-Topic")
    label = topic_label(topic) if topic else "unknown"
    try:
        body, _document = signed_json_object(headers, REQUIRED_HEADERS)
    except Refused as refused:
        return _rejected(refused.status, refused.reason, label)
    delivery = NewDelivery(
        source="shopify",
        topic=headers["X-Shopify-Topic"],
        dedupe_key=headers["X-Shopify-Webhook-Id"],
        body=body,
        headers=kept_headers(headers),
        shop_domain=headers["X-Shopify-Shop-Domain"],
        event_id=headers.get("X-Shopify-Event-Id"),
        triggered_at=headers.get("X-Shopify-Triggered-At"),
        api_version=headers.get("X-Shopify-API-Version"),
    )
    return _store_and_answer(delivery, label)


def _store_and_answer(delivery: NewDelivery, label: str) -> ResponseReturnValue:
    """Store the delivery and enqueue its job in one transaction, then answer 200."""
    try:
        check_storable(delivery)
        stored = inbox_of(current_app).submit(delivery)
    except UnstorableDelivery as unstorable:
        log.info("webhook.unstorable", extra={"source": "shopify", "problems": unstorable.problems})
        return _rejected(400, "invalid_headers", label)
    except TimeoutError:
        return _unavailable(label)
    except Exception as error:
        if database_unavailable(error):
            return _unavailable(label)
        # the database refused this delivery alone (the others of its batch were stored)
        log.exception("webhook.unstorable", extra={"source": "shopify", "topic": label})
        return _rejected(400, "unstorable", label)
    outcome = "duplicate" if stored.duplicate else ("stored" if stored.job_id else "ignored")
    DELIVERIES.labels("shopify", label, outcome).inc()
    add_to_access_log(  # the request's one log line says what became of the delivery
        source="shopify",
        topic=label,
        shop=delivery.shop_domain,
        outcome=outcome,
        delivery_id=stored.delivery_id,
        webhook_id=delivery.dedupe_key,
    )
    return jsonify(status=outcome), 200


@shopify_webhooks.post(f"{CALLBACK_PATH}/{NOTIFICATION_PATH}")
def fulfillment_order_notification() -> ResponseReturnValue:
    """Our fulfillment service's callback: Shopify says a fulfillment or cancellation request
    waits (body ``{"kind": ...}``, signed like a webhook). Stored and answered like one; its
    job reads the requests assigned to us (the body names none)."""
    headers = shopify_headers(request.environ)
    label = NOTIFICATION_TOPIC
    try:
        body, document = signed_json_object(headers, NOTIFICATION_HEADERS)
    except Refused as refused:
        return _rejected(refused.status, refused.reason, label)
    kind = document.get("kind")
    if kind not in NOTIFICATION_KINDS:
        return _rejected(400, "unknown_kind", label)
    delivery = NewDelivery(
        source="shopify",
        topic=NOTIFICATION_TOPIC,
        # no id of Shopify's to dedupe on: each ping is kept (its job only reads requests)
        dedupe_key=headers.get("X-Shopify-Webhook-Id") or f"notification:{uuid.uuid4()}",
        body=body,
        headers=kept_headers(headers),
        shop_domain=headers["X-Shopify-Shop-Domain"],
        api_version=headers.get("X-Shopify-API-Version"),
    )
    return _store_and_answer(delivery, label)


def _unavailable(label: str) -> ResponseReturnValue:
    log.warning("webhook.database_unavailable", extra={"source": "shopify", "topic": label})
    return _rejected(503, "database_unavailable", label)
