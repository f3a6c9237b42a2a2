"""An item that fails over into a supplier order whose first submission may already have
made the order must not ride on that order's reference: the supplier would answer the repeat
with the first order, which does not have it, and the item would be "submitted" to nowhere.
(Found by the supplier-outage chaos run once order-level "Complete" stopped shipping items no
parcel carried.)"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from integrator.db.models import Job, SupplierOrder
from integrator.db.timestamps import utcnow
from integrator.pipeline.submission import (
    fail_over,
    load_submission,
    note_error,
    record_submitted,
)
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
    note_error(stack.container, first_prodigi, "prodigi: timeout", sent=True)
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


def test_an_item_that_joins_after_the_lines_were_read_is_not_left_behind(
    stack: Stack,
) -> None:
    """The read of a submission and a failover into the same supplier order can cross (two
    workers on PostgreSQL, found by the outage run): whatever joined after the read gets an
    order of its own when the first is recorded, instead of waiting on one that lacks it."""
    order = paid_order(stack, [MUG, CANVAS], kinds=INGEST_ONLY)
    mug, canvas = line_ids(order)
    with stack.db.read() as session:
        rows = {so.supplier: so.id for so in session.scalars(select(SupplierOrder))}
    mug_attempt = load_submission(stack.container, rows["prodigi"])
    canvas_attempt = load_submission(stack.container, rows["gelato"])
    assert mug_attempt is not None and canvas_attempt is not None
    assert [line.line_item_id for line in mug_attempt.request.lines] == [mug]

    # the canvas fails over into the Prodigi order after the mug's lines were read
    fail_over(stack.container, canvas_attempt, "gelato cannot make it")
    assert {i.shopify_line_item_id: i.supplier_order_id for i in items_of(stack)} == {
        mug: rows["prodigi"], canvas: rows["prodigi"]}
    made = stack.container.adapter("prodigi", stack.options.shop).submit(mug_attempt.request)
    record_submitted(stack.container, mug_attempt, made)
    with stack.db.write() as session:  # the retried submission job runs now, not in minutes
        session.execute(update(Job).where(Job.status == "queued").values(run_at=utcnow()))
    stack.drain()

    prodigi = stack.suppliers["prodigi"]
    assert len(prodigi.orders) == 2
    by_line = {i.shopify_line_item_id: i for i in items_of(stack)}
    assert {line: item.stage for line, item in by_line.items()} == {
        mug: "submitted", canvas: "submitted"}
    assert by_line[canvas].supplier_order_id != rows["prodigi"]
    for row in supplier_orders_of(stack):
        if row.supplier == "prodigi":
            made_there = prodigi.orders[str(row.supplier_order_id)]
            [line] = [i for i, it in by_line.items() if it.supplier_order_id == row.id]
            assert [i["merchantReference"] for i in made_there["items"]] == [line]
