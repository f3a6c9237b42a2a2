"""Where production time's two ends come from, through the whole pipeline.

Paid is Shopify's time for the order (not when our worker happened to ingest it); shipped
and delivered are the supplier's times, stored in UTC whatever offset the supplier wrote.
An item shipped within a second of payment, as every demo item is, took 0 s: never less.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from integrator.db.models import ItemEvent, Shipment
from integrator.read_models.production_times import production_times
from integrator.sandbox.shopify import LineSpec
from integrator.sandbox.stack import Stack

from .conftest import drain, items_of, order_row, paid_order, remote_id_of

SKU_AT = {
    "printful": "TEE-BLK-M-DTG",
    "printify": "CASE-IPHONE15-CLEAR",
    "gelato": "CANVAS-30X40",
    "prodigi": "MUG-11OZ-WHT",
}


def test_paid_is_shopifys_time_for_the_order_even_when_ingested_days_later(
    stack: Stack,
) -> None:
    order = stack.shop.create_order([LineSpec("TEE-BLK-M-DTG")])
    order["createdAt"] = "2026-11-20T12:30:15.250Z"  # the webhook comes late (or reconcile)

    assert stack.send_webhook("orders/paid", order).statuses == [200]
    drain(stack)

    assert order_row(stack, order).paid_at == datetime(2026, 11, 20, 12, 30, 15, 250_000)


def test_a_supplier_time_with_an_offset_is_stored_in_utc(stack: Stack) -> None:
    paid_order(stack, [SKU_AT["gelato"]])  # shipped to Berlin: Gelato makes the canvas
    sandbox = stack.suppliers["gelato"]
    remote = remote_id_of(stack, "gelato")
    with sandbox.lock:
        payloads = sandbox.callbacks_for(sandbox.orders[remote], "shipped", None)
    for payload in payloads:
        payload["created"] = "2026-11-27T14:00:05+02:00"  # 12:00:05 UTC
        sandbox.post_callback(payload)
    stack.drain()

    (item,) = items_of(stack)
    with stack.db.read() as session:
        shipped_at = session.scalars(
            select(ItemEvent.occurred_at).where(
                ItemEvent.line_item_id == item.id, ItemEvent.stage == "shipped"
            )
        ).one()
        (shipment,) = session.scalars(select(Shipment)).all()
    assert item.stage == "shipped"
    assert shipped_at == datetime(2026, 11, 27, 12, 0, 5)
    assert shipment.shipped_at == datetime(2026, 11, 27, 12, 0, 5)


@pytest.mark.parametrize("supplier", sorted(SKU_AT))
def test_an_item_shipped_at_once_took_zero_seconds_or_more_never_less(
    stack: Stack, supplier: str
) -> None:
    paid_order(stack, [SKU_AT[supplier]])
    remote = remote_id_of(stack, supplier)
    stack.suppliers[supplier].advance(remote, "shipped")
    stack.drain()
    stack.suppliers[supplier].advance(remote, "delivered")
    stack.drain()

    (row,) = production_times(stack.db)

    assert row.supplier == supplier
    assert (row.fulfillment_count, row.fulfillment_clock_problems) == (1, 0)
    assert row.fulfillment_p50_seconds is not None and row.fulfillment_p50_seconds >= 0
    assert row.shipping_clock_problems == 0
    if row.shipping_count:  # Printful sends no delivery webhook
        assert row.shipping_p50_seconds is not None and row.shipping_p50_seconds >= 0
