"""Reconciliation passes: catch what webhooks and callbacks missed. Each pass only reads and
enqueues idempotent jobs (or writes its own small facts), so running one twice is harmless."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import and_, or_, select

from integrator.bootstrap import Container
from integrator.db.models import (
    Alert,
    LineItem,
    Order,
    Shipment,
    Shop,
    SupplierOrder,
    WebhookDelivery,
)
from integrator.db.timestamps import utcnow
from integrator.domain.stages import Stage
from integrator.jobqueue.errors import RetryableJobError
from integrator.jobqueue.jobs import enqueue
from integrator.jobqueue.worker import JobContext
from integrator.pipeline.callbacks import apply_event
from integrator.pipeline.shopify_errors import as_job_error
from integrator.store_config.operations import RECONCILE_PASSES, starts_production
from integrator.suppliers.errors import RetryableSupplierError, SupplierError

log = logging.getLogger(__name__)

PASSES = RECONCILE_PASSES
OPEN_SUPPLIER_STATUSES = ("submitted", "in_production", "held", "shipped")
STUCK_STAGES = (
    Stage.RECEIVED,
    Stage.ROUTED,
    Stage.SUBMITTED,
    Stage.IN_PRODUCTION,
    Stage.ON_HOLD,
    Stage.SHIPPED,
)
ALERT_TIMEOUT = (3.05, 10)


@dataclass
class PassReport:
    name: str
    found: int = 0
    enqueued: int = 0
    notes: list[str] = field(default_factory=list)


def slot_of(interval: timedelta, now: datetime | None = None) -> int:
    """The time slot of a periodic job: every clock computes the same number for one period."""
    moment = now or utcnow()
    return int(moment.timestamp() // max(interval.total_seconds(), 1))


def served_shops(container: Container) -> list[str]:
    with container.db.read() as session:
        shops = set(session.scalars(select(Shop.domain).where(Shop.status == "active")))
    if container.settings.shopify_shop:
        shops.add(container.settings.shopify_shop)
    return sorted(shops)


# --- missed orders -------------------------------------------------------------------------


def missed_orders(
    container: Container, *, dry_run: bool = False, since: datetime | None = None
) -> PassReport:
    """Page orders updated since the checkpoint: ingest paid orders we do not have; for orders
    we have, cancel those Shopify cancelled and read again those Shopify changed since we last
    read them (edits, refunds, fulfillment-order moves and holds, fulfillments by others)."""
    from integrator.shopify.enrichment import iter_orders_updated_since

    report = PassReport("missed_orders")
    if container.shopify_client is None:
        report.notes.append("Shopify credentials not configured: pass skipped")
        return report
    for shop in served_shops(container):
        config = container.config(shop)
        overlap = timedelta(seconds=config.reconcile.missed_orders_overlap)
        with container.db.read() as session:
            checkpoint = session.scalar(select(Shop.orders_checkpoint).where(Shop.domain == shop))
        start = since or checkpoint or utcnow() - timedelta(days=2)
        with as_job_error():
            for page in iter_orders_updated_since(
                container.shopify, shop, _aware(start), overlap=overlap
            ):
                report.found += _store_page(container, shop, page.orders, report, dry_run)
    return report


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _store_page(
    container: Container, shop: str, orders: tuple[object, ...], report: PassReport, dry_run: bool
) -> int:
    """Enqueue the work the page's orders need, then advance the checkpoint."""
    from integrator.shopify.enrichment import OrderChange

    changes = [o for o in orders if isinstance(o, OrderChange)]
    if not changes:
        return 0
    trigger = container.config(shop).shopify.trigger_topic
    ids = [c.order_id for c in changes]
    found = 0
    with container.db.write() as session:
        known = {
            order_id: (status, seen)
            for order_id, status, seen in session.execute(
                select(Order.shopify_order_id, Order.status, Order.shopify_updated_at).where(
                    Order.shop_domain == shop, Order.shopify_order_id.in_(ids)
                )
            )
        }
        for change in changes:
            job = _job_for_change(shop, change, known.get(change.order_id), trigger)
            if job is None:
                continue
            kind, unique_key, note = job
            found += 1
            report.notes.append(f"{shop} {change.name}: {note}")
            if not dry_run:
                payload = {"shop": shop, "order_id": change.order_id}
                report.enqueued += (
                    enqueue(session, kind, payload, unique_key=unique_key) is not None
                )
        if not dry_run:
            newest = max(c.updated_at for c in changes).astimezone(UTC).replace(tzinfo=None)
            shop_row = session.scalar(select(Shop).where(Shop.domain == shop))
            if shop_row is None:
                shop_row = Shop(domain=shop)
                session.add(shop_row)
            if shop_row.orders_checkpoint is None or newest > shop_row.orders_checkpoint:
                shop_row.orders_checkpoint = newest
    return found


def _job_for_change(
    shop: str, change: object, known: tuple[str, datetime | None] | None, trigger: object
) -> tuple[str, str, str] | None:
    """(job kind, unique key, note) for one listed order, or None when it needs nothing."""
    from integrator.shopify.enrichment import OrderChange
    from integrator.store_config.operations import TriggerTopic

    assert isinstance(change, OrderChange) and isinstance(trigger, TriggerTopic)
    key = f"{shop}:{change.order_id}"
    if known is None:
        if change.cancelled or not starts_production(trigger, change.financial_status):
            return None
        return "order.ingest", f"ingest:{key}", "paid, never received"
    status, seen = known
    if status == "cancelled":
        return None
    if change.cancelled:
        return "order.cancel", f"cancel:{key}", "cancelled in Shopify, missed here"
    changed_at = change.updated_at.astimezone(UTC).replace(tzinfo=None)
    if seen is not None and changed_at <= seen:
        return None
    return (
        "order.update",
        f"reconcile-update:{key}:{changed_at.isoformat()}",
        "changed in Shopify since it was last read",
    )


# --- silent suppliers ----------------------------------------------------------------------


def silent_suppliers(
    container: Container, *, dry_run: bool = False, since: datetime | None = None
) -> PassReport:
    """Poll open supplier orders we have not heard about for a while."""
    report = PassReport("silent_suppliers")
    after = timedelta(seconds=container.config().reconcile.silent_supplier_after)
    cutoff = utcnow() - after
    with container.db.write() as session:
        quiet = session.scalars(
            select(SupplierOrder.id).where(
                SupplierOrder.status.in_(OPEN_SUPPLIER_STATUSES),
                SupplierOrder.supplier_order_id.is_not(None),
                or_(
                    SupplierOrder.last_heard_at < cutoff,
                    and_(
                        SupplierOrder.last_heard_at.is_(None), SupplierOrder.submitted_at < cutoff
                    ),
                ),
            )
        ).all()
        report.found = len(quiet)
        slot = slot_of(after)
        for supplier_order_id in quiet:
            if not dry_run and enqueue(
                session,
                "supplier.poll",
                {"supplier_order_id": supplier_order_id},
                unique_key=f"poll:{supplier_order_id}:{slot}",
            ):
                report.enqueued += 1
    return report


def poll_supplier_order(container: Container, context: JobContext) -> str:
    supplier_order_id = int(str(context.payload["supplier_order_id"]))
    with container.db.read() as session:
        supplier_order = session.get(SupplierOrder, supplier_order_id)
        if supplier_order is None or supplier_order.supplier_order_id is None:
            return "gone"
        supplier, remote_id = supplier_order.supplier, supplier_order.supplier_order_id
        shop = supplier_order.order.shop_domain
    adapter = container.adapter(supplier, shop)
    try:
        events = adapter.complete_events(adapter.fetch_status(supplier_order_id=remote_id))
    except RetryableSupplierError as error:
        raise RetryableJobError(
            f"{supplier} status: {error}", retry_after=error.retry_after
        ) from error
    except SupplierError as error:
        return f"status refused: {error}"
    outcomes = []
    with container.db.write() as session:
        for event in events:
            outcomes.append(apply_event(session, container, supplier, event, source="reconcile"))
        row = session.get(SupplierOrder, supplier_order_id)
        if row is not None:
            row.last_heard_at = utcnow()
    return ",".join(outcomes) or "no_events"


# --- failed syncs and waiting submissions -------------------------------------------------


def failed_syncs(
    container: Container, *, dry_run: bool = False, since: datetime | None = None
) -> PassReport:
    """Re-enqueue tracking syncs and submissions that are still waiting."""
    report = PassReport("failed_syncs")
    interval = container.config().reconcile.interval("failed_syncs")
    slot = slot_of(interval)
    stale = utcnow() - min(interval, timedelta(minutes=5))
    with container.db.write() as session:
        shipments = session.scalars(
            select(Shipment.id).where(
                Shipment.sync_status.in_(("pending", "waiting")), Shipment.created_at < stale
            )
        ).all()
        pending = session.scalars(
            select(SupplierOrder.id).where(
                SupplierOrder.status == "pending", SupplierOrder.created_at < stale
            )
        ).all()
        report.found = len(shipments) + len(pending)
        if dry_run:
            return report
        for shipment_id in shipments:
            if enqueue(
                session,
                "shopify.sync_shipment",
                {"shipment_id": shipment_id},
                unique_key=f"sync:{shipment_id}:{slot}",
            ):
                report.enqueued += 1
        for supplier_order_id in pending:
            if enqueue(
                session,
                "supplier.submit",
                {"supplier_order_id": supplier_order_id},
                unique_key=f"submit:{supplier_order_id}:{slot}",
            ):
                report.enqueued += 1
    return report


# --- stuck items ---------------------------------------------------------------------------


def alert_stuck_items(
    container: Container, *, dry_run: bool = False, since: datetime | None = None
) -> PassReport:
    """Raise one alert per item that stays in a stage longer than expected."""
    report = PassReport("stuck_items")
    now = utcnow()
    with container.db.write() as session:
        candidates = session.scalars(
            select(LineItem)
            .join(Order)
            .where(
                LineItem.stage.in_([s.value for s in STUCK_STAGES]),
                # waiting for Shopify (a hold, a scheduled date) is Shopify's clock, not ours
                or_(LineItem.disposition.is_(None), LineItem.disposition != "wait"),
                or_(LineItem.alerted_stage.is_(None), LineItem.alerted_stage != LineItem.stage),
                Order.status == "open",
            )
        ).all()
        for item in candidates:
            config = container.config(item.order.shop_domain)
            expected = config.expected_duration(Stage(item.stage), item.supplier, item.product_type)
            if expected is None or now - item.stage_changed_at <= expected:
                continue
            report.found += 1
            message = (
                f"{item.order.name} · {item.title or item.sku}: {item.stage} for "
                f"{_days(now - item.stage_changed_at)} (expected {_days(expected)})"
                + (f" at {item.supplier}" if item.supplier else "")
            )
            report.notes.append(message)
            if dry_run:
                continue
            item.alerted_stage = item.stage
            alert = Alert(
                kind="stuck_item",
                subject=f"line_item:{item.id}:{item.stage}",
                line_item_id=item.id,
                order_id=item.order_id,
                message=message,
            )
            session.add(alert)
            session.flush()
            log.warning(
                "item.stuck",
                extra={
                    "line_item_id": item.id,
                    "stage": item.stage,
                    "supplier": item.supplier,
                    "alert_id": alert.id,
                },
            )
            if config.alerts.webhook_url:
                enqueue(
                    session, "alert.post", {"alert_id": alert.id}, unique_key=f"alert:{alert.id}"
                )
                report.enqueued += 1
    return report


def _days(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"


def post_alert(container: Container, context: JobContext) -> str:
    """Post an alert to the configured Slack-compatible webhook URL."""
    alert_id = int(str(context.payload["alert_id"]))
    with container.db.read() as session:
        alert = session.get(Alert, alert_id)
        if alert is None or alert.posted:
            return "nothing"
        message = alert.message
    url = container.config().alerts.webhook_url
    if not url:
        return "no_webhook"
    try:
        response = requests.post(url, json={"text": f":warning: {message}"}, timeout=ALERT_TIMEOUT)
    except requests.RequestException as error:
        raise RetryableJobError(f"alert webhook: {type(error).__name__}") from error
    if response.status_code >= 500 or response.status_code == 429:
        raise RetryableJobError(f"alert webhook answered {response.status_code}")
    with container.db.write() as session:
        row = session.get(Alert, alert_id)
        if row is not None:
            row.posted = response.ok
    return f"posted:{response.status_code}"


# --- retention -----------------------------------------------------------------------------


def retention(
    container: Container, *, dry_run: bool = False, since: datetime | None = None
) -> PassReport:
    """Prune old raw bodies (metadata kept) and minimise personal data of long-closed orders."""
    from integrator.pipeline.compliance import redact_orders

    report = PassReport("retention")
    settings = container.config().reconcile
    now = utcnow()
    body_cutoff = now - timedelta(days=settings.raw_body_retention_days)
    personal_cutoff = now - timedelta(days=settings.personal_data_retention_days)
    with container.db.write() as session:
        old = session.scalars(
            select(WebhookDelivery).where(
                WebhookDelivery.body.is_not(None), WebhookDelivery.received_at < body_cutoff
            )
        ).all()
        closed = session.scalars(
            select(Order).where(
                Order.status.in_(("closed", "cancelled")),
                Order.redacted_at.is_(None),
                or_(Order.closed_at < personal_cutoff, Order.cancelled_at < personal_cutoff),
            )
        ).all()
        report.found = len(old) + len(closed)
        report.notes.append(f"{len(old)} raw bodies, {len(closed)} closed orders")
        if not dry_run:
            for delivery in old:
                delivery.body = None
                delivery.pruned_at = now
            redact_orders(session, list(closed))
    return report


# --- webhook subscriptions -----------------------------------------------------------------


def webhook_subscriptions(
    container: Container, *, dry_run: bool = False, since: datetime | None = None
) -> PassReport:
    """Single-store mode: recreate the webhook subscriptions Shopify deleted.

    Shopify deletes an API-made subscription after its deliveries failed for hours
    (api-notes §1.5). ``integrator shopify setup`` remembers where it subscribed; this pass
    checks that every topic is still subscribed there and subscribes the missing ones again.
    """
    from integrator.pipeline.shops import shop_is_active
    from integrator.shopify.setup import ensure_webhook_subscriptions, missing_subscriptions
    from integrator.shopify.topics import subscription_topics

    report = PassReport("webhook_subscriptions")
    shop = container.settings.shopify_shop
    if not shop or container.shopify_client is None:
        report.notes.append("not in single-store mode: the app's TOML declares subscriptions")
        return report
    with container.db.read() as session:
        row = session.scalar(select(Shop).where(Shop.domain == shop))
        active = shop_is_active(session, container, shop)
        callback_url = row.webhook_callback_url if row is not None else None
        mode = row.fulfillment_mode if row is not None else None
    if not active or not callback_url:
        report.notes.append(f"{shop}: no subscriptions made by `integrator shopify setup`")
        return report
    topics = subscription_topics(mode)
    with as_job_error():
        missing = missing_subscriptions(container.shopify, shop, callback_url, topics)
        report.found = len(missing)
        report.notes += [f"{shop}: {topic} was not subscribed" for topic in missing]
        if missing and not dry_run:
            ensure_webhook_subscriptions(container.shopify, shop, callback_url, missing)
            report.enqueued = len(missing)
            log.warning("webhooks.resubscribed", extra={"shop": shop, "topics": missing})
    return report


PASS_FUNCTIONS: dict[str, Callable[..., PassReport]] = {
    "missed_orders": missed_orders,
    "silent_suppliers": silent_suppliers,
    "failed_syncs": failed_syncs,
    "stuck_items": alert_stuck_items,
    "retention": retention,
    "webhook_subscriptions": webhook_subscriptions,
}


def _pass_job(name: str) -> Callable[[Container, JobContext], object]:
    def run(container: Container, context: JobContext) -> object:
        report = PASS_FUNCTIONS[name](container)
        return f"found={report.found} enqueued={report.enqueued}"

    return run


JOB_KINDS: dict[str, Callable[[Container, JobContext], object]] = {
    **{f"reconcile.{name}": _pass_job(name) for name in PASSES},
    "supplier.poll": poll_supplier_order,
    "alert.post": post_alert,
}
