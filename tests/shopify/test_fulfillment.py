"""Tracking sync against sandbox Shopify: exactly the shipped lines, once, and "done" decided
by what our fulfillments hold (lines and quantities), never by a tracking number alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from integrator.domain.model import FulfillmentOrderLineRef
from integrator.sandbox.shopify import (
    FulfillmentOrderSpec,
    LineSpec,
    SandboxApp,
    SandboxConfig,
    SandboxShopify,
    Shop,
    VariantSpec,
)
from integrator.shopify.client import AdminClient
from integrator.shopify.enrichment import fetch_order
from integrator.shopify.errors import ShopifyUnavailable
from integrator.shopify.fulfillment import (
    FulfillmentOutcome,
    FulfillmentResult,
    MemoryJournal,
    ShipmentToFulfil,
    Tracking,
    mirror_stage,
    sync_fulfillment,
    update_tracking,
)
from integrator.shopify.tokens import (
    ClientCredentialsGrant,
    InMemoryShopTokenStore,
    ShopifyCredentials,
    TokenProvider,
)
from integrator.shopify.transport import build_shopify_http_client
from tests.shopify.fake_shopify import OPERATION, FakeClock

SHOP = "fulfil.myshopify.com"
UPS = Tracking("1Z001985YW99744790", "UPS", "https://www.ups.com/track?tracknum=1Z001985YW99744790")


@dataclass
class Recorder(httpx.BaseTransport):
    """The sandbox behind a transport that records operation names and can lose answers."""

    inner: httpx.BaseTransport
    operations: list[str] = field(default_factory=list)
    lose_next_create: bool = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        query = json.loads(request.content).get("query", "") if request.content else ""
        match = OPERATION.search(query)
        name = match.group(1) if match else ""
        if name:
            self.operations.append(name)
        response = self.inner.handle_request(request)
        if self.lose_next_create and name == "FulfillmentCreate":
            self.lose_next_create = False
            response.read()
            return httpx.Response(502)  # carried out, answer lost on the way back
        return response


@dataclass
class World:
    shop: Shop
    client: AdminClient
    wire: Recorder


@pytest.fixture
def world() -> Iterator[World]:
    clock = FakeClock()
    sandbox = SandboxShopify(SandboxConfig(clock=clock))
    shop = sandbox.create_shop(SHOP, client_id="cid", client_secret="secret")
    for sku in ("TEE", "MUG", "HAT"):
        shop.add_product(sku.title(), product_type="T-Shirt", variants=[VariantSpec(sku)])
    wire = Recorder(httpx.WSGITransport(app=SandboxApp(sandbox)))
    http = build_shopify_http_client("http://sandbox.test", transport=wire)
    tokens = TokenProvider(
        ClientCredentialsGrant(ShopifyCredentials("cid", "secret"), http), InMemoryShopTokenStore()
    )
    yield World(shop, AdminClient(tokens, http, sleep=clock.sleep, clock=clock), wire)
    http.close()


def order_of(world: World, lines: list[LineSpec], **kwargs: Any) -> dict[str, Any]:
    return world.shop.create_order(lines, **kwargs)


def line_ids(order: dict[str, Any]) -> list[str]:
    return [str(line["id"]).rsplit("/", 1)[-1] for line in order["lineItems"]]


def shipment(
    order: dict[str, Any],
    items: list[tuple[str, int]],
    tracking: Tracking = UPS,
    hints: dict[str, tuple[FulfillmentOrderLineRef, ...]] | None = None,
) -> ShipmentToFulfil:
    return ShipmentToFulfil(
        order_id=str(order["legacyResourceId"]),
        items=tuple(items),
        tracking=tracking,
        hints=hints or {},
    )


def run(world: World, ship: ShipmentToFulfil, journal: MemoryJournal) -> FulfillmentResult:
    return sync_fulfillment(world.client, SHOP, journal.replay(ship), True, journal)


def fulfilled(world: World, order: dict[str, Any]) -> list[dict[str, int]]:
    return [
        {
            str(item["lineItem"]["id"]).rsplit("/", 1)[-1]: item["quantity"]
            for item in fulfillment["fulfillmentLineItems"]
        }
        for fulfillment in world.shop.fulfillments_of(order["id"])
    ]


def hints_from_enrichment(world: World, order: dict[str, Any]) -> dict[str, Any]:
    enriched = fetch_order(world.client, SHOP, str(order["legacyResourceId"]))
    return {
        fo_line.line_item_id: (
            FulfillmentOrderLineRef(fo.id, fo_line.id, fo.location_id, fo_line.remaining_quantity),
        )
        for fo in enriched.fulfillment_orders
        for fo_line in fo.lines
    }


# --- exactly the shipped lines -----------------------------------------------------------------


def test_partial_fulfillment_sends_exactly_the_shipped_lines_and_quantities(world: World) -> None:
    order = order_of(world, [LineSpec("TEE"), LineSpec("MUG", 3), LineSpec("HAT")])
    tee, mug, _hat = line_ids(order)
    journal = MemoryJournal()

    result = run(world, shipment(order, [(tee, 1), (mug, 2)]), journal)

    assert result.outcome == FulfillmentOutcome.CREATED and result.is_synced
    assert fulfilled(world, order) == [{tee: 1, mug: 2}]
    (made,) = journal.fulfillments
    assert dict(made.items) == {tee: 1, mug: 2}
    assert made.id == world.shop.fulfillments_of(order["id"])[0]["id"]
    (info,) = world.shop.fulfillments_of(order["id"])[0]["trackingInfo"]
    assert (info["number"], info["company"]) == (UPS.number, "UPS")


def test_items_at_two_locations_make_one_fulfillment_each_and_both_are_remembered(
    world: World,
) -> None:
    order = order_of(
        world,
        [LineSpec("TEE"), LineSpec("MUG")],
        fulfillment_orders=[
            FulfillmentOrderSpec(lines=[0]),
            FulfillmentOrderSpec(lines=[1], location_name="Second warehouse"),
        ],
    )
    tee, mug = line_ids(order)
    journal = MemoryJournal()

    result = run(world, shipment(order, [(tee, 1), (mug, 1)]), journal)

    assert result.outcome == FulfillmentOutcome.CREATED
    assert sorted(fulfilled(world, order), key=len) == [{tee: 1}, {mug: 1}]
    assert [dict(m.items) for m in journal.fulfillments] == [{tee: 1}, {mug: 1}]


def test_a_repeated_sync_with_its_memory_creates_nothing(world: World) -> None:
    order = order_of(world, [LineSpec("TEE"), LineSpec("MUG")])
    tee, mug = line_ids(order)
    journal = MemoryJournal()
    first = run(world, shipment(order, [(tee, 1), (mug, 1)]), journal)

    again = run(world, shipment(order, [(tee, 1), (mug, 1)]), journal)

    assert first.outcome == FulfillmentOutcome.CREATED
    assert again.outcome == FulfillmentOutcome.ALREADY_EXISTS and again.made == ()
    assert len(world.shop.fulfillments_of(order["id"])) == 1


def test_two_shipments_with_one_tracking_number_are_two_fulfillments(world: World) -> None:
    # today's bug: the second shipment's tracking number was taken as proof it was done
    order = order_of(world, [LineSpec("TEE"), LineSpec("MUG")])
    tee, mug = line_ids(order)
    first, second = MemoryJournal(), MemoryJournal()

    run(world, shipment(order, [(tee, 1)]), first)
    result = sync_fulfillment(
        world.client,
        SHOP,
        ShipmentToFulfil(
            str(order["legacyResourceId"]),
            ((mug, 1),),
            UPS,
            others=frozenset(m.id for m in first.fulfillments),
        ),
        True,
        second,
    )

    assert result.outcome == FulfillmentOutcome.CREATED
    assert fulfilled(world, order) == [{tee: 1}, {mug: 1}]


def test_a_second_location_that_failed_is_retried_alone(world: World) -> None:
    # today's bug: the first fulfillment's tracking number marked the shipment synced
    order = order_of(
        world,
        [LineSpec("TEE"), LineSpec("MUG")],
        fulfillment_orders=[
            FulfillmentOrderSpec(lines=[0]),
            FulfillmentOrderSpec(lines=[1], location_name="Second warehouse"),
        ],
    )
    tee, mug = line_ids(order)
    mug_fo = order["fulfillmentOrders"][1]["id"]
    world.shop.hold_fulfillment_order(mug_fo, "OTHER", "checking stock")
    journal = MemoryJournal()

    held = run(world, shipment(order, [(tee, 1), (mug, 1)]), journal)
    assert held.outcome == FulfillmentOutcome.NOT_READY and fulfilled(world, order) == []

    world.shop.release_hold(mug_fo)
    world.shop.fulfil(order["fulfillmentOrders"][0]["id"])  # the merchant shipped the tee
    mixed = run(world, shipment(order, [(tee, 1), (mug, 1)]), journal)
    assert mixed.outcome == FulfillmentOutcome.CLOSED_ELSEWHERE


def test_a_location_refused_midway_keeps_the_other_and_the_retry_sends_only_the_rest(
    world: World,
) -> None:
    order = order_of(
        world,
        [LineSpec("TEE"), LineSpec("MUG")],
        fulfillment_orders=[
            FulfillmentOrderSpec(lines=[0]),
            FulfillmentOrderSpec(lines=[1], location_name="Second warehouse"),
        ],
    )
    tee, mug = line_ids(order)
    hints = hints_from_enrichment(world, order)
    mug_fo = order["fulfillmentOrders"][1]["id"]
    # between enrichment and the sync, the merchant put the mug's FO on hold
    world.shop.hold_fulfillment_order(mug_fo, "OTHER")
    journal = MemoryJournal()

    first = run(world, shipment(order, [(tee, 1), (mug, 1)], hints=hints), journal)

    assert first.outcome == FulfillmentOutcome.NOT_READY
    assert [dict(m.items) for m in journal.fulfillments] == [{tee: 1}]
    world.shop.release_hold(mug_fo)
    second = run(world, shipment(order, [(tee, 1), (mug, 1)], hints=hints), journal)
    assert second.outcome == FulfillmentOutcome.CREATED
    assert fulfilled(world, order) == [{tee: 1}, {mug: 1}]


def test_hints_from_enrichment_spare_the_read_of_the_order(world: World) -> None:
    order = order_of(world, [LineSpec("TEE"), LineSpec("MUG")])
    tee, mug = line_ids(order)
    hints = hints_from_enrichment(world, order)
    world.wire.operations.clear()

    result = run(world, shipment(order, [(tee, 1), (mug, 1)], hints=hints), MemoryJournal())

    assert result.outcome == FulfillmentOutcome.CREATED
    assert world.wire.operations == ["FulfillmentCreate"]


def test_stale_hints_are_refused_then_the_order_is_read(world: World) -> None:
    order = order_of(world, [LineSpec("TEE", 2)])
    (tee,) = line_ids(order)
    hints = hints_from_enrichment(world, order)
    fo = order["fulfillmentOrders"][0]
    # the FO was moved (split) after routing: its line ids are not the ones we kept
    world.shop.move_fulfillment_order(
        fo["id"], location_name="New warehouse", quantities={fo["lineItems"][0]["id"]: 1}
    )
    world.wire.operations.clear()

    result = run(world, shipment(order, [(tee, 2)], hints=hints), MemoryJournal())

    assert result.outcome == FulfillmentOutcome.CREATED
    assert "OrderFulfillmentOrders" in world.wire.operations
    assert sorted(fulfilled(world, order), key=str) == [{tee: 1}, {tee: 1}]


# --- what Shopify is not ready for, or did without us -----------------------------------------


def test_no_fulfillment_orders_yet_is_not_ready(world: World) -> None:
    order = order_of(world, [LineSpec("TEE")], fulfillment_orders=[])
    result = run(world, shipment(order, [(line_ids(order)[0], 1)]), MemoryJournal())
    assert result.outcome == FulfillmentOutcome.NOT_READY and result.should_retry
    assert world.shop.fulfillments_of(order["id"]) == []


@pytest.mark.parametrize("status", ["ON_HOLD", "SCHEDULED"])
def test_held_and_scheduled_are_not_ready(world: World, status: str) -> None:
    order = order_of(
        world,
        [LineSpec("TEE")],
        fulfillment_orders=[FulfillmentOrderSpec(status=status, fulfill_at="2026-12-24T00:00:00Z")],
    )
    result = run(world, shipment(order, [(line_ids(order)[0], 1)]), MemoryJournal())
    assert result.outcome == FulfillmentOutcome.NOT_READY
    assert status in result.reason
    assert world.shop.fulfillments_of(order["id"]) == []


def test_fulfilled_by_someone_else_is_closed_elsewhere(world: World) -> None:
    order = order_of(world, [LineSpec("TEE"), LineSpec("MUG")])
    tee, _mug = line_ids(order)
    fo = order["fulfillmentOrders"][0]
    world.shop.fulfil(fo["id"], {fo["lineItems"][0]["id"]: 1}, {"number": "MERCHANT-1"})

    result = run(world, shipment(order, [(tee, 1)]), MemoryJournal())

    assert result.outcome == FulfillmentOutcome.CLOSED_ELSEWHERE
    assert not result.is_synced and not result.should_retry
    assert len(world.shop.fulfillments_of(order["id"])) == 1


def test_unknown_order_is_rejected_not_raised(world: World) -> None:
    ghost = ShipmentToFulfil("999", (("1", 1),), UPS)
    result = sync_fulfillment(world.client, SHOP, ghost, True, MemoryJournal())
    assert result.outcome == FulfillmentOutcome.REJECTED and "not found" in result.reason


def test_lost_answer_is_not_resent_and_the_retry_finds_it_by_its_lines(world: World) -> None:
    order = order_of(world, [LineSpec("TEE"), LineSpec("MUG")])
    tee, mug = line_ids(order)
    journal = MemoryJournal()
    world.wire.lose_next_create = True

    with pytest.raises(ShopifyUnavailable):
        run(world, shipment(order, [(tee, 1)]), journal)
    assert journal.uncertain == (order["fulfillmentOrders"][0]["id"],)
    # someone fulfils the mug with the same tracking number: not ours, never adopted
    fo = order["fulfillmentOrders"][0]
    world.shop.fulfil(fo["id"], {fo["lineItems"][1]["id"]: 1}, {"number": UPS.number})

    retried = run(world, shipment(order, [(tee, 1)]), journal)

    assert retried.outcome == FulfillmentOutcome.CREATED
    assert [dict(m.items) for m in journal.fulfillments] == [{tee: 1}]
    assert len(world.shop.fulfillments_of(order["id"])) == 2  # ours and the merchant's
    assert world.shop.counters.fulfillments_by_order[order["id"]] == 1  # one create by us
    assert mug  # the mug's fulfillment stays the merchant's


# --- tracking updates and the stage mirror -----------------------------------------------------


def test_tracking_update(world: World) -> None:
    order = order_of(world, [LineSpec("TEE")])
    journal = MemoryJournal()
    run(world, shipment(order, [(line_ids(order)[0], 1)]), journal)
    (made,) = journal.fulfillments

    new = Tracking("9400100000000000000000", "USPS", "")
    result = update_tracking(world.client, SHOP, made.id, new, notify=False)

    assert result.outcome == FulfillmentOutcome.UPDATED
    (info,) = world.shop.fulfillments_of(order["id"])[0]["trackingInfo"]
    assert (info["number"], info["company"]) == (new.number, "USPS")


def test_tracking_update_of_unknown_fulfillment_is_rejected(world: World) -> None:
    result = update_tracking(world.client, SHOP, "12345", UPS, notify=False)
    assert result.outcome == FulfillmentOutcome.REJECTED
    assert "does not exist" in result.reason


def test_mirror_adds_the_first_stage_tag_with_one_mutation(world: World) -> None:
    order = order_of(world, [LineSpec("TEE")], tags=["vip"])
    world.wire.operations.clear()

    mirror_stage(world.client, SHOP, order["id"], "submitted")

    assert world.shop.order(order["id"])["tags"] == ["vip", "production:submitted"]
    assert world.wire.operations == ["TagsAdd"]  # nothing read, no metafield
    assert world.shop.order(order["id"]).get("metafields", []) == []


def test_mirror_swaps_the_tag_in_one_request_and_keeps_the_merchants(world: World) -> None:
    order = order_of(world, [LineSpec("TEE")], tags=["vip", "production:submitted"])
    world.wire.operations.clear()

    mirror_stage(world.client, SHOP, order["id"], "in_production", "submitted")
    mirror_stage(world.client, SHOP, order["id"], "in_production", "in_production")

    assert world.shop.order(order["id"])["tags"] == ["vip", "production:in_production"]
    assert world.wire.operations == ["StageTagSwap", "StageTagSwap"]


def test_shipping_removes_the_tag_shopify_shows_the_rest(world: World) -> None:
    order = order_of(world, [LineSpec("TEE")], tags=["vip", "production:in_production"])
    never_tagged = order_of(world, [LineSpec("TEE")], tags=["vip"])
    world.wire.operations.clear()

    mirror_stage(world.client, SHOP, order["id"], "shipped", "in_production")
    mirror_stage(world.client, SHOP, never_tagged["id"], "shipped", None)

    assert world.shop.order(order["id"])["tags"] == ["vip"]
    assert world.shop.order(never_tagged["id"])["tags"] == ["vip"]
    assert world.wire.operations == ["TagsRemove"]  # nothing to remove on the other


def test_a_retry_removes_a_tag_its_failed_attempt_left(world: World) -> None:
    # the first attempt added production:routed and died before recording it
    order = order_of(world, [LineSpec("TEE")], tags=["production:routed"])

    mirror_stage(world.client, SHOP, order["id"], "submitted", None, thorough=True)

    assert world.shop.order(order["id"])["tags"] == ["production:submitted"]
