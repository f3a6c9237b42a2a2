"""An item that fails over into a supplier order whose first submission may already have
made the order must not ride on that order's reference: the supplier would answer the repeat
with the first order, which does not have it, and the item would be "submitted" to nowhere.
(Found by the supplier-outage chaos run once order-level "Complete" stopped shipping items no
parcel carried.)"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from integrator.db.clock import utcnow
from integrator.db.models import Job, SupplierOrder
from integrator.pipeline.ingest import MAYBE_CREATED
from integrator.pipeline.submission import load_submission, note_error
from integrator.sandbox.stack import Stack

from .conftest import INGEST_ONLY, items_of, paid_order, supplier_orders_of
from .test_gelato_and_printify import fulfilled, line_ids

MUG, CANVAS = "MUG-11OZ-WHT", "CANVAS-30X40"  # Prodigi; Gelato in Germany, else Prodigi


def test_an_item_failed_over_into_an_order_already_tried_gets_an_order_of_its_own(
    stack: Stack,
) -> None:
    order = paid_order(stack, [MUG, CANVAS], kinds=INGEST_ONLY)
    mug, canvas = line_ids(order)
    with stack.db.read() as session:
        first_prodigi = session.scalars(
            select(SupplierOrder.id).where(SupplierOrder.supplier == "prodigi")
        ).one()
    # the mug's first attempt: Prodigi made the order, its answer was lost
    attempt = load_submission(stack.container, first_prodigi)
    assert attempt is not None
    stack.container.adapter("prodigi", stack.options.shop).submit(attempt.request)
    note_error(stack.container, first_prodigi, f"{MAYBE_CREATED}prodigi: timeout")
    # meanwhile Gelato cannot make the canvas: it fails over to Prodigi
    stack.suppliers["gelato"].unavailable = {
        "canvas_300x400-mm-12x16-inch_canvas_wood-fsc-slim_4-0_ver"
    }
    with stack.db.write() as session:  # the mug's retry waits out its backoff
        session.execute(update(Job).where(Job.kind == "supplier.submit").values(
            run_at=utcnow() + timedelta(minutes=5)))
        session.execute(update(Job).where(
            Job.kind == "supplier.submit", Job.unique_key != f"submit:{first_prodigi}"
        ).values(run_at=utcnow()))
    stack.drain()  # the canvas fails over to Prodigi

    with stack.db.write() as session:
        session.execute(update(Job).where(Job.status == "queued").values(run_at=utcnow()))
    stack.drain()

    prodigi = stack.suppliers["prodigi"]
    rows = {so.id: so for so in supplier_orders_of(stack) if so.supplier == "prodigi"}
    assert len(rows) == 2 and len(prodigi.orders) == 2
    for item in items_of(stack):
        assert item.stage == "submitted"
        row = rows[item.supplier_order_id or 0]
        made = prodigi.orders[str(row.supplier_order_id)]
        assert [i["merchantReference"] for i in made["items"]] == [item.shopify_line_item_id]
        assert prodigi.created_count(row.external_ref) == 1

    stack.advance_all("shipped")
    stack.drain()
    shipped = [items for items, _ in fulfilled(stack, order)]
    assert len(shipped) == 2 and {mug: 1} in shipped and {canvas: 1} in shipped
