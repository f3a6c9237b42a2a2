"""``retention``: old raw bodies pruned, personal data of long-closed orders minimised."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from integrator.bootstrap import Container
from integrator.db.models import Order, WebhookDelivery
from integrator.db.timestamps import utcnow
from integrator.domain.statuses import OrderStatus
from integrator.pipeline.reconcile.passes import PassReport


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
                Order.status.in_((OrderStatus.CLOSED, OrderStatus.CANCELLED)),
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
