"""Enrichment: one query per order into domain types; reconciliation pages with a cursor."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrator.domain.model import Address
from integrator.shopify.client import AdminClient
from integrator.shopify.enrichment import (
    OrderNotFound,
    fetch_order,
    iter_orders_updated_since,
)
from tests.shopify.conftest import SHOP
from tests.shopify.fake_shopify import FakeOrder, FakeShopify, fulfillment_order, line_item


def test_fetch_order_converts_everything_routing_needs(
    client: AdminClient, shopify: FakeShopify
) -> None:
    shopify.add_order(
        FakeOrder(
            1001,
            [line_item(11, quantity=2), line_item(12, sku="HAT-EMB", product_type="Hat")],
            [fulfillment_order(71, [(711, 11, 2), (712, 12, 1)])],
            tags=["vip"],
        )
    )

    order = fetch_order(client, SHOP, "1001", ["custom.decoration_method"])

    assert shopify.calls == [
        (
            "OrderForRouting",
            {
                "orderId": "gid://shopify/Order/1001",
                "metafieldKeys": ["custom.decoration_method"],
                "withMetafields": True,
                "metafieldCount": 1,
                "lines": 5,
                "fulfillmentOrders": 2,
            },
        )
    ]
    assert (order.shop, order.order_id, order.name) == (SHOP, "1001", "#1001")
    assert order.financial_status == "PAID" and not order.cancelled
    assert order.email == "jon@example.com" and order.currency == "EUR"
    assert order.updated_at == datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    assert order.shipping_address == Address(
        name="Steve Shipper",
        address1="123 Shipping Street",
        city="Shippington",
        province_code="KY",
        zip="40003",
        country_code="US",
        phone="555-555-5555",
        email="jon@example.com",
    )
    first, second = order.lines
    assert (first.line_item_id, first.quantity, first.sku) == ("11", 2, "TEE-BLK-M-DTG")
    assert (first.variant_id, first.product_id) == ("1100", "110")
    assert first.product_type == "T-Shirt" and first.vendor == "Acme"
    assert first.tags == ("decoration:dtg",)
    assert dict(first.variant_options) == {"Color": "Black", "Size": "M"}
    assert dict(first.properties) == {"Decoration": "dtg"}
    assert dict(first.metafields) == {"custom.decoration_method": "dtg"}
    assert first.requires_shipping and first.fulfillable_quantity == 2
    assert (second.sku, second.product_type) == ("HAT-EMB", "Hat")
    (fo,) = order.fulfillment_orders
    assert fo.id == "gid://shopify/FulfillmentOrder/71" and fo.status == "OPEN"
    assert [(line.line_item_id, line.remaining_quantity) for line in fo.lines] == [
        ("11", 2),
        ("12", 1),
    ]
    assert fo.supported_actions == ("CREATE_FULFILLMENT",)


def test_missing_order_is_named(client: AdminClient) -> None:
    with pytest.raises(OrderNotFound):
        fetch_order(client, SHOP, "404")


def test_reconciliation_pages_through_orders_with_a_cursor(
    client: AdminClient, shopify: FakeShopify
) -> None:
    for number, updated in [(1, "01:00"), (2, "01:05"), (3, "01:10")]:
        order = FakeOrder(number, [], [], updated_at=f"2026-11-22T{updated}:00Z")
        shopify.add_order(order)

    pages = list(iter_orders_updated_since(client, SHOP, datetime(2026, 11, 22, 1, 0, tzinfo=UTC)))

    assert [[o.order_id for o in page.orders] for page in pages] == [["1", "2"], ["3"]]
    assert [page.has_next_page for page in pages] == [True, False]
    assert pages[0].cursor == "2"
    queries = [variables for op, variables in shopify.calls if op == "OrdersUpdatedSince"]
    assert queries[0] == {"query": "updated_at:>='2026-11-22T00:55:00Z'", "after": None}
    assert queries[1]["after"] == "2"
    assert pages[1].orders[0].financial_status == "PAID"
    assert not pages[1].orders[0].cancelled
