"""Single-store setup: credentials check and only-missing webhook subscriptions; the CLI."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner

from integrator.cli import shopify_setup
from integrator.db.database import Database
from integrator.pipeline.shop_settings import connection_of
from integrator.shopify import connection
from integrator.shopify.client import AdminClient
from integrator.shopify.setup import (
    SubscriptionState,
    check_credentials,
    ensure_webhook_subscriptions,
)
from tests.shopify.conftest import SHOP
from tests.shopify.fake_shopify import FakeShopify

CALLBACK = "https://integrator.example.com/webhooks/shopify"


def test_creates_only_missing_subscriptions(client: AdminClient, shopify: FakeShopify) -> None:
    shopify.subscriptions.append(
        {"id": "gid://shopify/WebhookSubscription/1", "topic": "ORDERS_PAID", "uri": CALLBACK}
    )

    first = ensure_webhook_subscriptions(client, SHOP, CALLBACK, ["orders/paid", "app/uninstalled"])
    second = ensure_webhook_subscriptions(
        client, SHOP, CALLBACK, ["orders/paid", "app/uninstalled"]
    )

    assert first == [
        ("orders/paid", SubscriptionState.EXISTING),
        ("app/uninstalled", SubscriptionState.CREATED),
    ]
    assert second == [
        ("orders/paid", SubscriptionState.EXISTING),
        ("app/uninstalled", SubscriptionState.EXISTING),
    ]
    assert shopify.mutations("WebhookSubscriptionCreate") == [
        {"topic": "APP_UNINSTALLED", "webhookSubscription": {"uri": CALLBACK}}
    ]


def test_check_credentials_names_missing_scopes(client: AdminClient, shopify: FakeShopify) -> None:
    assert check_credentials(client, SHOP).is_complete
    shopify.scopes = ["read_orders", "read_products"]
    check = check_credentials(client, SHOP)
    assert check.missing_scopes == ("write_orders", "write_merchant_managed_fulfillment_orders")
    assert check.domain == SHOP


def test_cli_setup_reports_what_it_did(
    shopify: FakeShopify, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    real_builder = connection.build_admin_client

    def offline_builder(settings, store, **kwargs):  # type: ignore[no-untyped-def]
        return real_builder(settings, store, transport=httpx.MockTransport(shopify), **kwargs)

    monkeypatch.setattr(shopify_setup, "build_admin_client", offline_builder)
    env = {
        "SHOPIFY_SHOP": SHOP,
        "SHOPIFY_CLIENT_ID": "client-id",
        "SHOPIFY_CLIENT_SECRET": "client-secret",
        "SHOPIFY_ADMIN_URL": "http://127.0.0.1:9",
        "DATABASE_URL": database_url,
    }
    runner = CliRunner()

    result = runner.invoke(
        shopify_setup.shopify,
        ["setup", "--callback-url", CALLBACK, "--topic", "orders/paid"],
        env=env,
    )

    assert result.exit_code == 0, result.output
    assert "credentials ok: Demo (demo.myshopify.com)" in result.output
    assert f"webhook orders/paid -> {CALLBACK}: created" in result.output
    assert [r["grant_type"] for r in shopify.token_requests] == ["client_credentials"]
    again = runner.invoke(
        shopify_setup.shopify,
        ["setup", "--callback-url", CALLBACK, "--topic", "orders/paid"],
        env=env,
    )
    assert "already subscribed" in again.output
    # remembered, so that reconciliation can recreate what Shopify deletes
    db = Database.from_url(database_url)
    assert connection_of(db, SHOP).webhook_callback_url == CALLBACK
    db.dispose()


def test_cli_setup_without_a_shop_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPIFY_SHOP", raising=False)
    result = CliRunner().invoke(shopify_setup.shopify, ["setup"], env={"SHOPIFY_SHOP": ""})
    assert result.exit_code == 1
    assert "SHOPIFY_SHOP" in result.output
