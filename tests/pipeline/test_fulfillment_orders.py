"""Shopify's fulfillment orders decide what is ours and when, through the whole pipeline:
lines assigned elsewhere (visible or hidden), held and scheduled orders, quantities split over
fulfillment orders, more fulfillment orders than one page, orders routed before Shopify made
any, test orders, local pickup and automatic fulfilment at payment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from integrator.db.models import Alert, Shipment
from integrator.sandbox.shopify import AddressSpec, FulfillmentOrderSpec, LineSpec
from integrator.sandbox.shopify.topic_payloads import fulfillment_order_payload
from integrator.sandbox.stack import Stack, StackOptions
from integrator.store_config.operations import TestOrders

from .conftest import drain, items_of, order_row, shipments_of, supplier_orders_of

TEE, MUG, HAT, CANVAS = "TEE-BLK-M-DTG", "MUG-11OZ-WHT", "HAT-NAVY-EMB", "CANVAS-30X40"


def paid(stack: Stack, lines: list[LineSpec], **kwargs: Any) -> dict[str, Any]:
    order = stack.shop.create_order(lines, **kwargs)
    assert stack.send_webhook("orders/paid", order).statuses == [200]
    drain(stack)
    return order


def decisions(stack: Stack, order: dict[str, Any]) -> list[tuple[str | None, int, str | None, str]]:
    """(sku, quantity, disposition, stage) of every item part, in order."""
    return [(i.sku, i.quantity, i.disposition, i.stage) for i in items_of(stack, order)]


def at_supplier(stack: Stack, supplier: str) -> list[tuple[str, int]]:
    """(sku, quantity) of every line the supplier's sandbox was asked to make."""
    sandbox = stack.suppliers[supplier]
    made = []
    for order in sandbox.orders.values():
        for item in order.get("items") or order.get("line_items") or ():
            sku = item.get("sku") or item.get("external_id") or ""
            made.append((str(sku), int(item.get("quantity", 0))))
    return made


def fo_event(stack: Stack, topic: str, fo: dict[str, Any]) -> None:
    assert stack.send_topic(topic, fulfillment_order_payload(fo)).statuses == [200]
    drain(stack)


# --- lines assigned elsewhere --------------------------------------------------------------


def test_a_line_at_another_apps_fulfillment_service_is_skipped_not_made(stack: Stack) -> None:
    stack.shop.add_fulfillment_service("Printful")
    order = paid(
        stack,
        [LineSpec(TEE), LineSpec(HAT)],
        fulfillment_orders=[
            FulfillmentOrderSpec(lines=[0]),
            FulfillmentOrderSpec(lines=[1], fulfillment_service="Printful"),
        ],
    )

    tee, hat = items_of(stack, order)
    assert (tee.disposition, tee.stage) == ("route", "submitted")
    # without read_third_party_fulfillment_orders the Printful FO is not even visible
    assert (hat.disposition, hat.stage) == ("skip", "received")
    assert hat.reason == (
        "1 in no fulfillment order this app can see (assigned to another fulfillment "
        "service's location)"
    )
    assert [(so.supplier, so.status) for so in supplier_orders_of(stack)] == [
        ("printful", "submitted")
    ]
    # the tracking sync fulfils the tee and does not wait for the hidden hat
    stack.advance_all("shipped")
    stack.drain()
    (shipment,) = shipments_of(stack)
    assert shipment.sync_status == "synced"
    assert len(stack.shop.fulfillments_of(order["id"])) == 1


def test_a_visible_third_party_fulfillment_order_is_skipped_naming_its_location(
    database_url: str,
) -> None:
    from integrator.sandbox.shopify.sandbox import DEFAULT_SCOPES

    stack = Stack(StackOptions(database_url=database_url, migrate=False))
    try:
        stack.shop.scopes = (*DEFAULT_SCOPES, "read_third_party_fulfillment_orders")
        stack.shop.add_fulfillment_service("Printful")
        order = paid(
            stack,
            [LineSpec(TEE), LineSpec(HAT)],
            fulfillment_orders=[
                FulfillmentOrderSpec(lines=[0]),
                FulfillmentOrderSpec(lines=[1], fulfillment_service="Printful"),
            ],
        )
        _tee, hat = items_of(stack, order)
        assert (hat.disposition, hat.reason) == (
            "skip",
            "1 assigned to Printful, another fulfillment service's location",
        )
    finally:
        stack.close()


def test_a_line_at_a_warehouse_not_named_in_shopify_locations_is_skipped(stack: Stack) -> None:
    stack.configure_shopify(locations=("Shop location",))
    order = paid(
        stack,
        [LineSpec(TEE), LineSpec(MUG)],
        fulfillment_orders=[
            FulfillmentOrderSpec(lines=[0]),
            FulfillmentOrderSpec(lines=[1], location_name="Main warehouse"),
        ],
    )
    tee, mug = items_of(stack, order)
    assert (tee.disposition, tee.stage) == ("route", "submitted")
    assert (mug.disposition, mug.reason) == (
        "skip",
        "1 assigned to Main warehouse, which is not one of shopify.locations",
    )
    assert all(so.supplier != "prodigi" for so in supplier_orders_of(stack))


def test_only_the_quantity_in_our_fulfillment_orders_is_made(stack: Stack) -> None:
    stack.configure_shopify(locations=("Shop location",))
    order = paid(
        stack,
        [LineSpec(TEE, 3)],
        fulfillment_orders=[
            FulfillmentOrderSpec(quantities={0: 2}),
            FulfillmentOrderSpec(quantities={0: 1}, location_name="Main warehouse"),
        ],
    )
    (tee,) = items_of(stack, order)
    assert (tee.quantity, tee.stage) == (2, "submitted")
    assert "1 more assigned to Main warehouse" in (tee.reason or "")
    (submitted,) = [so for so in supplier_orders_of(stack)]
    assert [line["quantity"] for line in submitted.request_copy["lines"]] == [2]  # type: ignore[index]


# --- held, scheduled, not yet routed by Shopify ------------------------------------------------


def test_a_held_order_waits_with_shopifys_reason_and_is_routed_when_released(
    stack: Stack,
) -> None:
    order = paid(
        stack,
        [LineSpec(TEE)],
        fulfillment_orders=[
            FulfillmentOrderSpec(
                status="ON_HOLD", hold_reason="HIGH_RISK_OF_FRAUD", hold_notes="manual review"
            )
        ],
    )
    (item,) = items_of(stack, order)
    assert (item.disposition, item.stage) == ("wait", "received")
    assert item.reason == (
        "on hold in Shopify at Shop location: high risk of fraud (under review) (manual review)"
    )
    assert supplier_orders_of(stack) == []

    fo = stack.shop.release_hold(order["fulfillmentOrders"][0]["id"])
    fo_event(stack, "fulfillment_orders/hold_released", fo)

    (item,) = items_of(stack, order)
    assert (item.disposition, item.stage, item.supplier) == ("route", "submitted", "printful")
    assert len(supplier_orders_of(stack)) == 1


def test_a_scheduled_order_waits_for_its_date(stack: Stack) -> None:
    order = paid(
        stack,
        [LineSpec(MUG)],
        fulfillment_orders=[
            FulfillmentOrderSpec(status="SCHEDULED", fulfill_at="2026-12-24T08:00:00Z")
        ],
    )
    (item,) = items_of(stack, order)
    assert (item.disposition, item.reason) == (
        "wait",
        "scheduled in Shopify at Shop location: due 2026-12-24 08:00 UTC",
    )

    fo = stack.shop.make_due(order["fulfillmentOrders"][0]["id"])
    fo_event(stack, "fulfillment_orders/scheduled_fulfillment_order_ready", fo)

    (item,) = items_of(stack, order)
    assert (item.stage, item.supplier) == ("submitted", "prodigi")


def test_a_split_hold_routes_the_open_part_now_and_the_rest_on_release(stack: Stack) -> None:
    order = paid(
        stack,
        [LineSpec(TEE, 3)],
        fulfillment_orders=[
            FulfillmentOrderSpec(quantities={0: 2}),
            FulfillmentOrderSpec(quantities={0: 1}, status="ON_HOLD", hold_reason="OTHER"),
        ],
    )
    assert decisions(stack, order) == [(TEE, 2, "route", "submitted")]

    fo = stack.shop.release_hold(order["fulfillmentOrders"][1]["id"])
    fo_event(stack, "fulfillment_orders/hold_released", fo)

    assert decisions(stack, order) == [
        (TEE, 2, "route", "submitted"),
        (TEE, 1, "route", "submitted"),
    ]
    # the released unit is a supplier order of its own: the first was sent already
    assert [(so.sequence, so.status) for so in supplier_orders_of(stack)] == [
        (0, "submitted"),
        (1, "submitted"),
    ]
    # both parcels reach Shopify on the fulfillment-order lines they came from
    stack.advance_all("shipped")
    stack.drain()
    assert [s.sync_status for s in shipments_of(stack)] == ["synced", "synced"]
    assert sum(
        item["quantity"]
        for fulfillment in stack.shop.fulfillments_of(order["id"])
        for item in fulfillment["fulfillmentLineItems"]
    ) == 3


def test_an_order_paid_before_shopify_routed_it_waits_for_routing_complete(
    stack: Stack,
) -> None:
    order = paid(stack, [LineSpec(TEE)], fulfillment_orders=[])
    (item,) = items_of(stack, order)
    assert (item.disposition, item.reason) == (
        "wait",
        "Shopify has not created fulfillment orders yet (its order routing is running)",
    )

    (fo,) = stack.shop.add_fulfillment_orders(order["id"], [FulfillmentOrderSpec()])
    fo_event(stack, "fulfillment_orders/order_routing_complete", fo)

    (item,) = items_of(stack, order)
    assert item.stage == "submitted"


# --- read everything ------------------------------------------------------------------------


def test_more_fulfillment_orders_than_a_page_and_lines_than_a_page_are_all_read(
    stack: Stack,
) -> None:
    stack.configure_shopify(locations=())
    skus = [TEE, MUG, HAT, CANVAS, TEE, MUG, HAT]
    specs = [FulfillmentOrderSpec(lines=[index]) for index in range(7)]
    # the 7th of 7 fulfillment orders holds the hat: today it was never read
    order = paid(stack, [LineSpec(sku) for sku in skus], fulfillment_orders=specs)
    assert [i.stage for i in items_of(stack, order)] == ["submitted"] * 7
    stack.advance_all("shipped")
    stack.drain()
    assert {s.sync_status for s in shipments_of(stack)} == {"synced"}
    fulfilled = sum(len(f["fulfillmentLineItems"]) for f in stack.shop.fulfillments_of(order["id"]))
    assert fulfilled == 7

    many = paid(stack, [LineSpec(TEE) for _ in range(25)])  # one FO with 25 lines
    assert [i.stage for i in items_of(stack, many)] == ["submitted"] * 25


# --- orders that must not be produced ----------------------------------------------------


def test_test_orders_are_held_by_default(stack: Stack) -> None:
    order = paid(stack, [LineSpec(TEE)], test=True)
    (item,) = items_of(stack, order)
    assert (item.disposition, item.stage, item.reason) == (
        "hold",
        "on_hold",
        "test order: held (shopify.test_orders: hold; set route to produce it)",
    )
    assert supplier_orders_of(stack) == []
    assert order_row(stack, order).test is True


def test_test_orders_can_be_ignored_or_routed(stack: Stack) -> None:
    stack.configure_shopify(test_orders=TestOrders.IGNORE)
    ignored = paid(stack, [LineSpec(TEE)], test=True)
    assert decisions(stack, ignored) == [(TEE, 1, "ignore", "received")]
    stack.configure_shopify(test_orders=TestOrders.ROUTE)
    routed = paid(stack, [LineSpec(MUG)], test=True)
    assert decisions(stack, routed) == [(MUG, 1, "route", "submitted")]


def test_local_pickup_is_held_never_sent_without_an_address(stack: Stack) -> None:
    order = paid(stack, [LineSpec(TEE)], without_shipping_address=True)
    (item,) = items_of(stack, order)
    assert (item.disposition, item.stage, item.reason) == (
        "hold",
        "on_hold",
        "local pickup at Shop location: there is no shipping address to send it to",
    )
    assert supplier_orders_of(stack) == []


def test_automatic_fulfilment_at_payment_is_told_to_the_operator_once_per_shop(
    stack: Stack,
) -> None:
    stack.shop.auto_fulfil_at_payment = True
    first = paid(stack, [LineSpec(TEE)])
    second = paid(stack, [LineSpec(MUG)])

    for order in (first, second):
        (item,) = items_of(stack, order)
        assert item.disposition == "skip"
        assert (item.reason or "").startswith("already fulfilled by Shopify when the order was paid")
        assert "fulfils line items automatically" in (order_row(stack, order).attention or "")
    with stack.db.read() as session:
        alerts = session.scalars(select(Alert).where(Alert.kind == "automatic_fulfilment")).all()
        assert [a.subject for a in alerts] == [f"shop:{stack.options.shop}"]
    assert supplier_orders_of(stack) == []


def test_an_unpaid_order_is_not_routed_by_its_paid_webhook(stack: Stack) -> None:
    order = stack.shop.create_order([LineSpec(TEE)], financial_status="AUTHORIZED")
    assert stack.send_webhook("orders/paid", order).statuses == [200]
    drain(stack)
    assert items_of(stack, order) == []


def test_quantities_come_from_the_fulfillment_order_not_the_line(stack: Stack) -> None:
    order = paid(
        stack, [LineSpec(TEE, 4)], shipping_address=AddressSpec(country_code="US", country="US")
    )
    (tee,) = items_of(stack, order)
    assert tee.quantity == 4
    assert tee.fulfillment_order_lines == [
        {
            "fulfillment_order_id": order["fulfillmentOrders"][0]["id"],
            "line_id": order["fulfillmentOrders"][0]["lineItems"][0]["id"],
            "location_id": stack.shop.primary_location["legacyResourceId"],
            "quantity": 4,
        }
    ]
    with stack.db.read() as session:
        assert session.scalars(select(Shipment)).all() == []
