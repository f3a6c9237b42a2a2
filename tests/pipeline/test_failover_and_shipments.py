"""Runtime failover on a supplier's rejection; callbacks that never move items back; shipments
that become exactly one Shopify fulfillment each, for exactly their items."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from integrator.db.models import ItemEvent
from integrator.sandbox.shopify import AddressSpec
from integrator.sandbox.stack import Stack

from .conftest import (
    items_of,
    jobs_of,
    paid_order,
    remote_id_of,
    run_again,
    shipments_of,
    stack_in_each_mode,
    supplier_orders_of,
)

# failover and partial shipments pass in both fulfillment modes (docs/adr/0002)
stack = stack_in_each_mode

TEE, TEE_WHITE, HAT, MUG = "TEE-BLK-M-DTG", "TEE-WHT-L-DTG", "HAT-NAVY-EMB", "MUG-11OZ-WHT"


def events_of(stack: Stack, line_item_id: int) -> list[tuple[str, str | None, str | None]]:
    with stack.db.read() as session:
        rows = session.scalars(
            select(ItemEvent).where(ItemEvent.line_item_id == line_item_id).order_by(ItemEvent.id)
        )
        return [(e.stage, e.supplier, e.detail) for e in rows]


def line_ids(order: dict[str, Any]) -> list[str]:
    return [str(line["id"]).rsplit("/", 1)[-1] for line in order["lineItems"]]


def fulfilled(stack: Stack, order: dict[str, Any]) -> list[dict[str, int]]:
    """Each Shopify fulfillment of the order as {line item id: quantity}."""
    return [
        {
            str(fli["lineItem"]["id"]).rsplit("/", 1)[-1]: fli["quantity"]
            for fli in fulfillment["fulfillmentLineItems"]
        }
        for fulfillment in stack.shop.fulfillments_of(order["id"])
    ]


def tracking_numbers(stack: Stack, order: dict[str, Any]) -> list[str]:
    return [
        info["number"]
        for fulfillment in stack.shop.fulfillments_of(order["id"])
        for info in fulfillment["trackingInfo"]
    ]


# --- runtime failover ------------------------------------------------------------------------


def test_out_of_stock_moves_the_item_to_the_next_supplier(stack: Stack) -> None:
    stack.suppliers["printful"].unavailable = {"4017"}  # the black tee's Printful variant
    paid_order(stack, [TEE])
    run_again(stack, "supplier.submit")
    (item,) = items_of(stack)
    assert (item.supplier, item.stage) == ("printify", "submitted")
    assert not stack.suppliers["printful"].orders
    assert len(stack.suppliers["printify"].orders) == 1
    statuses = [(so.supplier, so.status) for so in supplier_orders_of(stack)]
    assert statuses == [("printful", "failed"), ("printify", "submitted")]
    history = events_of(stack, item.id)
    # the move is a stage event of its own, naming the new supplier and the rejection
    rerouted = [
        e
        for e in history
        if e[0] == "routed" and e[1] == "printify" and "out of stock" in (e[2] or "")
    ]
    assert len(rerouted) == 1, history
    assert [e[0] for e in history][-1] == "submitted"
    assert {job.status for job in jobs_of(stack, "supplier.submit")} == {"done"}


def test_out_of_stock_at_every_supplier_holds_the_item(stack: Stack) -> None:
    stack.suppliers["printful"].unavailable = {"4017"}
    stack.suppliers["printify"].unavailable = {"33719", "5d39b159e7c48c000728c89f"}
    paid_order(stack, [TEE])
    (item,) = items_of(stack)
    assert item.stage == "on_hold"
    assert item.reason
    assert not stack.suppliers["printful"].orders and not stack.suppliers["printify"].orders


def test_a_non_reroutable_rejection_fails_the_item_and_the_job_with_the_reason(
    stack: Stack,
) -> None:
    paid_order(stack, [TEE], address=AddressSpec(city=""))
    (item,) = items_of(stack)
    assert item.stage == "failed"
    assert item.supplier == "printful"
    (supplier_order,) = supplier_orders_of(stack)
    assert supplier_order.status == "failed"
    assert supplier_order.last_error and "city is required" in supplier_order.last_error
    assert any(
        e[0] == "failed" and e[2] and "city is required" in e[2] for e in events_of(stack, item.id)
    )
    (job,) = jobs_of(stack, "supplier.submit")
    assert job.status == "dead"
    assert job.last_error and "city is required" in job.last_error
    assert not stack.suppliers["printify"].orders  # no failover for a bad request


# --- callbacks never move an item back -------------------------------------------------------


def test_late_and_repeated_callbacks_never_move_an_item_back(stack: Stack) -> None:
    paid_order(stack, [TEE])
    sandbox = stack.suppliers["printful"]
    remote = remote_id_of(stack, "printful")
    early = sandbox.advance(remote, "in_production")
    stack.drain()
    sandbox.advance(remote, "shipped")
    stack.drain()
    assert [i.stage for i in items_of(stack)] == ["shipped"]
    # the production callback again, late and as a new delivery of the same event
    order_state = dict(early[0])
    order_state["data"] = {
        **early[0]["data"],
        "order": {**early[0]["data"]["order"], "status": "inprocess"},
    }
    sandbox.post_callback(order_state)
    sandbox.post_callback({**order_state, "created": int(order_state["created"]) + 5})
    stack.drain()
    run_again(stack, "supplier.callback")
    (item,) = items_of(stack)
    assert (item.stage, item.reached_stage) == ("shipped", "shipped")
    stages = [e[0] for e in events_of(stack, item.id)]
    assert stages.count("in_production") == 1
    assert stages.index("in_production") < stages.index("shipped")
    assert len(shipments_of(stack)) == 1


# --- shipments and fulfillments --------------------------------------------------------------


def test_two_shipments_of_one_supplier_order_give_two_fulfillments(stack: Stack) -> None:
    order = paid_order(stack, [TEE, TEE_WHITE])
    (supplier_order,) = supplier_orders_of(stack)
    first, second = line_ids(order)
    sandbox = stack.suppliers["printful"]
    remote = remote_id_of(stack, "printful")
    sandbox.advance(remote, "shipped", items=[first])
    stack.drain()
    sandbox.advance(remote, "shipped", items=[second])
    stack.drain()
    shipments = shipments_of(stack)
    assert len(shipments) == 2
    assert {s.supplier_order_id for s in shipments} == {supplier_order.id}
    assert len({s.tracking_number for s in shipments}) == 2
    assert [s.items for s in shipments] == [
        [{"line_item_id": first, "quantity": 1}],
        [{"line_item_id": second, "quantity": 1}],
    ]
    assert all(s.sync_status == "synced" and s.shopify_fulfillment_id for s in shipments)
    assert fulfilled(stack, order) == [{first: 1}, {second: 1}]
    assert tracking_numbers(stack, order) == [s.tracking_number for s in shipments]


def test_a_repeated_shipment_creates_no_second_fulfillment(stack: Stack) -> None:
    order = paid_order(stack, [TEE])
    sandbox = stack.suppliers["printful"]
    (payload,) = sandbox.advance(remote_id_of(stack, "printful"), "shipped")
    stack.drain()
    sandbox.post_callback(payload)  # the same callback again
    sandbox.post_callback({**payload, "created": int(payload["created"]) + 60})  # a new event
    stack.drain()
    run_again(stack, "supplier.callback", "shopify.sync_shipment")
    assert len(shipments_of(stack)) == 1
    assert len(stack.shop.fulfillments_of(order["id"])) == 1


def test_a_lost_sync_record_finds_the_existing_fulfillment(stack: Stack) -> None:
    from integrator.db.models import Shipment

    order = paid_order(stack, [TEE])
    stack.suppliers["printful"].advance(remote_id_of(stack, "printful"), "shipped")
    stack.drain()
    with stack.db.write() as session:  # as if the job crashed after Shopify answered
        for shipment in session.scalars(select(Shipment)):
            shipment.shopify_fulfillment_id = None
            shipment.sync_status = "pending"
    run_again(stack, "shopify.sync_shipment")
    assert len(stack.shop.fulfillments_of(order["id"])) == 1
    (shipment,) = shipments_of(stack)
    assert shipment.sync_status == "synced" and shipment.shopify_fulfillment_id


def test_a_partial_shipment_of_two_of_three_items_fulfils_exactly_those(stack: Stack) -> None:
    order = paid_order(stack, [(TEE, 2), TEE_WHITE, HAT])
    assert {so.supplier for so in supplier_orders_of(stack)} == {"printful"}
    first, second, third = line_ids(order)
    stack.suppliers["printful"].advance(
        remote_id_of(stack, "printful"), "shipped", items=[first, second]
    )
    stack.drain()
    assert fulfilled(stack, order) == [{first: 2, second: 1}]
    stages = {i.shopify_line_item_id: i.stage for i in items_of(stack)}
    assert stages == {first: "shipped", second: "shipped", third: "submitted"}
    remaining = {
        str(line["lineItem"]["id"]).rsplit("/", 1)[-1]: line["remainingQuantity"]
        for fo in stack.shop.order(order["id"])["fulfillmentOrders"]
        for line in fo["lineItems"]
    }
    assert remaining == {first: 0, second: 0, third: 1}


def test_shipments_from_two_suppliers_give_one_fulfillment_each(stack: Stack) -> None:
    order = paid_order(stack, [TEE, MUG])
    for supplier in ("printful", "prodigi"):
        stack.suppliers[supplier].advance(remote_id_of(stack, supplier), "shipped")
        stack.drain()
    assert len(shipments_of(stack)) == 2
    assert sorted(map(sorted, fulfilled(stack, order))) == sorted(
        [[line] for line in line_ids(order)]
    )


def test_a_new_tracking_number_for_a_shipment_updates_its_fulfillment(stack: Stack) -> None:
    order = paid_order(stack, [TEE])
    sandbox = stack.suppliers["printful"]
    (payload,) = sandbox.advance(remote_id_of(stack, "printful"), "shipped")
    stack.drain()
    shipment = dict(payload["data"]["shipment"])
    shipment["tracking_number"] = "1Z999AA10123456784"
    shipment["carrier"] = "UPS"
    corrected = {
        **payload,
        "created": int(payload["created"]) + 120,
        "data": {**payload["data"], "shipment": shipment},
    }
    sandbox.post_callback(corrected)
    stack.drain()
    run_again(stack, "shopify.update_tracking")
    (row,) = shipments_of(stack)
    assert (row.tracking_number, row.tracking_synced) == ("1Z999AA10123456784",) * 2
    (fulfillment,) = stack.shop.fulfillments_of(order["id"])
    assert [info["number"] for info in fulfillment["trackingInfo"]] == ["1Z999AA10123456784"]


US = AddressSpec(
    city="Austin", zip="78701", country="United States", country_code="US", province_code="TX"
)
TWO_LINES_AT: dict[str, tuple[list[str | tuple[str, int]], AddressSpec | None]] = {
    "printful": ([TEE, (TEE_WHITE, 2)], None),
    "gelato": (["CANVAS-30X40", ("POSTER-A3", 2)], None),
    "prodigi": ([MUG, ("CANVAS-30X40", 2)], US),
    # Printify names shipped items by SKU: two distinct products (tees failed over from Printful)
    "printify": ([TEE, (TEE_WHITE, 2)], None),
}


def shipped_item_refs(stack: Stack, supplier: str) -> dict[str, str]:
    """How each sandbox names an item to ship: our line item id, which every adapter sends as
    the item's reference (Printify: the line item's ``external_id``)."""
    return {item.shopify_line_item_id: item.shopify_line_item_id for item in items_of(stack)}


@pytest.mark.parametrize("supplier", sorted(TWO_LINES_AT))
def test_each_supplier_ships_one_line_of_two_and_exactly_it_is_fulfilled(
    stack: Stack, supplier: str
) -> None:
    skus, address = TWO_LINES_AT[supplier]
    if supplier == "printify":
        stack.suppliers["printful"].unavailable = {"4017", "4013"}
    order = paid_order(stack, skus, address=address)
    assert {i.supplier for i in items_of(stack)} == {supplier}
    first, second = line_ids(order)
    ref = shipped_item_refs(stack, supplier)
    remote = remote_id_of(stack, supplier)
    stack.suppliers[supplier].advance(remote, "shipped", items=[ref[second]])
    stack.drain()
    assert fulfilled(stack, order) == [{second: 2}]
    stages = {i.shopify_line_item_id: i.stage for i in items_of(stack)}
    # the order as a whole may be "in production" at the supplier by now
    assert stages[second] == "shipped" and stages[first] in ("submitted", "in_production")
    stack.suppliers[supplier].advance(remote, "shipped", items=[ref[first]])
    stack.drain()
    assert fulfilled(stack, order) == [{second: 2}, {first: 1}]
    assert len(shipments_of(stack)) == 2


def test_a_printify_shipment_of_unknown_skus_ships_nothing(stack: Stack) -> None:
    stack.suppliers["printful"].unavailable = {"4017", "4013"}
    order = paid_order(stack, [TEE, TEE_WHITE])
    assert {i.supplier for i in items_of(stack)} == {"printify"}
    sandbox = stack.suppliers["printify"]
    remote = remote_id_of(stack, "printify")
    sandbox.callback_url, url = None, sandbox.callback_url
    first_line = items_of(stack)[0].shopify_line_item_id
    (payload,) = sandbox.advance(remote, "shipped", items=[first_line])
    sandbox.callback_url = url
    payload["resource"]["data"]["skus"] = ["99999"]  # a SKU of no line we sent
    payload["id"] = "evt-unknown-sku"
    assert sandbox.post_callback(payload) == 200
    stack.drain()
    assert [i.stage for i in items_of(stack)] == ["submitted", "submitted"]
    assert stack.shop.fulfillments_of(order["id"]) == []
