"""A baseline endpoint for ``bench/ingest.py``: verify the HMAC of the raw body, answer 200.

It does the part of ``POST /webhooks/shopify`` that no receiver can skip (read the bytes,
check Shopify's signature with the same function) and nothing else: no JSON parse, no
dedupe, no database. The benchmark compares the real receiver against it in the same server.
Registered only when ``INTEGRATOR_BENCH_BASELINE=1`` (see ``webhooks.app.create_app``).
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from integrator.shopify.webhook_verification import verify_webhook
from webhooks.extensions import container_of
from webhooks.guards import TooLarge, read_body, refuse

BASELINE_PATH = "/bench/baseline/shopify"
bench_baseline = Blueprint("bench_baseline", __name__)


@bench_baseline.post(BASELINE_PATH)
def verify_only() -> ResponseReturnValue:
    settings = container_of(current_app).settings
    try:
        body = read_body(request, settings.webhook_max_bytes)
    except TooLarge:
        return refuse(413, "too_large")
    if not verify_webhook(body, dict(request.headers), settings.shopify_secrets):
        return refuse(401, "bad_signature")
    return jsonify(status="verified"), 200
