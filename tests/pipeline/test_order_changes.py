"""Orders that change after payment, through the whole pipeline: order edits, refunds with
removal, exchanges and post-purchase offers; holds and moves after routing."""

from __future__ import annotations

from typing import Any

from integrator.sandbox.shopify import FulfillmentOrderSpec, LineSpec
from integrator.sandbox.shopify.topic_payloads import (
    fulfillment_order_payload,
    moved_payload,
    order_edited_payload,
    refund_payload,
)
from integrator.sandbox.stack import Stack

from .conftest import drain, items_of, order_row, remote_id_of, supplier_orders_of

TEE, MUG, HAT = "TEE-BLK-M-DTG", "MUG-11OZ-WHT", "HAT-NAVY-EMB"


def paid(stack: Stack, lines: list[LineSpec], **kwargs: Any) -> dict[str, Any]:
    order = stack.shop.create_order(lines, **kwargs)
    assert stack.send_webhook("orders/paid", order).statuses == [200]
    drain(stack)
    return order


def deliver(stack: Stack, topic: str, payload: dict[str, Any]) -> None:
    assert stack.send_topic(topic, payload).statuses == [200]
    drain(stack)


def parts(stack: Stack, order: dict[str, Any]) -> list[tuple[str | None, int, int, str]]:
    """(sku, part, quantity, stage) of every item part."""
    return [(i.sku, i.part, i.quantity, i.stage) for i in items_of(stack, order)]


def supplier_state(stack: Stack) -> list[tuple[str, int, str]]:
    return [(so.supplier, so.sequence, so.status) for so in supplier_orders_of(stack)]


# --- order edits -------------------------------------------------------------------------------


def test_an_added_line_is_routed_and_sent_as_an_additional_supplier_order(stack: Stack) -> None:
    order = paid(stack, [LineSpec(TEE)])
    first_remote = remote_id_of(stack, "printful")

    edit = stack.shop.edit_order(order["id"], add=[LineSpec("TEE-WHT-L-DTG", 2)])
    deliver(stack, "orders/edited", order_edited_payload(edit))

    assert parts(stack, order) == [
        (TEE, 0, 1, "submitted"),
        ("TEE-WHT-L-DTG", 0, 2, "submitted"),
    ]
    assert supplier_state(stack) == [("printful", 0, "submitted"), ("printful", 1, "submitted")]
    sandbox = stack.suppliers["printful"]
    assert sandbox.orders[first_remote]["status"] != "canceled"  # the first is left alone
    # the same edit delivered twice makes nothing new
    deliver(stack, "orders/edited", order_edited_payload(edit))
    assert len(supplier_orders_of(stack)) == 2


def test_a_removed_line_is_cancelled_at_the_supplier_and_the_rest_sent_again(
    stack: Stack,
) -> None:
    order = paid(stack, [LineSpec(TEE), LineSpec("TEE-WHT-L-DTG")])
    first_remote = remote_id_of(stack, "printful")

    edit = stack.shop.edit_order(order["id"], remove={1: 1})
    deliver(stack, "orders/edited", order_edited_payload(edit))

    tee, white = items_of(stack, order)
    assert (tee.stage, white.stage) == ("submitted", "cancelled")
    assert "removed from the order in Shopify" in (white.reason or "")
    sandbox = stack.suppliers["printful"]
    assert sandbox.orders[first_remote]["status"] == "canceled"
    assert supplier_state(stack) == [("printful", 0, "cancelled"), ("printful", 1, "submitted")]
    (kept,) = [so for so in supplier_orders_of(stack) if so.status == "submitted"]
    assert [line["line_item_id"] for line in kept.request_copy["lines"]] == [  # type: ignore[index]
        tee.shopify_line_item_id
    ]
    assert order_row(stack, order).attention is None


def test_a_reduced_quantity_before_submission_only_changes_the_quantity(stack: Stack) -> None:
    order = stack.shop.create_order([LineSpec(TEE, 3)])
    assert stack.send_webhook("orders/paid", order).statuses == [200]
    drain(stack, ("shopify.delivery", "order.ingest"))  # routed, not sent yet

    edit = stack.shop.edit_order(order["id"], remove={0: 1})
    assert stack.send_topic("orders/edited", order_edited_payload(edit)).statuses == [200]
    drain(stack, ("shopify.delivery", "order.update"))  # the edit is read before the submission
    drain(stack)

    assert parts(stack, order) == [(TEE, 0, 2, "submitted")]
    ((_, _, ref),) = stack.supplier_orders()
    assert stack.suppliers["printful"].created_count(ref) == 1
    (submitted,) = supplier_orders_of(stack)
    assert [line["quantity"] for line in submitted.request_copy["lines"]] == [2]  # type: ignore[index]


def test_a_removal_the_supplier_refuses_is_flagged_with_its_answer(stack: Stack) -> None:
    order = paid(stack, [LineSpec(TEE), LineSpec("TEE-WHT-L-DTG")])
    stack.suppliers["printful"].advance(remote_id_of(stack, "printful"), "in_production")
    drain(stack)

    edit = stack.shop.edit_order(order["id"], remove={1: 1})
    deliver(stack, "orders/edited", order_edited_payload(edit))

    tee, white = items_of(stack, order)
    assert (tee.stage, white.stage) == ("in_production", "in_production")
    attention = order_row(stack, order).attention or ""
    assert "printful could not cancel" in attention
    assert "is inprocess" in attention  # the supplier's own answer (its order status)
    assert supplier_state(stack) == [("printful", 0, "in_production")]


# --- refunds, exchanges, post-purchase offers ----------------------------------------------------


def test_a_refund_that_removes_a_unit_cancels_and_resends_the_rest(stack: Stack) -> None:
    order = paid(stack, [LineSpec(TEE, 2)])

    refund, _changes = stack.shop.refund(order["id"], {0: 1}, restock_type="cancel")
    deliver(stack, "refunds/create", refund_payload(refund, stack.shop.order(order["id"])))

    assert parts(stack, order) == [(TEE, 0, 1, "submitted")]
    assert supplier_state(stack) == [("printful", 0, "cancelled"), ("printful", 1, "submitted")]
    (kept,) = [so for so in supplier_orders_of(stack) if so.status == "submitted"]
    assert [line["quantity"] for line in kept.request_copy["lines"]] == [1]  # type: ignore[index]


def test_an_exchange_waits_for_the_return_then_is_sent(stack: Stack) -> None:
    order = paid(stack, [LineSpec(TEE)])
    stack.advance_all("shipped")
    stack.drain()

    exchange = stack.shop.exchange(
        order["id"], [LineSpec("TEE-WHT-L-DTG")], hold_until_returned=True
    )
    deliver(stack, "orders/edited", order_edited_payload(exchange))
    new = items_of(stack, order)[1]
    assert (new.sku, new.disposition, new.stage) == ("TEE-WHT-L-DTG", "wait", "received")
    assert new.reason == "on hold in Shopify at Shop location: awaiting return items (exchange)"

    (fo,) = exchange.fulfillment_orders
    deliver(
        stack,
        "fulfillment_orders/hold_released",
        fulfillment_order_payload(stack.shop.release_hold(fo["id"])),
    )
    new = items_of(stack, order)[1]
    assert (new.stage, new.supplier) == ("submitted", "printful")
    assert supplier_state(stack) == [("printful", 0, "shipped"), ("printful", 1, "submitted")]


def test_a_post_purchase_offer_is_routed_with_the_order_when_the_offer_closes(
    stack: Stack,
) -> None:
    order = paid(stack, [LineSpec(TEE)], post_purchase_offer=True)
    (tee,) = items_of(stack, order)
    assert (tee.disposition, tee.reason) == (
        "wait",
        "on hold in Shopify at Shop location: a post-purchase offer is still open",
    )
    offer = stack.shop.accept_post_purchase_offer(order["id"], [LineSpec(MUG)])
    deliver(stack, "orders/edited", order_edited_payload(offer))
    assert [i.disposition for i in items_of(stack, order)] == ["wait", "wait"]
    assert supplier_orders_of(stack) == []

    for fo in stack.shop.close_post_purchase_offer(order["id"]):
        deliver(stack, "fulfillment_orders/hold_released", fulfillment_order_payload(fo))

    assert [(i.sku, i.stage) for i in items_of(stack, order)] == [
        (TEE, "submitted"),
        (MUG, "submitted"),
    ]
    assert sorted(so.supplier for so in supplier_orders_of(stack)) == ["printful", "prodigi"]


# --- holds and moves after routing ---------------------------------------------------------


def test_a_hold_after_routing_keeps_an_unsent_item_from_the_supplier(stack: Stack) -> None:
    order = stack.shop.create_order([LineSpec(TEE)])
    assert stack.send_webhook("orders/paid", order).statuses == [200]
    drain(stack, ("shopify.delivery", "order.ingest"))  # routed, not sent
    fo = stack.shop.hold_fulfillment_order(order["fulfillmentOrders"][0]["id"], "OTHER")
    payload = fulfillment_order_payload(fo)
    assert stack.send_topic("fulfillment_orders/placed_on_hold", payload).statuses == [200]
    drain(stack, ("shopify.delivery", "fulfillment_order.changed"))  # before the submission
    drain(stack)

    (item,) = items_of(stack, order)
    assert (item.disposition, item.stage) == ("wait", "received")
    assert stack.supplier_orders() == []
    assert supplier_state(stack) == [("printful", 0, "cancelled")]  # never sent

    fo = stack.shop.release_hold(fo["id"])
    deliver(stack, "fulfillment_orders/hold_released", fulfillment_order_payload(fo))
    (item,) = items_of(stack, order)
    assert item.stage == "submitted"
    assert len(stack.supplier_orders()) == 1


def test_a_fulfillment_order_moved_away_cancels_at_the_supplier(stack: Stack) -> None:
    stack.configure_shopify(locations=("Shop location",))
    order = paid(stack, [LineSpec(TEE)])
    remote = remote_id_of(stack, "printful")
    fo = order["fulfillmentOrders"][0]

    original, moved = stack.shop.move_fulfillment_order(fo["id"], location_name="Main warehouse")
    deliver(
        stack,
        "fulfillment_orders/moved",
        moved_payload(original, moved, stack.shop.primary_location),
    )

    (item,) = items_of(stack, order)
    assert item.stage == "cancelled"
    assert stack.suppliers["printful"].orders[remote]["status"] == "canceled"
    assert supplier_state(stack) == [("printful", 0, "cancelled")]


def test_a_cancelled_fulfillment_order_stops_unsent_work(stack: Stack) -> None:
    order = stack.shop.create_order(
        [LineSpec(TEE), LineSpec(MUG)],
        fulfillment_orders=[FulfillmentOrderSpec(lines=[0]), FulfillmentOrderSpec(lines=[1])],
    )
    assert stack.send_webhook("orders/paid", order).statuses == [200]
    drain(stack, ("shopify.delivery", "order.ingest"))
    fo = stack.shop.cancel_fulfillment_order(order["fulfillmentOrders"][1]["id"])
    payload = fulfillment_order_payload(fo)
    assert stack.send_topic("fulfillment_orders/cancelled", payload).statuses == [200]
    drain(stack, ("shopify.delivery", "fulfillment_order.changed"))  # before the submission
    drain(stack)

    tee, mug = items_of(stack, order)
    assert (tee.stage, mug.stage) == ("submitted", "cancelled")
    assert [supplier for supplier, _id, _ref in stack.supplier_orders()] == ["printful"]
