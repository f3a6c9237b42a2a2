"""Reconciliation covers the orders we already hold: cancellations, edits, fulfillment-order
holds and moves, fulfillments made by someone else, all with their webhook lost; one
financial-status rule with the trigger topic; deleted webhook subscriptions; a tracking sync
Shopify is never ready for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from integrator.db.models import Alert, LineItem, Order, Shipment, Shop, SupplierOrder
from integrator.db.timestamps import utcnow
from integrator.pipeline.reconcile import missed_orders, webhook_subscriptions
from integrator.sandbox.shopify import FulfillmentOrderSpec, LineSpec
from integrator.sandbox.stack import Stack, StackOptions
from integrator.shopify.setup import ensure_webhook_subscriptions
from integrator.shopify.topics import MERCHANT_MANAGED_TOPICS

TEE, MUG = "TEE-BLK-M-DTG", "MUG-11OZ-WHT"
CALLBACK = "https://integrator.example.com/webhooks/shopify"


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    options = StackOptions(
        database_url=database_url, migrate=False, bucket_size=1e6, restore_rate=1e6
    )
    running = Stack(options)
    yield running
    running.close()


def paid(stack: Stack, lines: list[LineSpec], **kwargs: Any) -> dict[str, Any]:
    order = stack.shop.create_order(lines, **kwargs)
    assert stack.send_webhook("orders/paid", order).statuses == [200]
    stack.drain()
    return order


def stages(stack: Stack) -> list[tuple[str | None, str]]:
    with stack.db.read() as session:
        rows = session.scalars(select(LineItem).order_by(LineItem.id)).all()
        return [(row.sku, row.stage) for row in rows]


def supplier_statuses(stack: Stack) -> list[tuple[str, str]]:
    with stack.db.read() as session:
        rows = session.scalars(select(SupplierOrder).order_by(SupplierOrder.id)).all()
        return [(row.supplier, row.status) for row in rows]


def reconcile(stack: Stack) -> tuple[int, int, list[str]]:
    report = missed_orders(stack.container)
    stack.drain()
    return report.found, report.enqueued, report.notes


def attention(stack: Stack) -> str:
    with stack.db.read() as session:
        return session.scalars(select(Order.attention)).one() or ""


def test_a_cancellation_whose_webhook_was_lost_is_found(stack: Stack) -> None:
    order = paid(stack, [LineSpec(TEE)])
    ((_, remote, _ref),) = stack.supplier_orders()
    stack.shop.cancel_order(order["id"])  # orders/cancelled never arrives

    found, enqueued, notes = reconcile(stack)

    assert (found, enqueued) == (1, 1)
    assert notes == [f"{stack.options.shop} {order['name']}: cancelled in Shopify, missed here"]
    assert stages(stack) == [(TEE, "cancelled")]
    assert stack.suppliers["printful"].orders[remote]["status"] == "canceled"
    assert reconcile(stack)[:2] == (0, 0)


def test_an_edit_whose_webhook_was_lost_is_found(stack: Stack) -> None:
    order = paid(stack, [LineSpec(TEE)])
    stack.shop.edit_order(order["id"], add=[LineSpec(MUG)])

    found, enqueued, _notes = reconcile(stack)

    assert (found, enqueued) == (1, 1)
    assert stages(stack) == [(TEE, "submitted"), (MUG, "submitted")]
    assert supplier_statuses(stack) == [("printful", "submitted"), ("prodigi", "submitted")]


def test_a_hold_released_without_its_webhook_is_found(stack: Stack) -> None:
    order = paid(stack, [LineSpec(TEE)], fulfillment_orders=[FulfillmentOrderSpec(status="ON_HOLD")])
    assert stages(stack) == [(TEE, "received")]
    stack.shop.release_hold(order["fulfillmentOrders"][0]["id"])

    reconcile(stack)

    assert stages(stack) == [(TEE, "submitted")]


def test_a_move_away_without_its_webhook_cancels_at_the_supplier(stack: Stack) -> None:
    stack.configure_shopify(locations=("Shop location",))
    order = paid(stack, [LineSpec(TEE)])
    stack.shop.move_fulfillment_order(
        order["fulfillmentOrders"][0]["id"], location_name="Main warehouse"
    )

    reconcile(stack)

    assert stages(stack) == [(TEE, "cancelled")]
    assert supplier_statuses(stack) == [("printful", "cancelled")]


def test_a_fulfillment_made_by_someone_else_is_flagged_not_cancelled(stack: Stack) -> None:
    order = paid(stack, [LineSpec(TEE)])
    stack.shop.fulfil(order["fulfillmentOrders"][0]["id"], tracking={"number": "BY-HAND-1"})

    reconcile(stack)

    assert stages(stack) == [(TEE, "submitted")]
    assert supplier_statuses(stack) == [("printful", "submitted")]
    assert "fulfilled in Shopify outside the integrator" in attention(stack)
    assert reconcile(stack)[:2] == (0, 0)


def test_our_own_fulfillments_are_not_taken_for_changes(stack: Stack) -> None:
    paid(stack, [LineSpec(TEE), LineSpec(MUG)])
    reconcile(stack)  # the checkpoint moves past the orders' creation
    stack.advance_all("shipped")
    stack.drain()
    with stack.db.read() as session:
        assert [s.sync_status for s in session.scalars(select(Shipment))] == ["synced", "synced"]

    assert reconcile(stack)[:2] == (0, 0)


@pytest.mark.parametrize("status", ["AUTHORIZED", "PARTIALLY_PAID", "PENDING"])
def test_reconciliation_starts_production_only_when_the_trigger_would(
    stack: Stack, status: str
) -> None:
    # orders/paid fires once an order is paid: an authorised order waits for it, here too
    stack.shop.create_order([LineSpec(TEE)], financial_status=status)
    paid_but_missed = stack.shop.create_order([LineSpec(MUG)])

    found, enqueued, _ = reconcile(stack)

    assert (found, enqueued) == (1, 1)
    with stack.db.read() as session:
        known = session.scalars(select(Order.shopify_order_id)).all()
    assert known == [str(paid_but_missed["legacyResourceId"])]


def test_deleted_webhook_subscriptions_are_recreated(stack: Stack) -> None:
    shop = stack.options.shop
    ensure_webhook_subscriptions(stack.container.shopify, shop, CALLBACK, MERCHANT_MANAGED_TOPICS)
    with stack.db.write() as session:  # what `integrator shopify setup` remembers
        row = session.scalar(select(Shop).where(Shop.domain == shop))
        assert row is not None  # made when the client-credentials token was stored
        row.webhook_callback_url = CALLBACK
    assert stack.shop.delete_webhook_subscriptions("ORDERS_PAID") == 1
    assert stack.shop.delete_webhook_subscriptions("FULFILLMENT_ORDERS_HOLD_RELEASED") == 1

    report = webhook_subscriptions(stack.container)

    assert (report.found, report.enqueued) == (2, 2)
    assert report.notes == [
        f"{shop}: orders/paid was not subscribed",
        f"{shop}: fulfillment_orders/hold_released was not subscribed",
    ]
    subscribed = {(s["topic"], s["uri"]) for s in stack.shop.all_of("WebhookSubscription")}
    assert ("ORDERS_PAID", CALLBACK) in subscribed
    assert len(subscribed) == len(MERCHANT_MANAGED_TOPICS)
    again = webhook_subscriptions(stack.container)
    assert (again.found, again.enqueued) == (0, 0)


def test_a_shipment_shopify_is_never_ready_for_becomes_an_alert(stack: Stack) -> None:
    order = paid(stack, [LineSpec(TEE)])
    stack.shop.hold_fulfillment_order(order["fulfillmentOrders"][0]["id"], "OTHER")
    stack.advance_all("shipped")
    stack.drain()
    with stack.db.read() as session:
        (shipment,) = session.scalars(select(Shipment)).all()
        assert (shipment.sync_status, shipment.not_ready_since is not None) == ("waiting", True)
        assert session.scalars(select(Alert)).all() == []
    with stack.db.write() as session:  # seven hours later (reconcile.not_ready_after: 6 hours)
        session.execute(
            update(Shipment).values(not_ready_since=utcnow() - timedelta(hours=7))
        )
        from integrator.db.models import Job

        session.execute(
            update(Job)
            .where(Job.kind == "shopify.sync_shipment")
            .values(status="queued", run_at=utcnow(), attempts=0)
        )
    stack.drain()

    with stack.db.read() as session:
        (shipment,) = session.scalars(select(Shipment)).all()
        assert shipment.sync_status == "flagged"
        assert "Shopify not ready for 7.0 hours" in (shipment.sync_detail or "")
        (alert,) = session.scalars(select(Alert)).all()
        assert alert.kind == "tracking_not_ready" and alert.line_item_id is not None
    assert "not ready" in attention(stack)
    assert stack.shop.fulfillments_of(order["id"]) == []
