"""``POST /webhooks/suppliers/<name>``: supplier status callbacks.

unknown supplier 404 → size 413 → signature or secret token 401 → parse 400 → store the raw
callback and enqueue its job in one transaction (dedupe on the event id, or the shipment id
for shipment events) → the answer that supplier expects. Database down → 503.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue

from integrator.db.errors import database_unavailable
from integrator.metrics import DELIVERIES
from integrator.pipeline.inbox import NewDelivery, UnstorableDelivery, kept_headers, store_delivery
from integrator.pipeline.job_kinds import JobKind
from integrator.suppliers.errors import CallbackPayloadError
from webhooks.extensions import container_of
from webhooks.guards import TooLarge, read_body, refuse

log = logging.getLogger(__name__)
supplier_webhooks = Blueprint("supplier_webhooks", __name__)


def _rejected(status: int, reason: str, supplier: str) -> ResponseReturnValue:
    DELIVERIES.labels(supplier[:40], "callback", reason).inc()
    log.info("callback.rejected", extra={"source": supplier, "reason": reason})
    return refuse(status, reason)


@supplier_webhooks.post("/webhooks/suppliers/<name>")
def receive(name: str) -> ResponseReturnValue:
    container = container_of(current_app)
    try:
        adapter = container.adapter(name)
    except KeyError:
        return _rejected(404, "unknown_supplier", "unknown")
    try:
        body = read_body(request, container.settings.webhook_max_bytes)
    except TooLarge:
        return _rejected(413, "too_large", name)
    if not adapter.verify_callback(dict(request.headers), body, request.args.to_dict()):
        return _rejected(401, "bad_signature", name)
    try:
        events = adapter.parse_callback(body)
    except CallbackPayloadError as error:
        log.info("callback.malformed", extra={"source": name, "reason": str(error)[:200]})
        return _rejected(400, "malformed", name)
    except RecursionError:  # nested deeper than the JSON parser goes: malformed, not a 500
        return _rejected(400, "malformed", name)
    if not events:
        return _rejected(400, "no_events", name)
    topic = events[0].raw_status or events[0].kind.value
    delivery = NewDelivery(
        source=name,
        topic=f"{events[0].kind.value}:{topic}"[:100],
        dedupe_key="|".join(sorted({event.dedupe_key for event in events})),
        body=body,
        headers=kept_headers(request.headers),
        event_id=events[0].event_id,
    )
    try:
        with container.db.write_connection() as session:
            stored = store_delivery(session, delivery, job_kind=JobKind.SUPPLIER_CALLBACK)
    except UnstorableDelivery as unstorable:
        log.info("callback.unstorable", extra={"source": name, "problems": unstorable.problems})
        return _rejected(400, "invalid_headers", name)
    except Exception as error:
        if not database_unavailable(error):
            raise
        return _rejected(503, "database_unavailable", name)
    outcome = "duplicate" if stored.duplicate else "stored"
    DELIVERIES.labels(name, "callback", outcome).inc()
    log.info(
        "callback.accepted",
        extra={
            "source": name,
            "outcome": outcome,
            "delivery_id": stored.delivery_id,
            "event_id": delivery.event_id,
        },
    )
    answer = adapter.callback_response()
    return Response(answer.body, status=answer.status, content_type=answer.content_type)
