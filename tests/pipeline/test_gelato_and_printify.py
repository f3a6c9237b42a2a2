"""Gelato and Printify through the whole pipeline, against sandboxes that answer in the
published shapes: parcels found by polling reach Shopify, connected orders are followed,
incomplete addresses are held before sending, deliveries move only the lines they cover."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from integrator.db.models import SupplierOrder
from integrator.db.timestamps import utcnow
from integrator.pipeline.reconcile import silent_suppliers
from integrator.sandbox.stack import Stack

from .conftest import (
    items_of,
    order_row,
    paid_order,
    remote_id_of,
    run_again,
    shipments_of,
    supplier_orders_of,
)

CANVAS, POSTER = "CANVAS-30X40", "POSTER-A3"  # wall art to Germany: Gelato
TEE, TEE_WHITE = "TEE-BLK-M-DTG", "TEE-WHT-L-DTG"  # Printify when Printful has no stock


def line_ids(order: dict[str, Any]) -> list[str]:
    return [str(line["id"]).rsplit("/", 1)[-1] for line in order["lineItems"]]


def fulfilled(stack: Stack, order: dict[str, Any]) -> list[tuple[dict[str, int], list[str]]]:
    """Each Shopify fulfillment of the order: ({line item id: quantity}, tracking numbers)."""
    return [
        (
            {
                str(fli["lineItem"]["id"]).rsplit("/", 1)[-1]: fli["quantity"]
                for fli in fulfillment["fulfillmentLineItems"]
            },
            [info["number"] for info in fulfillment["trackingInfo"]],
        )
        for fulfillment in stack.shop.fulfillments_of(order["id"])
    ]


def stages(stack: Stack) -> dict[str, str]:
    return {item.shopify_line_item_id: item.stage for item in items_of(stack)}


def quiet_for_days(stack: Stack, days: int = 3) -> None:
    past = utcnow() - timedelta(days=days)
    with stack.db.write() as session:
        session.execute(update(SupplierOrder).values(submitted_at=past, last_heard_at=past))


def poll_silent_suppliers(stack: Stack) -> int:
    quiet_for_days(stack)
    report = silent_suppliers(stack.container)
    stack.drain()
    return report.enqueued


def packages(stack: Stack, order_id: str) -> list[dict[str, Any]]:
    packed: list[dict[str, Any]] = stack.suppliers["gelato"].orders[order_id]["shipment"][
        "packages"
    ]
    return packed


# --- Gelato ------------------------------------------------------------------------------------


def test_a_gelato_parcel_found_only_by_polling_fulfils_every_item_in_it(stack: Stack) -> None:
    order = paid_order(stack, [CANVAS, (POSTER, 2)])
    first, second = line_ids(order)
    assert {i.supplier for i in items_of(stack)} == {"gelato"}
    sandbox = stack.suppliers["gelato"]
    remote = remote_id_of(stack, "gelato")
    sandbox.callback_url = None  # Gelato tried its three times and gave up
    sandbox.advance(remote, "shipped")  # one package carrying both items
    stack.drain()
    assert stages(stack) == {first: "submitted", second: "submitted"}

    assert poll_silent_suppliers(stack) == 1

    (package,) = packages(stack, remote)
    assert stages(stack) == {first: "shipped", second: "shipped"}
    assert fulfilled(stack, order) == [({first: 1, second: 2}, [package["trackingCode"]])]
    (shipment,) = shipments_of(stack)
    assert (shipment.supplier_shipment_id, shipment.sync_status) == (
        f"{remote}:{package['trackingCode']}",
        "synced",
    )
    run_again(stack, "supplier.poll", "shopify.sync_shipment")  # polled again: nothing doubles
    assert len(fulfilled(stack, order)) == 1 and len(shipments_of(stack)) == 1


def test_gelato_tracking_webhooks_for_a_shared_parcel_make_one_fulfillment_of_both(
    stack: Stack,
) -> None:
    order = paid_order(stack, [CANVAS, (POSTER, 2)])
    first, second = line_ids(order)
    remote = remote_id_of(stack, "gelato")

    posted = stack.suppliers["gelato"].advance(remote, "shipped")
    stack.drain()

    assert [p["event"] for p in posted] == [
        "order_item_tracking_code_updated",
        "order_item_tracking_code_updated",
        "order_status_updated",
    ]
    (package,) = packages(stack, remote)
    assert stages(stack) == {first: "shipped", second: "shipped"}
    assert fulfilled(stack, order) == [({first: 1, second: 2}, [package["trackingCode"]])]


def test_gelato_connected_orders_are_each_followed_to_shopify(stack: Stack) -> None:
    sandbox = stack.suppliers["gelato"]
    sandbox.split_by_family = True  # canvas and poster are made in different hubs
    order = paid_order(stack, [CANVAS, (POSTER, 2)])
    canvas_line, poster_line = line_ids(order)
    remote = remote_id_of(stack, "gelato")
    (reference,) = [ref for _s, _r, ref in stack.supplier_orders()]
    assert sandbox.created_count(reference) == 1
    (connected,) = [oid for oid in sandbox.orders if oid != remote]
    assert sorted(sandbox.orders[remote]["connectedOrderIds"]) == sorted([remote, connected])

    # the connected order's webhook names another Gelato order id, but our reference
    sandbox.advance(connected, "shipped")
    stack.drain()
    poster_parcel = packages(stack, connected)[0]["trackingCode"]
    assert stages(stack) == {canvas_line: "submitted", poster_line: "shipped"}

    sandbox.callback_url = None
    sandbox.advance(remote, "shipped")
    assert poll_silent_suppliers(stack) == 1
    canvas_parcel = packages(stack, remote)[0]["trackingCode"]

    assert stages(stack) == {canvas_line: "shipped", poster_line: "shipped"}
    assert fulfilled(stack, order) == [
        ({poster_line: 2}, [poster_parcel]),
        ({canvas_line: 1}, [canvas_parcel]),
    ]
    assert len(supplier_orders_of(stack)) == 1


def test_an_order_without_the_email_gelato_requires_is_held_naming_it(stack: Stack) -> None:
    paid_order(stack, [CANVAS], email="")

    (item,) = items_of(stack)
    assert item.stage == "on_hold"
    assert item.reason == (
        "not sent to gelato: Gelato needs shippingAddress.email (missing) "
        "(Create order → ShippingAddressObject)"
    )
    assert stack.suppliers["gelato"].orders == {}
    (row,) = supplier_orders_of(stack)
    assert (row.status, row.supplier_order_id) == ("failed", None)


def test_a_gelato_cancel_refused_after_printing_is_shown_to_the_operator(stack: Stack) -> None:
    order = paid_order(stack, [CANVAS])
    remote = remote_id_of(stack, "gelato")
    stack.suppliers["gelato"].advance(remote, "in_production")
    stack.drain()

    stack.shop.cancel_order(order["id"])
    assert stack.send_webhook("orders/cancelled", stack.shop.order(order["id"])).statuses == [200]
    stack.drain()

    row = order_row(stack, order)
    assert row.attention == (
        "order cancelled in Shopify but gelato could not cancel (Gelato refused to cancel "
        f"order {remote} (409): printing has started; Gelato said: The order cannot be "
        "canceled, because at least one of the items is in 'printed' status.): items will "
        "still be made and shipped"
    )
    (supplier_order,) = supplier_orders_of(stack)
    assert supplier_order.status == "cancel_refused"


# --- Printify ---------------------------------------------------------------------------------


def printify_order(stack: Stack) -> tuple[dict[str, Any], str, str, str]:
    stack.suppliers["printful"].unavailable = {"4017", "4013"}
    order = paid_order(stack, [TEE, (TEE_WHITE, 2)])
    assert {i.supplier for i in items_of(stack)} == {"printify"}
    first, second = line_ids(order)
    return order, first, second, remote_id_of(stack, "printify")


def test_printify_shipments_named_by_printify_skus_reach_shopify(stack: Stack) -> None:
    order, first, second, remote = printify_order(stack)
    sandbox = stack.suppliers["printify"]
    skus = [line["metadata"]["sku"] for line in sandbox.orders[remote]["line_items"]]
    variants = [str((item.spec or {})["identifiers"]["variant_id"]) for item in items_of(stack)]
    assert not set(skus) & set(variants)  # Printify's SKUs are its own

    (created,) = sandbox.advance(remote, "shipped", items=[second])
    stack.drain()

    assert created["resource"]["data"]["skus"] == [skus[1]]
    number = created["resource"]["data"]["carrier"]["tracking_number"]
    assert fulfilled(stack, order) == [({second: 2}, [number])]
    assert stages(stack)[second] == "shipped" and stages(stack)[first] != "shipped"


def test_printify_delivery_moves_only_the_lines_its_parcel_carried(stack: Stack) -> None:
    order, first, second, remote = printify_order(stack)
    sandbox = stack.suppliers["printify"]
    sandbox.advance(remote, "shipped", items=[first])
    sandbox.advance(remote, "shipped", items=[second])
    stack.drain()

    (delivered,) = sandbox.advance(remote, "delivered", items=[first])
    stack.drain()

    assert delivered["type"] == "order:shipment:delivered"
    assert stages(stack) == {first: "delivered", second: "shipped"}
    assert len(fulfilled(stack, order)) == 2


def test_a_printify_delivery_whose_shipment_webhook_was_lost_still_fulfils(
    stack: Stack,
) -> None:
    order, first, second, remote = printify_order(stack)
    sandbox = stack.suppliers["printify"]
    sandbox.callback_url, url = None, sandbox.callback_url
    (shipped,) = sandbox.advance(remote, "shipped", items=[first])
    sandbox.callback_url = url

    sandbox.advance(remote, "delivered", items=[first])
    stack.drain()

    number = shipped["resource"]["data"]["carrier"]["tracking_number"]
    assert stages(stack) == {first: "delivered", second: "submitted"}
    assert fulfilled(stack, order) == [({first: 1}, [number])]
