"""Operator actions (release, retry, re-route: CLI and console call the same functions) never
make an item a second time while its first supplier order is still live at the supplier;
the sandboxes count the orders they were asked to create."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update

from integrator.db.models import ItemEvent, LineItem, SupplierOrder
from integrator.pipeline.operator import (
    OperatorError,
    release_item,
    reroute_item,
    retry_item,
)
from integrator.pipeline.submission import load_submission, mark_failed
from integrator.sandbox.stack import Stack

from .conftest import items_of, paid_order, remote_id_of, supplier_orders_of

CANVAS = "CANVAS-30X40"  # Gelato (wall art to Germany), fallback Prodigi
TEE = "TEE-BLK-M-DTG"  # Printful, fallback Printify


def orders_at(stack: Stack, supplier: str) -> int:
    return len(stack.suppliers[supplier].orders)


def test_release_of_an_item_the_supplier_holds_is_refused(stack: Stack) -> None:
    paid_order(stack, [CANVAS])
    remote = remote_id_of(stack, "gelato")
    stack.suppliers["gelato"].advance(remote, "on_hold")
    stack.drain()
    (item,) = items_of(stack)
    assert item.stage == "on_hold"

    with pytest.raises(OperatorError) as refused:
        release_item(stack.container, item.id)
    stack.drain()

    assert str(refused.value) == (
        f"gelato order {remote} still has this item (on_hold there): releasing it would make "
        "it a second time; resolve it at the supplier (or cancel that order there) first"
    )
    assert orders_at(stack, "gelato") == 1 and orders_at(stack, "prodigi") == 0
    assert [(so.supplier, so.status) for so in supplier_orders_of(stack)] == [("gelato", "held")]
    assert items_of(stack)[0].stage == "on_hold"


def test_reroute_of_an_item_the_supplier_holds_is_refused(stack: Stack) -> None:
    paid_order(stack, [CANVAS])
    remote = remote_id_of(stack, "gelato")
    stack.suppliers["gelato"].advance(remote, "on_hold")
    stack.drain()
    (item,) = items_of(stack)

    with pytest.raises(OperatorError, match=f"gelato order {remote} still has this item"):
        reroute_item(stack.container, item.id, "prodigi")
    stack.drain()

    assert orders_at(stack, "gelato") == 1 and orders_at(stack, "prodigi") == 0


def test_retry_of_an_item_the_supplier_failed_makes_a_new_order_and_submits_it(
    stack: Stack,
) -> None:
    paid_order(stack, [CANVAS])
    first = remote_id_of(stack, "gelato")
    stack.suppliers["gelato"].advance(first, "failed")
    stack.drain()
    (item,) = items_of(stack)
    assert item.stage == "failed"

    assert retry_item(stack.container, item.id) == "routed"
    stack.drain()

    assert orders_at(stack, "gelato") == 2  # the first is dead at Gelato: this is no double
    (item,) = items_of(stack)
    assert item.stage == "submitted"
    rows = supplier_orders_of(stack)
    assert [(so.status, so.supplier_order_id == first) for so in rows] == [
        ("failed", True),
        ("submitted", False),
    ]
    assert item.supplier_order_id == rows[1].id


def test_retry_of_a_failed_item_whose_order_the_supplier_took_up_again_is_refused(
    stack: Stack,
) -> None:
    """Gelato said failed, then resumed the order (the operator fixed the print file there):
    a retry would make the canvas twice, so it asks Gelato first and refuses."""
    paid_order(stack, [CANVAS])
    remote = remote_id_of(stack, "gelato")
    sandbox = stack.suppliers["gelato"]
    sandbox.advance(remote, "failed")
    stack.drain()
    (item,) = items_of(stack)
    assert item.stage == "failed"
    sandbox.set_status(sandbox.orders[remote], "printed")  # no callback: only a poll shows it

    with pytest.raises(OperatorError) as refused:
        retry_item(stack.container, item.id)
    stack.drain()

    assert str(refused.value) == (
        f"gelato order {remote} still has this item (in_production there): retrying it would "
        "make it a second time; resolve it at the supplier (or cancel that order there) first"
    )
    assert orders_at(stack, "gelato") == 1
    assert [(so.supplier_order_id, so.status) for so in supplier_orders_of(stack)] == [
        (remote, "failed")
    ]
    assert items_of(stack)[0].stage == "failed"


def lose_the_answer(stack: Stack, supplier: str) -> str:
    """The supplier made the order but we never heard back: every attempt timed out until the
    job gave up (``submission.mark_failed``). Undo what recording the answer did."""
    remote = remote_id_of(stack, supplier)
    reason = f"{supplier}: timeout (gave up after 8 attempts)"
    with stack.db.write() as session:
        session.execute(
            update(SupplierOrder).values(
                supplier_order_id=None,
                status="failed",
                submitted_at=None,
                last_error=reason,
                maybe_created=True,
            )
        )
        session.execute(delete(ItemEvent).where(ItemEvent.dedupe_key.like("submitted%")))
        session.execute(
            update(LineItem).values(stage="failed", reached_stage="routed", reason=reason)
        )
    return remote


@pytest.mark.parametrize("supplier", ["gelato", "printify"])
def test_retry_after_an_unanswered_create_finds_the_order_it_made(
    stack: Stack, supplier: str
) -> None:
    if supplier == "printify":
        stack.suppliers["printful"].unavailable = {"4017"}
    paid_order(stack, [TEE if supplier == "printify" else CANVAS])
    made = lose_the_answer(stack, supplier)
    (item,) = items_of(stack)

    assert retry_item(stack.container, item.id) == "routed"
    stack.drain()

    assert orders_at(stack, supplier) == 1
    (row,) = [so for so in supplier_orders_of(stack) if so.supplier == supplier]
    assert (row.status, row.supplier_order_id) == ("submitted", made)
    (item,) = items_of(stack)
    assert (item.stage, item.supplier_order_id) == ("submitted", row.id)


def test_release_after_an_unanswered_printify_create_is_refused(stack: Stack) -> None:
    stack.suppliers["printful"].unavailable = {"4017"}
    paid_order(stack, [TEE])
    lose_the_answer(stack, "printify")
    (item,) = items_of(stack)

    with pytest.raises(OperatorError) as refused:
        release_item(stack.container, item.id)

    (row,) = [so for so in supplier_orders_of(stack) if so.supplier == "printify"]
    assert str(refused.value).startswith(
        f"printify may have made order {row.external_ref} (a create failed without an answer) "
        "and cannot be asked by our reference: releasing it would make it a second time"
    )
    assert orders_at(stack, "printify") == 1


def test_release_after_an_unanswered_gelato_create_asks_gelato_and_refuses(
    stack: Stack,
) -> None:
    paid_order(stack, [CANVAS])
    made = lose_the_answer(stack, "gelato")
    (item,) = items_of(stack)

    with pytest.raises(OperatorError) as refused:
        release_item(stack.container, item.id)
    stack.drain()

    (row,) = supplier_orders_of(stack)
    assert str(refused.value).startswith(
        f"gelato order {row.external_ref} still has this item (submitted there)"
    )
    assert orders_at(stack, "gelato") == 1 and orders_at(stack, "prodigi") == 0
    assert made in stack.suppliers["gelato"].orders


def test_release_of_an_item_held_before_sending_goes_ahead(stack: Stack) -> None:
    """Nothing reached the supplier (the address lacked the email Gelato requires): releasing
    asks nobody and sends the order, now that the operator fixed what was missing."""
    order = paid_order(stack, [CANVAS], email="")
    (item,) = items_of(stack)
    assert item.stage == "on_hold"
    with stack.db.write() as session:
        row = session.get(LineItem, item.id)
        assert row is not None
        row.order.email = "buyer@example.com"

    assert release_item(stack.container, item.id) == "routed"
    stack.drain()

    assert orders_at(stack, "gelato") == 1
    assert items_of(stack, order)[0].stage == "submitted"


def test_giving_up_after_an_unanswered_create_still_says_the_order_may_exist(
    stack: Stack,
) -> None:
    """A create timed out (the supplier may have made the order), later attempts failed too and
    the job gave up: the failed row keeps saying the order may exist, which is what makes an
    operator retry look it up instead of sending the item to a second supplier."""
    paid_order(stack, [TEE])
    (row,) = supplier_orders_of(stack)
    with stack.db.write() as session:
        session.execute(
            update(SupplierOrder).values(
                status="pending",
                supplier_order_id=None,
                last_error="printful: timeout",
                maybe_created=True,
            )
        )
        session.execute(update(LineItem).values(stage="routed"))
    submission = load_submission(stack.container, row.id)
    assert submission is not None and submission.tried

    mark_failed(stack.container, submission, "printful: 503 (gave up after 8 attempts)")

    (row,) = supplier_orders_of(stack)
    assert (row.status, row.last_error, row.maybe_created) == (
        "failed",
        "printful: 503 (gave up after 8 attempts)",
        True,
    )
    assert [item.stage for item in items_of(stack)] == ["failed"]
