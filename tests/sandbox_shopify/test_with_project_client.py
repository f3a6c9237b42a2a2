"""The project's own Shopify client against the sandbox: tokens, enrichment, paced fulfilment."""

from __future__ import annotations

import httpx

from integrator.sandbox.shopify import (
    LineSpec,
    SandboxApp,
    SandboxConfig,
    SandboxShopify,
    VariantSpec,
)
from integrator.shopify.client import AdminClient
from integrator.shopify.enrichment import fetch_order
from integrator.shopify.fulfillment import (
    MemoryJournal,
    ShipmentToFulfil,
    Tracking,
    sync_fulfillment,
)
from integrator.shopify.tokens import (
    ClientCredentialsGrant,
    InMemoryShopTokenStore,
    ShopifyCredentials,
    TokenProvider,
)
from integrator.shopify.transport import build_shopify_http_client
from tests.sandbox_shopify.conftest import FakeClock

SHOP = "client-demo.myshopify.com"


class SleepingClock(FakeClock):
    def sleep(self, seconds: float) -> None:
        self.advance(seconds)


def test_client_enriches_and_fulfils_two_of_three_items_through_a_50_point_bucket() -> None:
    clock = SleepingClock()
    sandbox = SandboxShopify(SandboxConfig(bucket_size=50, restore_rate=50, clock=clock))
    shop = sandbox.create_shop(SHOP, client_id="cid", client_secret="secret")
    shop.add_product("Tee", product_type="T-Shirt", metafields={"custom.decoration_method": "dtg"},
                     variants=[VariantSpec("TEE-M", {"Size": "M"})])
    order = shop.create_order([LineSpec("TEE-M", 2), LineSpec("MUG"), LineSpec("HAT")])
    http = build_shopify_http_client(
        "http://127.0.0.1:9", transport=httpx.WSGITransport(app=SandboxApp(sandbox)))
    tokens = TokenProvider(ClientCredentialsGrant(ShopifyCredentials("cid", "secret"), http),
                           InMemoryShopTokenStore())
    client = AdminClient(tokens, http, sleep=clock.sleep, clock=clock)

    enriched = fetch_order(client, SHOP, order["legacyResourceId"], ["custom.decoration_method"])
    items = tuple((line.line_item_id, line.quantity) for line in enriched.lines[:2])
    shipment = ShipmentToFulfil(order["legacyResourceId"], items,
                                Tracking("1Z1", "UPS", "https://ups.example/1Z1"))
    journal = MemoryJournal()
    results = [sync_fulfillment(client, SHOP, journal.replay(shipment), False, journal)
               for _ in range(3)]

    assert enriched.lines[0].metafields == {"custom.decoration_method": "dtg"}
    assert [r.outcome.value for r in results] == ["created", "already_exists", "already_exists"]
    assert len(journal.fulfillments) == 1
    assert [line["remainingQuantity"] for line in order["fulfillmentOrders"][0]["lineItems"]] == [
        0, 0, 1]
    assert shop.counters.fulfillments_by_order[order["id"]] == 1
