"""Late supplier events against finished items, through the whole pipeline: a shipped item is
never failed (it would become re-routable and be printed twice), a cancelled one never revives."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from integrator.db.models import ItemEvent
from integrator.pipeline.operator import OperatorError, reroute_item
from integrator.sandbox.stack import Stack

from .conftest import items_of, jobs_of, notify, paid_order, remote_id_of, supplier_orders_of

TEE = "TEE-BLK-M-DTG"


def timeline(stack: Stack, line_item_id: int) -> list[str]:
    with stack.db.read() as session:
        rows = session.scalars(
            select(ItemEvent.stage)
            .where(ItemEvent.line_item_id == line_item_id)
            .order_by(ItemEvent.id)
        )
        return list(rows)


@pytest.mark.parametrize("late", ["failed", "on_hold", "cancelled"])
def test_a_late_failure_hold_or_cancellation_leaves_a_shipped_item_shipped(
    stack: Stack, late: str
) -> None:
    paid_order(stack, [TEE])
    sandbox = stack.suppliers["printful"]
    remote = remote_id_of(stack, "printful")
    sandbox.advance(remote, "shipped")
    stack.drain()
    (shipped,) = items_of(stack)
    assert (shipped.stage, shipped.reached_stage) == ("shipped", "shipped")
    before = timeline(stack, shipped.id)

    (payload,) = sandbox.advance(remote, late)
    stack.drain()

    assert payload["type"] in ("order_failed", "order_put_hold", "order_canceled")
    (item,) = items_of(stack)
    assert (item.stage, item.reached_stage, item.supplier) == ("shipped", "shipped", "printful")
    assert timeline(stack, item.id) == before
    with pytest.raises(OperatorError, match="only held or failed items"):
        reroute_item(stack.container, item.id, "printify")
    assert [(so.supplier, so.status) for so in supplier_orders_of(stack)] == [
        ("printful", "shipped")
    ]
    assert len(jobs_of(stack, "supplier.submit")) == 1
    assert not stack.suppliers["printify"].orders


@pytest.mark.parametrize("late", ["in_production", "on_hold", "failed", "shipped"])
def test_a_cancelled_item_does_not_revive_on_a_late_supplier_event(stack: Stack, late: str) -> None:
    order = paid_order(stack, [TEE])
    remote = remote_id_of(stack, "printful")
    stack.shop.cancel_order(order["id"])
    notify(stack, "orders/cancelled", order)
    stack.drain()
    (cancelled,) = items_of(stack)
    assert cancelled.stage == "cancelled"
    before = timeline(stack, cancelled.id)
    assert before[-1] == "cancelled"

    stack.suppliers["printful"].advance(remote, late)
    stack.drain()

    (item,) = items_of(stack)
    assert (item.stage, item.reached_stage) == ("cancelled", cancelled.reached_stage)
    assert timeline(stack, item.id) == before
