"""Fulfillment-service mode: answer the merchant's requests on the fulfillment orders assigned
to our location, as part of following the order (``order_sync.sync_order``).

Fulfillment requests are answered before routing: routing's what-if (the request accepted)
decides, Shopify is told, and only then does an accepted fulfillment order become routable.
Cancellation requests are answered after the sync tried to stop the items at their supplier:
the sync already treats a fulfillment order whose cancellation is requested as no longer ours.

Shopify is the journal: an answer is sent only while Shopify still shows the request waiting,
so a retried job (answer lost, worker killed) reads the answered state and sends nothing again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from sqlalchemy import select

from integrator.bootstrap import Container
from integrator.db.models import FulfillmentRequestAnswer, LineItem, Order, SupplierOrder
from integrator.db.timestamps import utcnow
from integrator.domain.model import EnrichedOrder, FulfillmentOrder
from integrator.domain.stages import Stage
from integrator.domain.statuses import NOT_AT_SUPPLIER
from integrator.jobqueue.errors import RetryableJobError
from integrator.jobqueue.jobs import enqueue
from integrator.jobqueue.worker import JobContext
from integrator.pipeline.job_kinds import JobKind
from integrator.pipeline.shopify_errors import as_job_error
from integrator.routing.assignment import FulfillmentMode, Ownership
from integrator.routing.fulfillment_requests import (
    ItemAtSupplier,
    RequestAnswer,
    accepting,
    answer_cancellation_request,
    answer_fulfillment_request,
)
from integrator.routing.router import route_order
from integrator.shopify import fulfillment_service as service_api
from integrator.shopify.errors import ShopifyUserErrors
from integrator.store_config.store import StoreConfig

log = logging.getLogger(__name__)

STOPPED_STAGES = (Stage.RECEIVED.value, Stage.CANCELLED.value)
REFUSED_PREFIX = "cancel refused: "


def answer_fulfillment_requests(
    container: Container, enriched: EnrichedOrder, config: StoreConfig, ownership: Ownership
) -> EnrichedOrder:
    """Answer every fulfillment request waiting on our fulfillment orders; return the order as
    Shopify now has it (accepted ones in progress, rejected ones back with the merchant)."""
    waiting = [fo for fo in _ours(enriched, ownership) if fo.request_status == "SUBMITTED"]
    if not waiting:
        return enriched
    what_if = route_order(enriched, config, replace(ownership, accepting=True))
    decisions = {decision.line_item_id: decision for decision in what_if}
    answered: dict[str, FulfillmentOrder] = {}
    for fo in waiting:
        answer = answer_fulfillment_request(fo, enriched, decisions, config)
        with as_job_error(), _answered_meanwhile(fo):
            if answer.accept:
                service_api.accept_fulfillment_request(
                    container.shopify, enriched.shop, fo.id, answer.message
                )
            else:
                assert answer.reason is not None
                service_api.reject_fulfillment_request(
                    container.shopify, enriched.shop, fo.id, answer.reason.value, answer.message
                )
        _remember(container, enriched, answer, "fulfillment")
        answered[fo.id] = accepting(fo) if answer.accept else replace(fo, request_status="REJECTED")
    fulfillment_orders = tuple(answered.get(fo.id, fo) for fo in enriched.fulfillment_orders)
    return replace(enriched, fulfillment_orders=fulfillment_orders)


def answer_cancellation_requests(
    container: Container, enriched: EnrichedOrder, ownership: Ownership
) -> list[RequestAnswer]:
    """After the sync stopped what it could: accept where nothing is being made any more,
    reject with the supplier's answer where production goes on."""
    waiting = [
        fo for fo in _ours(enriched, ownership) if fo.request_status == "CANCELLATION_REQUESTED"
    ]
    answers = []
    for fo in waiting:
        answer = answer_cancellation_request(fo.id, _items_of(container, enriched, fo))
        with as_job_error(), _answered_meanwhile(fo):
            if answer.accept:
                service_api.accept_cancellation_request(
                    container.shopify, enriched.shop, fo.id, answer.message
                )
            else:
                service_api.reject_cancellation_request(
                    container.shopify, enriched.shop, fo.id, answer.message
                )
        _remember(container, enriched, answer, "cancellation")
        answers.append(answer)
    return answers


# --- requests we were not told about -----------------------------------------------------

ASSIGNMENT_STATUSES = ("FULFILLMENT_REQUESTED", "CANCELLATION_REQUESTED")


@dataclass
class RequestPoll:
    found: int = 0
    enqueued: int = 0
    notes: list[str] = field(default_factory=list)


def poll_assigned_requests(
    container: Container, shop: str, *, dry_run: bool = False
) -> RequestPoll:
    """Requests waiting at our location (a callback notification, or reconciliation for the
    ones whose webhook and notification were both lost): follow each one's order, which
    answers them. Unknown orders are ingested (their trigger was lost too)."""
    from integrator.pipeline.shop_settings import connection_of

    poll = RequestPoll()
    connection = connection_of(container.db, shop)
    if connection.fulfillment_mode != FulfillmentMode.FULFILLMENT_SERVICE.value:
        poll.notes.append(f"{shop}: not in fulfillment-service mode")
        return poll
    locations = (connection.fulfillment_location_id,) if connection.fulfillment_location_id else ()
    waiting: dict[str, str] = {}
    with as_job_error():
        for status in ASSIGNMENT_STATUSES:
            for request in service_api.assigned_requests(
                container.shopify, shop, status, locations
            ):
                waiting.setdefault(request.order_id, request.request_status)
    poll.found = len(waiting)
    if dry_run or not waiting:
        return poll
    # one follow-up per order and minute: duplicates of a notification collapse, a request
    # made again later (after a rejection) is followed again
    minute = int(utcnow().timestamp() // 60)
    with container.db.write() as session:
        known = set(
            session.scalars(
                select(Order.shopify_order_id).where(
                    Order.shop_domain == shop, Order.shopify_order_id.in_(list(waiting))
                )
            )
        )
        for order_id, request_status in sorted(waiting.items()):
            kind = JobKind.ORDER_UPDATE if order_id in known else JobKind.ORDER_INGEST
            job = enqueue(
                session,
                kind,
                {"shop": shop, "order_id": order_id},
                unique_key=f"request:{shop}:{order_id}:{request_status}:{minute}",
            )
            poll.enqueued += job is not None
            poll.notes.append(f"{shop}: order {order_id} has a request {request_status.lower()}")
    return poll


def poll_requests_job(container: Container, context: JobContext) -> str:
    """``shopify.fulfillment_requests``: a callback notification said requests wait."""
    poll = poll_assigned_requests(container, str(context.payload["shop"]))
    return f"found={poll.found} enqueued={poll.enqueued}"


@contextmanager
def _answered_meanwhile(fo: FulfillmentOrder) -> Iterator[None]:
    """Shopify refused the answer: the request changed since we read it (another job answered
    it, the merchant withdrew it). Read the order again rather than fail at once: its state
    decides; a refusal that never goes away ends the job with Shopify's message."""
    try:
        yield
    except ShopifyUserErrors as error:
        log.info(
            "fulfillment_request.changed_meanwhile",
            extra={"fulfillment_order_id": fo.id, "request_status": fo.request_status},
        )
        raise RetryableJobError(
            f"Shopify refused our answer on {fo.id}: {error}", retry_after=2
        ) from error


def _ours(enriched: EnrichedOrder, ownership: Ownership) -> list[FulfillmentOrder]:
    if ownership.mode is not FulfillmentMode.FULFILLMENT_SERVICE:
        return []
    return [fo for fo in enriched.fulfillment_orders if ownership.owns(fo)]


def _items_of(
    container: Container, enriched: EnrichedOrder, fo: FulfillmentOrder
) -> list[ItemAtSupplier]:
    line_ids = {fo_line.line_item_id for fo_line in fo.lines}
    with container.db.read() as session:
        rows = session.execute(
            select(LineItem, SupplierOrder)
            .join(Order, Order.id == LineItem.order_id)
            .outerjoin(SupplierOrder, SupplierOrder.id == LineItem.supplier_order_id)
            .where(
                Order.shop_domain == enriched.shop,
                Order.shopify_order_id == enriched.order_id,
                LineItem.shopify_line_item_id.in_(line_ids),
            )
        ).all()
        return [_item_at_supplier(item, supplier_order) for item, supplier_order in rows]


def _item_at_supplier(item: LineItem, supplier_order: SupplierOrder | None) -> ItemAtSupplier:
    title = item.title or item.sku or item.shopify_line_item_id
    if supplier_order is None or item.stage in STOPPED_STAGES:
        return ItemAtSupplier(title, item.supplier, stopped=True)
    if supplier_order.status in NOT_AT_SUPPLIER:
        return ItemAtSupplier(title, supplier_order.supplier, stopped=True)
    error = supplier_order.last_error or ""
    answer = error[len(REFUSED_PREFIX) :] if error.startswith(REFUSED_PREFIX) else item.stage
    return ItemAtSupplier(title, supplier_order.supplier, stopped=False, supplier_answer=answer)


def _remember(
    container: Container, enriched: EnrichedOrder, answer: RequestAnswer, kind: str
) -> None:
    with container.db.write() as session:
        session.add(
            FulfillmentRequestAnswer(
                shop_domain=enriched.shop,
                shopify_order_id=enriched.order_id,
                fulfillment_order_id=answer.fulfillment_order_id,
                kind=kind,
                accepted=answer.accept,
                reason=answer.reason.value if answer.reason else None,
                message=answer.message,
            )
        )
    log.info(
        "fulfillment_request.answered",
        extra={
            "shop": enriched.shop,
            "order_id": enriched.order_id,
            "fulfillment_order_id": answer.fulfillment_order_id,
            "kind": kind,
            "accepted": answer.accept,
            "reason": answer.reason.value if answer.reason else None,
        },
    )


# --- connecting a shop ---------------------------------------------------------------------


def connect_new_shop(container: Container, shop: str) -> bool:
    """First token exchange of a multi-shop (public app) install: a shop with no mode yet is
    connected as a fulfillment service, the default for such installs (docs/adr/0002); its
    service is created by a job (no HTTP call here, inside the app's page). True when new."""
    from integrator.db.models import Shop

    with container.db.write() as session:
        row = session.scalar(select(Shop).where(Shop.domain == shop).with_for_update())
        if row is None or row.fulfillment_mode:
            return False
        row.fulfillment_mode = FulfillmentMode.FULFILLMENT_SERVICE.value
        enqueue(
            session,
            JobKind.SHOPIFY_FULFILLMENT_SERVICE_SETUP,
            {"shop": shop},
            unique_key=f"fulfillment-service-setup:{shop}",
        )
    return True


def setup_service_job(container: Container, context: JobContext) -> str:
    """``shopify.fulfillment_service_setup``: our fulfillment service for the shop, created
    once (found again by name), its ids remembered."""
    from integrator.pipeline.shop_settings import remember_mode

    shop = str(context.payload["shop"])
    name = container.config(shop).shopify.fulfillment_service_name
    callback = f"{container.settings.public_url}{service_api.CALLBACK_PATH}"
    with as_job_error():
        registration = service_api.ensure_fulfillment_service(
            container.shopify, shop, name, callback
        )
    service = registration.service
    remember_mode(
        container.db,
        shop,
        FulfillmentMode.FULFILLMENT_SERVICE.value,
        service_id=service.id,
        location_id=service.location_id,
    )
    return "created" if registration.created else "found"
