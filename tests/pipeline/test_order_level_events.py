"""An order-level event (a status for the whole supplier order, naming no parcel: Printify
``order:updated`` "fulfilled"/"delivered", Prodigi stage ``Complete``) moves only the lines a
recorded shipment carries: anything else would be "shipped" without ever reaching Shopify."""

from __future__ import annotations

from sqlalchemy import select

from integrator.db.models import ItemEvent
from integrator.sandbox.shopify import AddressSpec
from integrator.sandbox.stack import Stack

from .conftest import items_of, paid_order, remote_id_of
from .test_gelato_and_printify import fulfilled, line_ids, printify_order, stages

US = AddressSpec(
    city="Austin", zip="78701", country="United States", country_code="US", province_code="TX"
)


def test_an_order_level_delivered_status_moves_only_lines_a_parcel_carried(
    stack: Stack,
) -> None:
    order, first, second, remote = printify_order(stack)
    sandbox = stack.suppliers["printify"]
    sandbox.advance(remote, "shipped", items=[first])
    stack.drain()

    for status in ("fulfilled", "delivered"):  # order-level words, no parcel named
        payload = sandbox.event("order:updated", sandbox.orders[remote], {
            "shop_id": sandbox.shop_id, "status": status})
        assert sandbox.post_callback(payload) == 200
    stack.drain()

    assert stages(stack) == {first: "delivered", second: "submitted"}
    assert len(fulfilled(stack, order)) == 1


def test_prodigi_complete_moves_only_the_items_its_shipments_carry(stack: Stack) -> None:
    order = paid_order(stack, ["MUG-11OZ-WHT", ("CANVAS-30X40", 2)], address=US)
    assert {i.supplier for i in items_of(stack)} == {"prodigi"}
    first, second = line_ids(order)
    sandbox = stack.suppliers["prodigi"]
    remote = remote_id_of(stack, "prodigi")
    sandbox.advance(remote, "shipped", items=[first])
    stack.drain()

    # Prodigi calls the order Complete although only the mug's parcel left
    prodigi_order = sandbox.orders[remote]
    prodigi_order["status"]["stage"] = "Complete"
    assert sandbox.post_callback(sandbox.cloud_event(prodigi_order)) == 200
    stack.drain()

    # the partial shipment made the order "in production" at Prodigi: never "shipped"
    assert stages(stack) == {first: "shipped", second: "in_production"}
    assert [items for items, _tracking in fulfilled(stack, order)] == [{first: 1}]
    with stack.db.read() as session:
        moved = session.scalars(select(ItemEvent.stage).where(ItemEvent.stage == "shipped"))
        assert list(moved) == ["shipped"]
