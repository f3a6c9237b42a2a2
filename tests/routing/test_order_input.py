"""The tolerant order reader: REST webhook and GraphQL shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integrator.domain.model import Address
from integrator.routing.order_input import NotAnOrder, order_from_payload

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).parents[1] / "fixtures" / "shopify"


def test_rest_sample_uses_the_authoritative_gids() -> None:
    order = order_from_payload(json.loads((SAMPLES / "orders_paid.json").read_text()), "s")
    assert order.order_id == "820982911946154508"
    assert [line.line_item_id for line in order.lines][:2] == [
        "487817672276298554",
        "789012345678901234",
    ]
    assert order.tags == ("tag1", "tag2")
    assert order.financial_status == "VOIDED" and order.cancelled is True
    assert order.shipping_address is not None
    assert order.shipping_address.country_code == "US"
    assert order.shipping_address.name == "Steve Shipper"
    first = order.lines[0]
    assert (first.sku, first.quantity, first.fulfillable_quantity, first.product_id) == (
        "SKU2006-001",
        1,
        1,
        "788032119674292900",
    )


def test_graphql_order_in_data_envelope() -> None:
    payload = json.loads((FIXTURES / "demo_order_graphql.json").read_text())
    order = order_from_payload(payload, "demo.myshopify.com")
    assert (order.order_id, order.name, order.currency, order.financial_status) == (
        "5550001",
        "#1001",
        "EUR",
        "PAID",
    )
    assert order.shipping_address == Address(
        name="Ada Lovelace",
        address1="Unter den Linden 1",
        city="Berlin",
        zip="10117",
        country_code="DE",
        phone="+49 30 000000",
        email="ada@example.com",  # read as the pipeline reads it: the order's email
    )
    hat = order.lines[1]
    assert (hat.line_item_id, hat.variant_id, hat.product_id, hat.product_type) == (
        "9002",
        "7002",
        "6002",
        "Hat",
    )
    assert hat.variant_options == {"Decoration": "Embroidered"}
    assert order.lines[2].metafields == {"custom.decoration_method": "none"}
    assert order.lines[3].properties["Monogram"] == "AL"
    gift = order.lines[4]
    assert gift.is_gift_card and not gift.requires_shipping


def test_graphql_edges_and_bare_order() -> None:
    payload = {
        "order": {
            "id": "gid://shopify/Order/7",
            "lineItems": {
                "edges": [
                    {
                        "node": {
                            "id": "gid://shopify/LineItem/70",
                            "quantity": 2,
                            "sku": "A",
                            "variant": {
                                "id": "gid://shopify/ProductVariant/700",
                                "product": {
                                    "productType": "Mug",
                                    "tags": ["x"],
                                    "decoration": {
                                        "namespace": "custom",
                                        "key": "method",
                                        "value": "dtg",
                                    },
                                },
                            },
                        }
                    }
                ]
            },
        }
    }
    (line,) = order_from_payload(payload, "s").lines
    assert (line.line_item_id, line.variant_id, line.product_type, line.tags) == (
        "70",
        "700",
        "Mug",
        ("x",),
    )
    assert line.metafields == {"custom.method": "dtg"}


def test_rest_properties_as_list_or_mapping() -> None:
    payload = {
        "id": 1,
        "line_items": [
            {"id": 2, "quantity": 1, "properties": [{"name": "Name", "value": "Ada"}]},
            {"id": 3, "quantity": 1, "properties": {"Name": "Bob"}},
        ],
    }
    first, second = order_from_payload(payload, "s").lines
    assert first.properties == {"Name": "Ada"} and second.properties == {"Name": "Bob"}


@pytest.mark.parametrize(
    "payload", [{"id": 1}, {"order_id": 1, "line_items": []}, {"data": {"order": {"id": 1}}}]
)
def test_not_an_order(payload: dict[str, object]) -> None:
    with pytest.raises(NotAnOrder):
        order_from_payload(payload, "s")
