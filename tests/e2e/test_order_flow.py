"""An order from Shopify's webhook to the supplier and back to a Shopify fulfillment."""

from __future__ import annotations

from sqlalchemy import func, select

from integrator.db.models import LineItem, Shipment, SupplierOrder
from integrator.sandbox.shopify import LineSpec
from integrator.sandbox.stack import Stack


def test_paid_order_is_routed_submitted_shipped_and_fulfilled(stack: Stack) -> None:
    order = stack.place_order([LineSpec("TEE-BLK-M-DTG", 2), LineSpec("MUG-11OZ-WHT", 1)])
    outcome = stack.send_webhook("orders/paid", order)
    assert outcome.statuses == [200]
    stack.drain()
    with stack.db.read() as session:
        items = session.scalars(select(LineItem).order_by(LineItem.id)).all()
        assert [(i.sku, i.supplier, i.stage) for i in items] == [
            ("TEE-BLK-M-DTG", "printful", "submitted"),
            ("MUG-11OZ-WHT", "prodigi", "submitted"),
        ]
    assert stack.advance_all("in_production") == 2
    stack.drain()
    assert stack.advance_all("shipped") == 2
    stack.drain()
    with stack.db.read() as session:
        stages = session.scalars(select(LineItem.stage).order_by(LineItem.id)).all()
        assert stages == ["shipped", "shipped"]
        shipments = session.scalars(select(Shipment)).all()
        assert len(shipments) == 2
        assert all(s.sync_status == "synced" and s.shopify_fulfillment_id for s in shipments)
        assert session.scalar(select(func.count()).select_from(SupplierOrder)) == 2
    assert len(stack.shop.fulfillments_of(order["id"])) == 2
