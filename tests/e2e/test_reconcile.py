"""Reconciliation passes against the sandboxes: webhooks never delivered, supplier callbacks
dropped, items stuck in a stage."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from integrator.db.models import Alert, LineItem, Order, Shipment, SupplierOrder
from integrator.db.timestamps import utcnow
from integrator.pipeline.reconcile import alert_stuck_items, missed_orders, silent_suppliers
from integrator.sandbox.shopify import LineSpec
from integrator.sandbox.stack import Stack, StackOptions

SKUS = ("TEE-BLK-M-DTG", "MUG-11OZ-WHT", "CANVAS-30X40", "CASE-IPHONE15-CLEAR", "HAT-NAVY-EMB")


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    options = StackOptions(
        database_url=database_url, migrate=False, bucket_size=1e6, restore_rate=1e6
    )
    running = Stack(options)
    yield running
    running.close()


def count(stack: Stack, model: type) -> int:
    with stack.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def item_stages(stack: Stack) -> list[str]:
    with stack.db.read() as session:
        return list(session.scalars(select(LineItem.stage).order_by(LineItem.id)))


def place_and_deliver(stack: Stack, orders: int) -> list[dict[str, object]]:
    placed = []
    for number in range(orders):
        order = stack.place_order([LineSpec(SKUS[number % len(SKUS)])])
        assert stack.send_webhook("orders/paid", order).statuses == [200]
        placed.append(order)
    stack.drain()
    return placed


# --- missed orders ---------------------------------------------------------------------------


def test_missed_orders_pass_finds_and_completes_ten_undelivered_orders(stack: Stack) -> None:
    delivered = place_and_deliver(stack, 2)
    missed = [stack.place_order([LineSpec(SKUS[n % len(SKUS)])]) for n in range(10)]
    unpaid = stack.shop.create_order([LineSpec(SKUS[0])], financial_status="PENDING")
    cancelled = stack.place_order([LineSpec(SKUS[1])])
    stack.shop.cancel_order(cancelled["id"])

    report = missed_orders(stack.container)
    assert (report.found, report.enqueued) == (10, 10)
    stack.drain()
    again = missed_orders(stack.container)  # the checkpoint and the rows make it a no-op
    assert (again.found, again.enqueued) == (0, 0)

    with stack.db.read() as session:
        known = set(session.scalars(select(Order.shopify_order_id)))
    expected = {str(o["id"]).rsplit("/", 1)[-1] for o in [*delivered, *missed]}
    assert known == expected
    assert str(unpaid["id"]).rsplit("/", 1)[-1] not in known
    assert item_stages(stack) == ["submitted"] * 12
    stack.advance_all("shipped")
    stack.drain()
    assert item_stages(stack) == ["shipped"] * 12
    for order in missed:
        assert len(stack.shop.fulfillments_of(order["id"])) == 1  # type: ignore[arg-type]
    for _supplier, _remote, reference in stack.supplier_orders():
        assert stack.suppliers[_supplier].created_count(reference) == 1


def test_missed_orders_dry_run_enqueues_nothing(stack: Stack) -> None:
    for n in range(3):
        stack.place_order([LineSpec(SKUS[n])])
    report = missed_orders(stack.container, dry_run=True)
    assert (report.found, report.enqueued) == (3, 0)
    assert len(report.notes) == 3
    stack.drain()
    assert count(stack, Order) == 0


# --- silent suppliers ------------------------------------------------------------------------


def quiet_for_days(stack: Stack, days: int) -> None:
    past = utcnow() - timedelta(days=days)
    with stack.db.write() as session:
        session.execute(update(SupplierOrder).values(submitted_at=past, last_heard_at=past))


def test_silent_supplier_pass_completes_items_whose_callbacks_were_dropped(
    stack: Stack,
) -> None:
    orders = place_and_deliver(stack, 5)
    assert item_stages(stack) == ["submitted"] * 5
    for sandbox in stack.suppliers.values():
        sandbox.callback_url = None  # every callback from now on is lost
    assert stack.advance_all("shipped") == 5
    stack.drain()
    assert item_stages(stack) == ["submitted"] * 5  # we heard nothing

    assert silent_suppliers(stack.container).found == 0  # not silent for long enough yet
    quiet_for_days(stack, 3)
    report = silent_suppliers(stack.container)
    assert (report.found, report.enqueued) == (5, 5)
    assert silent_suppliers(stack.container).enqueued == 0  # same slot: no second poll
    stack.drain()

    assert item_stages(stack) == ["shipped"] * 5
    with stack.db.read() as session:
        shipments = session.scalars(select(Shipment)).all()
        assert len(shipments) == 5
        assert all(s.sync_status == "synced" and s.tracking_number for s in shipments)
    for order in orders:
        assert len(stack.shop.fulfillments_of(order["id"])) == 1  # type: ignore[arg-type]
    assert silent_suppliers(stack.container).found == 0  # heard from them just now


# --- stuck items -----------------------------------------------------------------------------


def test_stuck_items_raise_one_alert_each_once(stack: Stack) -> None:
    place_and_deliver(stack, 4)
    with stack.db.write() as session:
        session.execute(update(LineItem).values(stage_changed_at=utcnow() - timedelta(days=30)))
    first = alert_stuck_items(stack.container)
    assert first.found == 4
    second = alert_stuck_items(stack.container)
    assert second.found == 0
    stack.drain()
    with stack.db.read() as session:
        alerts = session.scalars(select(Alert)).all()
        item_ids = set(session.scalars(select(LineItem.id)))
    assert len(alerts) == 4
    assert {a.line_item_id for a in alerts} == item_ids
    assert all(a.kind == "stuck_item" and "submitted" in a.message for a in alerts)


def test_an_item_on_time_raises_no_alert(stack: Stack) -> None:
    place_and_deliver(stack, 2)
    assert alert_stuck_items(stack.container).found == 0
    assert count(stack, Alert) == 0


def test_a_stuck_item_that_moves_on_and_sticks_again_alerts_again(stack: Stack) -> None:
    place_and_deliver(stack, 1)
    long_ago = utcnow() - timedelta(days=30)
    with stack.db.write() as session:
        session.execute(update(LineItem).values(stage_changed_at=long_ago))
    assert alert_stuck_items(stack.container).found == 1
    stack.advance_all("in_production")
    stack.drain()
    with stack.db.write() as session:
        session.execute(update(LineItem).values(stage_changed_at=long_ago))
    assert alert_stuck_items(stack.container).found == 1
    assert alert_stuck_items(stack.container).found == 0
    with stack.db.read() as session:
        subjects = sorted(session.scalars(select(Alert.subject)))
    assert [s.rsplit(":", 1)[-1] for s in subjects] == ["in_production", "submitted"]


def test_a_late_webhook_for_a_reconciled_order_doubles_nothing(stack: Stack) -> None:
    order = stack.place_order([LineSpec(SKUS[0]), LineSpec(SKUS[1])])
    assert missed_orders(stack.container).found == 1
    stack.drain()
    assert stack.send_webhook("orders/paid", order).statuses == [200]  # Shopify, late
    stack.drain()
    assert item_stages(stack) == ["submitted", "submitted"]
    assert count(stack, SupplierOrder) == 2
    for supplier, _remote, reference in stack.supplier_orders():
        assert stack.suppliers[supplier].created_count(reference) == 1


def test_missed_orders_pages_through_more_than_one_page_and_keeps_a_checkpoint(
    stack: Stack,
) -> None:
    from integrator.db.models import Job, Shop

    for n in range(55):  # Shopify pages 50 orders at a time
        stack.place_order([LineSpec(SKUS[n % len(SKUS)])])
    assert missed_orders(stack.container).found == 55
    missed_orders(stack.container)  # before the ingests ran: the same jobs, not new ones
    with stack.db.read() as session:
        ingests = session.scalar(
            select(func.count()).select_from(Job).where(Job.kind == "order.ingest")
        )
        checkpoint = session.scalar(
            select(Shop.orders_checkpoint).where(Shop.domain == stack.options.shop)
        )
    assert ingests == 55
    assert checkpoint is not None
    assert utcnow() - checkpoint < timedelta(minutes=5)


def test_a_rerun_before_the_ingests_ran_reports_nothing_enqueued(stack: Stack) -> None:
    for n in range(3):
        stack.place_order([LineSpec(SKUS[n])])
    assert missed_orders(stack.container).enqueued == 3
    assert missed_orders(stack.container).enqueued == 0  # the jobs are already queued
