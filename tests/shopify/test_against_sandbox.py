"""The client side against the sandbox Shopify, in-process through httpx's WSGI transport.

The sandbox validates every document against the schema, prices it with Shopify's published
cost rules and throttles from a leaky bucket on the same fake clock the client sleeps on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import integrator.sandbox.shopify as sandbox_shopify
from integrator.shopify.client import AdminClient
from integrator.shopify.enrichment import fetch_order
from integrator.shopify.fulfillment import (
    FulfillmentOutcome,
    MemoryJournal,
    ShipmentToFulfil,
    Tracking,
    mirror_stage,
    sync_fulfillment,
)
from integrator.shopify.setup import SubscriptionState, ensure_webhook_subscriptions
from integrator.shopify.tokens import (
    ClientCredentialsGrant,
    InMemoryShopTokenStore,
    ShopifyCredentials,
    TokenProvider,
)
from integrator.shopify.transport import build_shopify_http_client
from tests.shopify.fake_shopify import FakeClock

SHOP = "demo.myshopify.com"
UPS = Tracking("1Z001985YW99744790", "UPS", "https://www.ups.com/track?tracknum=1Z001985YW99744790")


def fulfil(client: AdminClient, shipment: ShipmentToFulfil, journal: MemoryJournal) -> Any:
    """One run of the tracking sync, with the memory a previous run left."""
    return sync_fulfillment(client, SHOP, journal.replay(shipment), True, journal)


@dataclass
class Sandbox:
    sandbox: Any
    shop: Any
    client: AdminClient
    clock: FakeClock


def connect(bucket_size: float, restore_rate: float) -> Iterator[Sandbox]:
    clock = FakeClock()
    sandbox = sandbox_shopify.SandboxShopify(sandbox_shopify.SandboxConfig(clock=clock))
    shop = sandbox.create_shop(SHOP, bucket_size=bucket_size, restore_rate=restore_rate)
    transport = httpx.WSGITransport(app=sandbox_shopify.SandboxApp(sandbox))
    http = build_shopify_http_client("http://sandbox.test", transport=transport)
    credentials = ShopifyCredentials("sandbox-client-id", "sandbox-client-secret")
    tokens = TokenProvider(ClientCredentialsGrant(credentials, http), InMemoryShopTokenStore())
    yield Sandbox(sandbox, shop, AdminClient(tokens, http, sleep=clock.sleep, clock=clock), clock)
    http.close()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    yield from connect(bucket_size=1000, restore_rate=100)


def three_line_order(shop: Any) -> Any:
    for index in range(3):
        shop.add_product(
            f"Tee {index}",
            product_type="T-Shirt",
            tags=["decoration:dtg"],
            metafields={"custom.decoration_method": "dtg"},
            variants=[sandbox_shopify.VariantSpec(f"TEE-{index}", {"Size": "M"})],
        )
    lines = [sandbox_shopify.LineSpec("TEE-0"), sandbox_shopify.LineSpec("TEE-1", quantity=2)]
    return shop.create_order([*lines, sandbox_shopify.LineSpec("TEE-2")])


def test_enrichment_reads_the_sandbox_order(sandbox: Sandbox) -> None:
    created = three_line_order(sandbox.shop)

    order = fetch_order(sandbox.client, SHOP, created["id"], ["custom.decoration_method"])

    assert [line.sku for line in order.lines] == ["TEE-0", "TEE-1", "TEE-2"]
    assert [line.quantity for line in order.lines] == [1, 2, 1]
    assert order.lines[0].metafields == {"custom.decoration_method": "dtg"}
    assert order.lines[0].variant_options == {"Size": "M"}
    assert order.shipping_address is not None and order.shipping_address.country_code == "DE"
    assert len(order.fulfillment_orders[0].lines) == 3


def test_enrichment_pages_through_lines_beyond_its_small_first_page(sandbox: Sandbox) -> None:
    sandbox.shop.add_product(
        "Tee", product_type="T-Shirt", variants=[sandbox_shopify.VariantSpec("TEE-M")]
    )
    created = sandbox.shop.create_order(
        [sandbox_shopify.LineSpec("TEE-M", quantity=index + 1) for index in range(27)]
    )

    order = fetch_order(sandbox.client, SHOP, created["id"], ["custom.decoration_method"])

    assert [line.quantity for line in order.lines] == list(range(1, 28))
    ((fo_lines),) = [fo.lines for fo in order.fulfillment_orders]
    assert [line.remaining_quantity for line in fo_lines] == list(range(1, 28))
    # the first query asked for 5 lines: its requested cost stays far under the bucket
    assert sandbox.client.throttles.expected_cost("order_for_routing") <= 100


def test_a_known_line_count_sizes_the_first_page(sandbox: Sandbox) -> None:
    sandbox.shop.add_product(
        "Tee", product_type="T-Shirt", variants=[sandbox_shopify.VariantSpec("TEE-M")]
    )
    created = sandbox.shop.create_order([sandbox_shopify.LineSpec("TEE-M")])

    order = fetch_order(sandbox.client, SHOP, created["id"], ["custom.decoration_method"], 1)

    assert len(order.lines) == 1 and len(order.fulfillment_orders) == 1
    assert sandbox.client.throttles.expected_cost("order_for_routing") <= 30


def test_partial_fulfillment_then_a_repeat_creates_one_fulfillment(sandbox: Sandbox) -> None:
    created = three_line_order(sandbox.shop)
    order = fetch_order(sandbox.client, SHOP, created["id"])
    shipped = tuple((line.line_item_id, line.quantity) for line in order.lines[:2])
    journal = MemoryJournal()

    first = fulfil(sandbox.client, ShipmentToFulfil(order.order_id, shipped, UPS), journal)
    again = fulfil(sandbox.client, ShipmentToFulfil(order.order_id, shipped, UPS), journal)

    assert first.outcome == FulfillmentOutcome.CREATED
    assert again.outcome == FulfillmentOutcome.ALREADY_EXISTS
    assert [made.id for made in journal.fulfillments] == [first.fulfillment_id]
    (fulfillment,) = sandbox.shop.fulfillments_of(created["id"])
    assert fulfillment["id"] == first.fulfillment_id
    after = fetch_order(sandbox.client, SHOP, created["id"])
    remaining = {
        line.line_item_id: line.remaining_quantity for line in after.fulfillment_orders[0].lines
    }
    assert remaining == {
        order.lines[0].line_item_id: 0,
        order.lines[1].line_item_id: 0,
        order.lines[2].line_item_id: 1,
    }


def test_on_hold_fulfillment_order_is_not_ready(sandbox: Sandbox) -> None:
    created = three_line_order(sandbox.shop)
    order = fetch_order(sandbox.client, SHOP, created["id"])
    sandbox.shop.set_fulfillment_order_status(order.fulfillment_orders[0].id, "ON_HOLD")

    result = fulfil(
        sandbox.client,
        ShipmentToFulfil(order.order_id, ((order.lines[0].line_item_id, 1),), UPS),
        MemoryJournal(),
    )

    assert result.outcome == FulfillmentOutcome.NOT_READY
    assert sandbox.shop.fulfillments_of(created["id"]) == []


def test_stage_mirror_and_webhook_setup(sandbox: Sandbox) -> None:
    created = three_line_order(sandbox.shop)
    mirror_stage(sandbox.client, SHOP, created["id"], "submitted")
    mirror_stage(sandbox.client, SHOP, created["id"], "in_production", "submitted")
    tags = sandbox.shop.order(created["id"])["tags"]
    assert [tag for tag in tags if tag.startswith("production:")] == ["production:in_production"]

    url = "https://integrator.example.com/webhooks/shopify"
    first = ensure_webhook_subscriptions(sandbox.client, SHOP, url, ["orders/paid"])
    second = ensure_webhook_subscriptions(sandbox.client, SHOP, url, ["orders/paid"])
    assert first == [("orders/paid", SubscriptionState.CREATED)]
    assert second == [("orders/paid", SubscriptionState.EXISTING)]


def test_client_waits_on_a_50_point_bucket_and_is_never_throttled() -> None:
    for sandbox in connect(bucket_size=50, restore_rate=10):
        for _ in range(12):
            sandbox.client.execute(
                SHOP, "orders_updated_since", {"query": "updated_at:>='2026-01-01'"}
            )
        assert sandbox.sandbox.throttled == 0
        assert sandbox.client.throttled_responses == 0
        assert sandbox.client.throttle_waits >= 10
        assert sum(sandbox.clock.slept) > 0


def test_threads_sharing_a_client_sync_each_shipment_exactly_once(sandbox: Sandbox) -> None:
    created = [three_line_order(sandbox.shop) for _ in range(12)]
    orders = [fetch_order(sandbox.client, SHOP, c["id"]) for c in created]
    client = sandbox.client

    def sync(batch: list[Any]) -> None:
        for order in batch:
            items = ((order.lines[0].line_item_id, 1),)
            shipment = ShipmentToFulfil(order.order_id, items, Tracking(f"T-{order.order_id}"))
            journal = MemoryJournal()
            for _ in range(2):  # the second run is a retried job
                result = fulfil(client, shipment, journal)
                assert result.is_synced, result

    threads = [threading.Thread(target=sync, args=(orders[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [len(sandbox.shop.fulfillments_of(c["id"])) for c in created] == [1] * 12
