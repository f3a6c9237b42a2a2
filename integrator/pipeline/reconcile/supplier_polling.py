"""``silent_suppliers``: supplier orders with no news for too long are polled (``supplier.poll``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from integrator.bootstrap import Container
from integrator.db.models import SupplierOrder
from integrator.db.timestamps import utcnow
from integrator.domain.statuses import AT_SUPPLIER, SupplierOrderStatus
from integrator.jobqueue.errors import RetryableJobError
from integrator.jobqueue.jobs import enqueue
from integrator.jobqueue.worker import JobContext
from integrator.pipeline.callbacks import apply_event
from integrator.pipeline.job_kinds import JobKind
from integrator.pipeline.reconcile.passes import PassReport, slot_of
from integrator.suppliers.errors import RetryableSupplierError, SupplierError

OPEN_SUPPLIER_STATUSES = (*AT_SUPPLIER, SupplierOrderStatus.SHIPPED)


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
                JobKind.SUPPLIER_POLL,
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
