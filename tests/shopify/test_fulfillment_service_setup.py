"""`integrator shopify setup --mode` and `integrator shopify stock-catalog` against sandbox
Shopify: our fulfillment service made once, the mode remembered, the catalog's variants (and
only those) stocked at our location, a dry run that changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from integrator.cli import shopify_setup
from integrator.db.database import Database
from integrator.pipeline.shop_settings import connection_of
from integrator.sandbox.shopify import SandboxApp, SandboxShopify, Shop, VariantSpec
from integrator.sandbox.shopify.sandbox import DEFAULT_SCOPES
from integrator.sandbox.stack import DEMO_CONFIG_DIR
from integrator.shopify import connection
from integrator.shopify.topics import FULFILLMENT_SERVICE_TOPICS
from integrator.store_config.store import StoreConfig

SHOP = "pod-store.myshopify.com"
SERVICE = "Print on demand (integrator)"


@pytest.fixture
def sandbox() -> SandboxShopify:
    return SandboxShopify()


@pytest.fixture
def shop(sandbox: SandboxShopify, catalog: StoreConfig) -> Shop:
    created = sandbox.create_shop(SHOP, client_id="cid", client_secret="client-secret")
    for entry in catalog.catalog.entries:
        if entry.sku:
            created.add_product(entry.title or entry.sku, variants=[VariantSpec(entry.sku)])
    created.add_product("The merchant's own candle", variants=[VariantSpec("CANDLE-OWN")])
    return created


@pytest.fixture
def catalog() -> StoreConfig:
    from integrator.bootstrap import StoreConfigs
    from integrator.settings import load_settings

    settings = load_settings({"INTEGRATOR_CONFIG_DIR": str(DEMO_CONFIG_DIR)})
    return StoreConfigs.load(settings, _accounts()).for_shop(SHOP)


def _accounts() -> dict[str, str]:
    from integrator.sandbox.stack import sandbox_process_environment

    return sandbox_process_environment()


@pytest.fixture
def run(
    sandbox: SandboxShopify, shop: Shop, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> Iterator[Any]:
    real_builder = connection.build_admin_client

    def to_sandbox(settings, store, **kwargs):  # type: ignore[no-untyped-def]
        transport = httpx.WSGITransport(app=SandboxApp(sandbox))
        return real_builder(settings, store, transport=transport, **kwargs)

    monkeypatch.setattr(shopify_setup, "build_admin_client", to_sandbox)
    env = {
        "SHOPIFY_SHOP": SHOP,
        "SHOPIFY_CLIENT_ID": "cid",
        "SHOPIFY_CLIENT_SECRET": "client-secret",
        "SHOPIFY_ADMIN_URL": "http://shopify.sandbox",
        "PUBLIC_URL": "https://integrator.example.com",
        "DATABASE_URL": database_url,
        "INTEGRATOR_CONFIG_DIR": str(DEMO_CONFIG_DIR),
        **_accounts(),
    }

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(shopify_setup.shopify, list(args), env=env)

    yield invoke


def stored(database_url: str) -> Any:
    db = Database.from_url(database_url)
    try:
        return connection_of(db, SHOP)
    finally:
        db.dispose()


def test_setup_registers_one_service_and_remembers_the_mode(
    run: Any, shop: Shop, database_url: str
) -> None:
    first = run("setup", "--mode", "fulfillment-service")
    second = run("setup")

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    services = shop.all_of("FulfillmentService")
    assert [(s["serviceName"], s["callbackUrl"], s["trackingSupport"]) for s in services] == [
        (SERVICE, "https://integrator.example.com/shopify/fulfillment_service", True)
    ]
    location = services[0]["location"]
    assert location["name"] == SERVICE
    assert f"fulfillment service {SERVICE!r} (location {location['id']}): created" in first.output
    assert "): ok" in second.output  # found again by name: no duplicate, no change
    connection_row = stored(database_url)
    assert connection_row.fulfillment_mode == "fulfillment-service"
    assert connection_row.fulfillment_location_id == location["id"]
    topics = {s["topic"] for s in shop.all_of("WebhookSubscription")}
    assert {t.replace("/", "_").upper() for t in FULFILLMENT_SERVICE_TOPICS} <= topics


def test_merchant_managed_keeps_todays_setup(run: Any, shop: Shop, database_url: str) -> None:
    result = run("setup", "--mode", "merchant-managed")

    assert result.exit_code == 0, result.output
    assert shop.all_of("FulfillmentService") == []
    assert stored(database_url).fulfillment_mode == "merchant-managed"
    topics = {s["topic"] for s in shop.all_of("WebhookSubscription")}
    assert "FULFILLMENT_ORDERS_FULFILLMENT_REQUEST_SUBMITTED" not in topics


def test_missing_fulfillment_service_scopes_are_named(
    sandbox: SandboxShopify, run: Any, shop: Shop
) -> None:
    shop.scopes = tuple(s for s in DEFAULT_SCOPES if "inventory" not in s)

    result = run("setup", "--mode", "fulfillment-service")

    assert result.exit_code == 1
    assert "MISSING scopes for fulfillment-service: write_inventory" in result.output
    assert shop.all_of("FulfillmentService") == []


def test_stock_catalog_dry_run_changes_nothing_then_stocks_only_catalog_variants(
    run: Any, shop: Shop, catalog: StoreConfig
) -> None:
    assert run("setup", "--mode", "fulfillment-service").exit_code == 0
    skus = sorted({entry.sku for entry in catalog.catalog.entries if entry.sku})
    before = {sku: shop.stocked_at(sku) for sku in [*skus, "CANDLE-OWN"]}

    dry = run("stock-catalog", "--dry-run")
    after_dry = {sku: shop.stocked_at(sku) for sku in [*skus, "CANDLE-OWN"]}
    real = run("stock-catalog")
    again = run("stock-catalog")

    assert dry.exit_code == 0, dry.output
    assert after_dry == before
    assert f"would stock {skus[0]} " in dry.output
    assert "(stocked only at Shop location)" in dry.output
    assert f"would stock {len(skus)} variant(s); {len(skus)} were stocked only" in dry.output
    assert real.exit_code == 0, real.output
    assert all(shop.stocked_at(sku) == ["Shop location", SERVICE] for sku in skus)
    assert shop.stocked_at("CANDLE-OWN") == ["Shop location"]
    assert f"stocked {len(skus)} variant(s)" in real.output
    assert "stocked 0 variant(s)" in again.output
    assert f"ok {skus[0]}: already stocked at our location" in again.output


def test_stock_catalog_needs_fulfillment_service_mode(run: Any) -> None:
    result = run("stock-catalog")

    assert result.exit_code == 1
    assert "setup --mode fulfillment-service" in result.output
