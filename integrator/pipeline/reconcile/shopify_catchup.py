"""``missed_orders``: orders Shopify changed that no webhook told us about, new or known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from integrator.bootstrap import Container
from integrator.db.models import Order, Shop
from integrator.db.timestamps import utcnow
from integrator.domain.statuses import OrderStatus
from integrator.jobqueue.jobs import enqueue
from integrator.pipeline.job_kinds import JobKind
from integrator.pipeline.reconcile.passes import PassReport, served_shops
from integrator.pipeline.shopify_errors import as_job_error
from integrator.store_config.operations import starts_production


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
        return JobKind.ORDER_INGEST, f"ingest:{key}", "paid, never received"
    status, seen = known
    if status == OrderStatus.CANCELLED:
        return None
    if change.cancelled:
        return JobKind.ORDER_CANCEL, f"cancel:{key}", "cancelled in Shopify, missed here"
    changed_at = change.updated_at.astimezone(UTC).replace(tzinfo=None)
    if seen is not None and changed_at <= seen:
        return None
    return (
        JobKind.ORDER_UPDATE,
        f"reconcile-update:{key}:{changed_at.isoformat()}",
        "changed in Shopify since it was last read",
    )
