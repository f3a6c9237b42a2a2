"""Fifty orders with mixed products through the whole stack, to shipped and delivered:
exactly one supplier order per (order, supplier), here and at the sandboxes, and one Shopify
fulfillment per shipment."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from integrator.db.models import LineItem, Order, Shipment, SupplierOrder
from integrator.sandbox.shopify import AddressSpec, LineSpec
from integrator.sandbox.stack import Stack, StackOptions

ORDERS = 50
SKUS = (
    "TEE-BLK-M-DTG",
    "TEE-WHT-L-DTG",
    "HAT-NAVY-EMB",
    "HOODIE-GRY-L-EMB",
    "CANVAS-30X40",
    "POSTER-A3",
    "MUG-11OZ-WHT",
    "CASE-IPHONE15-CLEAR",
)
ADDRESSES = (
    AddressSpec(),
    AddressSpec(
        city="Austin",
        zip="78701",
        country="United States",
        country_code="US",
        province="Texas",
        province_code="TX",
    ),
)


def place_orders(stack: Stack) -> list[dict[str, Any]]:
    rng = random.Random(50)
    orders = []
    for number in range(ORDERS):
        skus = rng.sample(SKUS, rng.randint(1, 3))
        lines = [LineSpec(sku, rng.randint(1, 2)) for sku in skus]
        order = stack.place_order(lines, address=ADDRESSES[number % len(ADDRESSES)])
        assert stack.send_webhook("orders/paid", order).statuses == [200]
        if number % 5 == 0:  # Shopify delivers some events twice, under a new webhook id
            assert stack.send_webhook("orders/paid", order).statuses == [200]
        orders.append(order)
    return orders


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    # a roomy GraphQL bucket: this test is about idempotency, not Shopify's rate limit
    options = StackOptions(
        database_url=database_url, migrate=False, bucket_size=1e6, restore_rate=1e6
    )
    running = Stack(options)
    yield running
    running.close()


def test_fifty_orders_to_delivered_with_one_supplier_order_each(stack: Stack) -> None:
    orders = place_orders(stack)
    stack.drain()
    for stage in ("shipped", "delivered"):  # production itself is covered elsewhere
        stack.advance_all(stage)
        stack.drain()

    with stack.db.read() as session:
        items = session.scalars(select(LineItem)).all()
        expected_lines = sum(len(o["lineItems"]) for o in orders)
        assert len(items) == expected_lines
        assert session.scalar(select(Order.id).where(Order.status == "cancelled")) is None
        stages = Counter(item.stage for item in items)
        assert set(stages) <= {"shipped", "delivered"}, stages
        assert stages["delivered"] > 0

        supplier_orders = session.scalars(select(SupplierOrder)).all()
        per_pair = Counter((so.order_id, so.supplier) for so in supplier_orders)
        assert set(per_pair.values()) == {1}
        pairs_from_items = {(i.order_id, i.supplier) for i in items}
        assert set(per_pair) == pairs_from_items
        assert all(so.supplier_order_id for so in supplier_orders)
        references = [(so.supplier, so.external_ref) for so in supplier_orders]
        assert len(set(references)) == len(references)

        shipments = session.scalars(select(Shipment)).all()
        unsynced = [
            (s.id, s.sync_status, s.sync_detail) for s in shipments if not s.shopify_fulfillment_id
        ]
        assert unsynced == []
        fulfillment_ids = [s.shopify_fulfillment_id for s in shipments]
        assert len(set(fulfillment_ids)) == len(fulfillment_ids)
        shipments_per_order = Counter(s.order_id for s in shipments)
        shopify_ids = {o.id: o.shopify_order_id for o in session.scalars(select(Order))}

    for supplier, reference in references:
        assert stack.suppliers[supplier].created_count(reference) == 1, (supplier, reference)
    made = sum(len(sandbox.orders) for sandbox in stack.suppliers.values())
    assert made == len(supplier_orders)

    for order_pk, shopify_id in shopify_ids.items():
        fulfillments = stack.shop.fulfillments_of(shopify_id)
        assert len(fulfillments) == shipments_per_order[order_pk], shopify_id
    total = sum(len(stack.shop.fulfillments_of(o["id"])) for o in orders)
    assert total == len(shipments) >= len(supplier_orders)
