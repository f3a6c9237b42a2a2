"""``failed_syncs``: shipments not yet on Shopify and submissions left waiting, enqueued again."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from integrator.bootstrap import Container
from integrator.db.models import Shipment, SupplierOrder
from integrator.db.timestamps import utcnow
from integrator.domain.statuses import ShipmentSyncStatus, SupplierOrderStatus
from integrator.jobqueue.jobs import enqueue
from integrator.pipeline.job_kinds import JobKind
from integrator.pipeline.reconcile.passes import PassReport, slot_of


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
                Shipment.sync_status.in_((ShipmentSyncStatus.PENDING, ShipmentSyncStatus.WAITING)),
                Shipment.created_at < stale,
            )
        ).all()
        pending = session.scalars(
            select(SupplierOrder.id).where(
                SupplierOrder.status == SupplierOrderStatus.PENDING,
                SupplierOrder.created_at < stale,
            )
        ).all()
        report.found = len(shipments) + len(pending)
        if dry_run:
            return report
        for shipment_id in shipments:
            if enqueue(
                session,
                JobKind.SHOPIFY_SYNC_SHIPMENT,
                {"shipment_id": shipment_id},
                unique_key=f"sync:{shipment_id}:{slot}",
            ):
                report.enqueued += 1
        for supplier_order_id in pending:
            if enqueue(
                session,
                JobKind.SUPPLIER_SUBMIT,
                {"supplier_order_id": supplier_order_id},
                unique_key=f"submit:{supplier_order_id}:{slot}",
            ):
                report.enqueued += 1
    return report
