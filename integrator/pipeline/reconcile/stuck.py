"""``stuck_items``: one alert per item that stays in a stage longer than expected."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from integrator.bootstrap import Container
from integrator.db.models import Alert, LineItem, Order
from integrator.db.timestamps import utcnow
from integrator.domain.stages import Stage
from integrator.domain.statuses import OrderStatus
from integrator.jobqueue.jobs import enqueue
from integrator.pipeline.job_kinds import JobKind
from integrator.pipeline.reconcile.passes import PassReport
from integrator.store_config.operations import TIMED_STAGES

log = logging.getLogger(__name__)


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
                LineItem.stage.in_([s.value for s in TIMED_STAGES]),
                # waiting for Shopify (a hold, a scheduled date) is Shopify's clock, not ours
                or_(LineItem.disposition.is_(None), LineItem.disposition != "wait"),
                or_(LineItem.alerted_stage.is_(None), LineItem.alerted_stage != LineItem.stage),
                Order.status == OrderStatus.OPEN,
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
                    session,
                    JobKind.ALERT_POST,
                    {"alert_id": alert.id},
                    unique_key=f"alert:{alert.id}",
                )
                report.enqueued += 1
    return report


def _days(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"
