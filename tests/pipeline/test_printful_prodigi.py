"""Printful and Prodigi as their published APIs behave, through the whole pipeline: holds
released, drafts back from cost calculation confirmed, returns, v2 shipments without items,
Prodigi's order-level Complete."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select, update

from integrator.db.models import ItemEvent, Job
from integrator.db.timestamps import utcnow
from integrator.pipeline.callbacks import COMPLETION_PATIENCE
from integrator.sandbox.shopify import AddressSpec
from integrator.sandbox.stack import Stack
from integrator.sandbox.suppliers.printful import PrintfulSandbox
from integrator.sandbox.suppliers.prodigi import ProdigiSandbox

from .conftest import (
    items_of,
    jobs_of,
    order_row,
    paid_order,
    remote_id_of,
    shipments_of,
    supplier_orders_of,
)

TEE, TEE_WHITE, MUG, CANVAS = "TEE-BLK-M-DTG", "TEE-WHT-L-DTG", "MUG-11OZ-WHT", "CANVAS-30X40"
US = AddressSpec(
    city="Austin", zip="78701", country="United States", country_code="US", province_code="TX"
)


def printful(stack: Stack) -> PrintfulSandbox:
    sandbox = stack.suppliers["printful"]
    assert isinstance(sandbox, PrintfulSandbox)
    return sandbox


def line_ids(order: dict[str, Any]) -> list[str]:
    return [str(line["id"]).rsplit("/", 1)[-1] for line in order["lineItems"]]


def timeline(stack: Stack, line_item_id: int) -> list[tuple[str, str | None, str | None]]:
    with stack.db.read() as session:
        rows = session.scalars(
            select(ItemEvent).where(ItemEvent.line_item_id == line_item_id).order_by(ItemEvent.id)
        )
        return [(e.previous_stage, e.stage, e.detail) for e in rows]


# --- Printful holds ---------------------------------------------------------------------------


def test_order_put_hold_keeps_its_reason_and_order_remove_hold_releases_it(stack: Stack) -> None:
    paid_order(stack, [TEE])
    remote = remote_id_of(stack, "printful")
    printful(stack).advance(remote, "on_hold")
    stack.drain()
    (held,) = items_of(stack)
    assert (held.stage, held.reached_stage, held.reason) == (
        "on_hold", "submitted", "Print file needs review")

    printful(stack).remove_hold(remote, "Print file replaced")
    stack.drain()

    (item,) = items_of(stack)
    assert (item.stage, item.reached_stage, item.reason) == (
        "submitted", "submitted", "Print file replaced")
    assert timeline(stack, item.id)[-2:] == [
        ("submitted", "on_hold", "Print file needs review"),
        ("on_hold", "submitted", "Print file replaced"),
    ]
    (supplier_order,) = supplier_orders_of(stack)
    assert supplier_order.status == "submitted"


def test_a_hold_released_while_in_production_returns_to_production(stack: Stack) -> None:
    paid_order(stack, [TEE])
    remote = remote_id_of(stack, "printful")
    printful(stack).advance(remote, "in_production")
    printful(stack).advance(remote, "on_hold")
    printful(stack).remove_hold(remote, "resolved", status="inprocess")
    stack.drain()

    (item,) = items_of(stack)
    assert (item.stage, item.reached_stage) == ("in_production", "in_production")


def test_a_draft_back_from_cost_calculation_is_confirmed(stack: Stack) -> None:
    printful(stack).async_cost_variants = {"4017"}
    paid_order(stack, [TEE])
    remote = remote_id_of(stack, "printful")
    assert printful(stack).orders[remote]["status"] == "onhold"
    assert [i.stage for i in items_of(stack)] == ["on_hold"]

    printful(stack).finish_cost_calculation(remote)
    stack.drain()

    # "Such an order will return to a draft status (even if it was created with the
    # auto-confirm option) and will need to be confirmed" (Printful v1, Orders API)
    assert printful(stack).orders[remote]["status"] == "pending"
    (item,) = items_of(stack)
    assert (item.stage, item.reached_stage) == ("submitted", "submitted")
    (supplier_order,) = supplier_orders_of(stack)
    assert (supplier_order.status, supplier_order.raw_status) == ("submitted", "pending")


def test_a_draft_of_someone_elses_order_is_never_confirmed(stack: Stack) -> None:
    paid_order(stack, [TEE])
    sandbox = printful(stack)
    # an order another app of the same store made: same webhooks, not ours
    foreign = copy.deepcopy(sandbox.orders[remote_id_of(stack, "printful")])
    foreign.update(id=777, external_id="someone-else", status="onhold")
    sandbox.orders["777"] = foreign
    sandbox.finish_cost_calculation("777")
    stack.drain()

    assert sandbox.orders["777"]["status"] == "draft"


# --- Printful returns and v2 shipments -------------------------------------------------------


def test_package_returned_keeps_its_reason_and_updates_the_supplier_order(stack: Stack) -> None:
    paid_order(stack, [TEE])
    remote = remote_id_of(stack, "printful")
    printful(stack).advance(remote, "shipped")
    stack.drain()

    printful(stack).return_package(remote, "Address was not deliverable")
    stack.drain()

    (item,) = items_of(stack)
    assert item.stage == "returned"
    assert timeline(stack, item.id)[-1] == ("shipped", "returned", "Address was not deliverable")
    (supplier_order,) = supplier_orders_of(stack)
    assert (supplier_order.status, supplier_order.raw_status) == ("returned", "package_returned")


def test_v2_shipment_sent_moves_only_the_items_of_its_shipment(stack: Stack) -> None:
    order = paid_order(stack, [TEE, TEE_WHITE])
    first, second = line_ids(order)
    sandbox = printful(stack)
    sandbox.webhook_secret = "v2-secret-key"  # v2 envelopes: shipment_sent names no items
    remote = remote_id_of(stack, "printful")

    (payload,) = sandbox.advance(remote, "shipped", items=[second])
    stack.drain()

    assert payload["type"] == "shipment_sent" and "items" not in payload["data"]["shipment"]
    stages = {i.shopify_line_item_id: i.stage for i in items_of(stack)}
    assert stages == {first: "submitted", second: "shipped"}
    (shipment,) = shipments_of(stack)
    assert shipment.items == [{"line_item_id": second, "quantity": 1}]
    # carrier comes from GET /v2/orders/{id}/shipments (the webhook has none)
    assert (shipment.carrier, shipment.tracking_number) == (
        "USPS", payload["data"]["shipment"]["tracking_number"])


def test_a_v2_shipment_whose_items_cannot_be_read_moves_no_line(stack: Stack) -> None:
    order = paid_order(stack, [TEE, TEE_WHITE])
    sandbox = printful(stack)
    sandbox.webhook_secret = "v2-secret-key"
    remote = remote_id_of(stack, "printful")
    for item in sandbox.orders[remote]["items"]:
        item["external_id"] = None  # Printful cannot name our items

    sandbox.advance(remote, "shipped", items=None)
    stack.drain()

    assert {i.stage for i in items_of(stack)} == {"submitted"}
    assert shipments_of(stack) == []
    assert "does not say which items" in (order_row(stack, order).attention or "")


def callback_jobs_run_until_settled(stack: Stack) -> list[Job]:
    """Run the callback jobs' retries at once instead of after their backoff."""
    for _ in range(COMPLETION_PATIENCE + 2):
        with stack.db.write() as session:
            session.execute(
                update(Job)
                .where(Job.kind == "supplier.callback", Job.status == "queued")
                .values(run_at=utcnow())
            )
        stack.drain()
        if all(job.status != "queued" for job in jobs_of(stack, "supplier.callback")):
            break
    return jobs_of(stack, "supplier.callback")


def test_a_v2_shipment_listed_late_is_read_on_a_retry_of_its_callback(stack: Stack) -> None:
    order = paid_order(stack, [TEE, TEE_WHITE])
    first, second = line_ids(order)
    sandbox = printful(stack)
    sandbox.webhook_secret = "v2-secret-key"
    sandbox.list_new_shipments = False  # the webhook comes before the shipment is listed
    remote = remote_id_of(stack, "printful")

    sandbox.advance(remote, "shipped", items=[second])
    stack.drain()
    (job,) = jobs_of(stack, "supplier.callback")
    assert (job.status, job.attempts) == ("queued", 1)
    assert "not yet listed" in (job.last_error or "")

    sandbox.unlisted_shipments.clear()  # Printful lists it now
    (job,) = callback_jobs_run_until_settled(stack)

    assert (job.status, job.attempts) == ("done", 2)
    stages = {i.shopify_line_item_id: i.stage for i in items_of(stack)}
    assert stages == {first: "submitted", second: "shipped"}
    (shipment,) = shipments_of(stack)
    assert shipment.items == [{"line_item_id": second, "quantity": 1}]
    assert order_row(stack, order).attention is None


def test_a_v2_shipment_never_listed_is_flagged_after_bounded_retries(stack: Stack) -> None:
    order = paid_order(stack, [TEE, TEE_WHITE])
    sandbox = printful(stack)
    sandbox.webhook_secret = "v2-secret-key"
    sandbox.list_new_shipments = False
    remote = remote_id_of(stack, "printful")

    (payload,) = sandbox.advance(remote, "shipped", items=None)
    stack.drain()
    (job,) = callback_jobs_run_until_settled(stack)

    # the job did not die: it stopped asking, applied what the webhook says, and flagged it
    assert (job.status, job.attempts) == ("done", COMPLETION_PATIENCE)
    assert {i.stage for i in items_of(stack)} == {"submitted"}
    assert shipments_of(stack) == []
    shipment_id = payload["data"]["shipment"]["id"]
    attention = order_row(stack, order).attention or ""
    assert attention.startswith("printful shipped could not be completed from printful (")
    assert f"shipment {shipment_id} not yet listed for order {remote}" in attention
    assert attention.endswith(f"(gave up retrying)): what it does not say moved nothing; "
                              f"check order {remote} there")


# --- Prodigi ----------------------------------------------------------------------------------


def prodigi(stack: Stack) -> ProdigiSandbox:
    sandbox = stack.suppliers["prodigi"]
    assert isinstance(sandbox, ProdigiSandbox)
    return sandbox


def test_prodigi_complete_moves_only_the_lines_its_shipments_cover(stack: Stack) -> None:
    order = paid_order(stack, [MUG, CANVAS], address=US)
    assert {i.supplier for i in items_of(stack)} == {"prodigi"}
    mug, canvas = line_ids(order)
    sandbox = prodigi(stack)
    remote = remote_id_of(stack, "prodigi")
    sandbox.advance(remote, "shipped", items=[mug])
    stack.drain()
    # an order-level Complete whose shipments name only the mug
    complete = sandbox.cloud_event(sandbox.orders[remote])
    complete["data"]["order"]["status"]["stage"] = "Complete"
    complete["type"] = "com.prodigi.order.status.stage.changed#Complete"
    sandbox.post_callback(complete)
    stack.drain()

    stages = {i.shopify_line_item_id: i.stage for i in items_of(stack)}
    # the partial shipment put the order "in production"; Complete did not ship the canvas
    assert stages == {mug: "shipped", canvas: "in_production"}
    (shipment,) = shipments_of(stack)
    assert shipment.items == [{"line_item_id": mug, "quantity": 1}]
