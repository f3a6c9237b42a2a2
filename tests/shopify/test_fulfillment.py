"""Tracking sync: exactly the shipped items, idempotent, and every Shopify state named."""

from __future__ import annotations

import pytest

from integrator.shopify.client import AdminClient
from integrator.shopify.errors import ShopifyUnavailable
from integrator.shopify.fulfillment import (
    FulfillmentOutcome,
    Tracking,
    create_fulfillment,
    mirror_stage,
    update_tracking,
)
from tests.shopify.conftest import SHOP
from tests.shopify.fake_shopify import FakeOrder, FakeShopify, fulfillment_order, line_item

UPS = Tracking("1Z001985YW99744790", "UPS", "https://www.ups.com/track?tracknum=1Z001985YW99744790")


def three_item_order(shopify: FakeShopify, status: str = "OPEN") -> FakeOrder:
    return shopify.add_order(
        FakeOrder(
            1001,
            [line_item(11), line_item(12, quantity=2), line_item(13)],
            [fulfillment_order(71, [(711, 11, 1), (712, 12, 2), (713, 13, 1)], status=status)],
        )
    )


def test_partial_fulfillment_sends_exactly_the_shipped_lines(
    client: AdminClient, shopify: FakeShopify
) -> None:
    three_item_order(shopify)

    result = create_fulfillment(client, SHOP, "1001", [("11", 1), ("12", 2)], UPS, True)

    assert result.outcome == FulfillmentOutcome.CREATED and result.is_synced
    (sent,) = shopify.mutations("FulfillmentCreate")
    assert sent["fulfillment"] == {
        "notifyCustomer": True,
        "trackingInfo": {"number": UPS.number, "company": "UPS", "url": UPS.url},
        "lineItemsByFulfillmentOrder": [
            {
                "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/71",
                "fulfillmentOrderLineItems": [
                    {"id": "gid://shopify/FulfillmentOrderLineItem/711", "quantity": 1},
                    {"id": "gid://shopify/FulfillmentOrderLineItem/712", "quantity": 2},
                ],
            }
        ],
    }
    assert result.fulfillment_id == shopify.orders["gid://shopify/Order/1001"].fulfillments[0]["id"]


def test_part_of_a_line_quantity_is_fulfilled_alone(
    client: AdminClient, shopify: FakeShopify
) -> None:
    three_item_order(shopify)
    create_fulfillment(client, SHOP, "1001", [("12", 1)], ("TRACK-1", "DHL", ""), False)
    (sent,) = shopify.mutations("FulfillmentCreate")
    lines = sent["fulfillment"]["lineItemsByFulfillmentOrder"][0]["fulfillmentOrderLineItems"]
    assert lines == [{"id": "gid://shopify/FulfillmentOrderLineItem/712", "quantity": 1}]
    assert sent["fulfillment"]["trackingInfo"] == {"number": "TRACK-1", "company": "DHL"}


def test_items_spread_over_fulfillment_orders_become_several_entries(
    client: AdminClient, shopify: FakeShopify
) -> None:
    shopify.add_order(
        FakeOrder(
            1002,
            [line_item(21), line_item(22)],
            [fulfillment_order(81, [(811, 21, 1)]), fulfillment_order(82, [(821, 22, 1)])],
        )
    )

    result = create_fulfillment(client, SHOP, "1002", [("21", 1), ("22", 1)], UPS, False)

    assert result.outcome == FulfillmentOutcome.CREATED
    (sent,) = shopify.mutations("FulfillmentCreate")
    groups = sent["fulfillment"]["lineItemsByFulfillmentOrder"]
    assert [g["fulfillmentOrderId"] for g in groups] == [
        "gid://shopify/FulfillmentOrder/81",
        "gid://shopify/FulfillmentOrder/82",
    ]


def test_repeated_shipment_creates_no_second_fulfillment(
    client: AdminClient, shopify: FakeShopify
) -> None:
    three_item_order(shopify)
    first = create_fulfillment(client, SHOP, "1001", [("11", 1), ("12", 2)], UPS, True)

    again = create_fulfillment(client, SHOP, "1001", [("11", 1), ("12", 2)], UPS, True)
    remembered = create_fulfillment(
        client, SHOP, "1001", [("11", 1)], ("OTHER", "", ""), True, first.fulfillment_id
    )

    assert again.outcome == FulfillmentOutcome.ALREADY_EXISTS
    assert again.fulfillment_id == first.fulfillment_id
    assert remembered.outcome == FulfillmentOutcome.ALREADY_EXISTS
    assert len(shopify.mutations("FulfillmentCreate")) == 1
    assert len(shopify.orders["gid://shopify/Order/1001"].fulfillments) == 1


def test_no_fulfillment_orders_yet_is_not_ready(client: AdminClient, shopify: FakeShopify) -> None:
    shopify.add_order(FakeOrder(1003, [line_item(31)], []))
    result = create_fulfillment(client, SHOP, "1003", [("31", 1)], UPS, True)
    assert result.outcome == FulfillmentOutcome.NOT_READY and result.should_retry
    assert shopify.mutations("FulfillmentCreate") == []


def test_on_hold_and_scheduled_are_not_ready(client: AdminClient, shopify: FakeShopify) -> None:
    three_item_order(shopify, status="ON_HOLD")
    result = create_fulfillment(client, SHOP, "1001", [("11", 1)], UPS, True)
    assert result.outcome == FulfillmentOutcome.NOT_READY
    assert "ON_HOLD" in result.reason
    assert shopify.mutations("FulfillmentCreate") == []


def test_fulfilled_by_someone_else_is_closed_elsewhere(
    client: AdminClient, shopify: FakeShopify
) -> None:
    order = three_item_order(shopify)
    create_fulfillment(client, SHOP, "1001", [("11", 1)], ("MERCHANT-1", "USPS", ""), False)
    assert order.fulfillment_orders[0]["status"] == "IN_PROGRESS"

    result = create_fulfillment(client, SHOP, "1001", [("11", 1)], UPS, True)

    assert result.outcome == FulfillmentOutcome.CLOSED_ELSEWHERE
    assert not result.is_synced and not result.should_retry
    assert len(shopify.mutations("FulfillmentCreate")) == 1


def test_closed_fulfillment_order_is_closed_elsewhere(
    client: AdminClient, shopify: FakeShopify
) -> None:
    three_item_order(shopify, status="CLOSED")
    result = create_fulfillment(client, SHOP, "1001", [("13", 1)], UPS, True)
    assert result.outcome == FulfillmentOutcome.CLOSED_ELSEWHERE
    assert "CLOSED" in result.reason


def test_unknown_order_is_rejected_not_raised(client: AdminClient) -> None:
    result = create_fulfillment(client, SHOP, "999", [("1", 1)], UPS, True)
    assert result.outcome == FulfillmentOutcome.REJECTED


def test_tracking_update(client: AdminClient, shopify: FakeShopify) -> None:
    three_item_order(shopify)
    created = create_fulfillment(client, SHOP, "1001", [("11", 1)], UPS, True)
    assert created.fulfillment_id

    new = Tracking("9400100000000000000000", "USPS", "")
    result = update_tracking(client, SHOP, created.fulfillment_id, new, notify=False)

    assert result.outcome == FulfillmentOutcome.UPDATED
    (sent,) = shopify.mutations("FulfillmentTrackingInfoUpdate")
    assert sent == {
        "fulfillmentId": created.fulfillment_id,
        "trackingInfoInput": {"number": new.number, "company": "USPS"},
        "notifyCustomer": False,
    }


def test_tracking_update_of_unknown_fulfillment_is_rejected(client: AdminClient) -> None:
    result = update_tracking(client, SHOP, "12345", UPS, notify=False)
    assert result.outcome == FulfillmentOutcome.REJECTED
    assert "does not exist" in result.reason


def test_mirror_stage_sets_metafield_and_swaps_the_production_tag(
    client: AdminClient, shopify: FakeShopify
) -> None:
    order = three_item_order(shopify)
    order.tags.extend(["vip", "production:submitted"])

    mirror_stage(client, SHOP, "1001", "in_production")
    mirror_stage(client, SHOP, "1001", "in_production")

    assert order.metafields == {"integrator.production_stage": "in_production"}
    assert order.tags == ["vip", "production:in_production"]
    assert len(shopify.mutations("TagsAdd")) == 1
    assert len(shopify.mutations("TagsRemove")) == 1


def test_lost_answer_to_fulfillment_create_is_not_resent_and_the_retry_finds_it(
    client: AdminClient, shopify: FakeShopify
) -> None:
    three_item_order(shopify)
    shopify.calls.clear()

    # the state query goes through; the mutation is carried out but its answer is lost
    original = shopify._op_fulfillment_create

    def create_then_lose(variables: dict) -> dict:  # type: ignore[type-arg]
        shopify.lose_answers = 1
        return original(variables)

    shopify._op_fulfillment_create = create_then_lose  # type: ignore[method-assign]
    with pytest.raises(ShopifyUnavailable):
        create_fulfillment(client, SHOP, "1001", [("11", 1)], UPS, True)
    shopify._op_fulfillment_create = original  # type: ignore[method-assign]

    retried = create_fulfillment(client, SHOP, "1001", [("11", 1)], UPS, True)

    assert retried.outcome == FulfillmentOutcome.ALREADY_EXISTS
    assert len(shopify.mutations("FulfillmentCreate")) == 1
    assert len(shopify.orders["gid://shopify/Order/1001"].fulfillments) == 1


def test_nothing_to_fulfil_is_rejected_without_calling_shopify(
    client: AdminClient, shopify: FakeShopify
) -> None:
    result = create_fulfillment(client, SHOP, "1001", [("11", 0)], UPS, True)
    assert result.outcome == FulfillmentOutcome.REJECTED
    assert shopify.calls == []
