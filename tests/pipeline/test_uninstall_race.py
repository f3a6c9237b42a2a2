"""After app/uninstalled, a process still holding the old token meets Shopify's 401: the shop
must stay uninstalled, not be saved back as active (it would be served again)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from integrator.db.models import Job, Shop
from integrator.db.shop_tokens import SqlShopTokenStore
from integrator.sandbox.shopify import SandboxApp
from integrator.sandbox.stack import CLIENT_ID, CLIENT_SECRET, Stack
from integrator.shopify.client import AdminClient
from integrator.shopify.errors import ShopifyAuthError
from integrator.shopify.tokens import (
    ClientCredentialsGrant,
    ShopifyCredentials,
    TokenProvider,
)
from integrator.shopify.transport import build_shopify_http_client

from .conftest import drain


def other_worker(stack: Stack) -> AdminClient:
    """A second process: its own token cache, the same database."""
    http = build_shopify_http_client(
        "http://shopify.sandbox", transport=httpx.WSGITransport(app=SandboxApp(stack.shopify))
    )
    store = stack.container.shopify.tokens.store  # the same table and key, another cache
    assert isinstance(store, SqlShopTokenStore)
    grant = ClientCredentialsGrant(ShopifyCredentials(CLIENT_ID, CLIENT_SECRET), http)
    return AdminClient(TokenProvider(grant, store), http, sleep=lambda _: None)


def shop_row(stack: Stack) -> tuple[str, bool, bool]:
    with stack.db.read() as session:
        row = session.scalars(select(Shop).where(Shop.domain == stack.options.shop)).one()
        return row.status, row.uninstalled_at is not None, row.access_token_encrypted is not None


def test_a_401_after_uninstall_does_not_bring_the_shop_back(stack: Stack) -> None:
    worker = other_worker(stack)
    worker.execute(stack.options.shop, "shop_credentials")  # holds a token now
    assert shop_row(stack) == ("active", False, True)

    stack.shopify.uninstall(stack.options.shop)
    payload = stack.shop.shop_payload()
    assert stack.send_topic("app/uninstalled", payload).statuses == [200]
    drain(stack)
    assert shop_row(stack) == ("uninstalled", True, False)

    with pytest.raises(ShopifyAuthError):
        worker.execute(stack.options.shop, "shop_credentials")  # 401, then no new grant

    assert shop_row(stack) == ("uninstalled", True, False)
    # and the shop's deliveries cause no work
    order = stack.shop.create_order([])
    assert stack.send_webhook("orders/paid", order).statuses == [200]
    with stack.db.read() as session:
        assert session.scalars(select(Job.kind).where(Job.status == "queued")).all() == []


def test_a_reinstalled_single_store_shop_is_served_again(stack: Stack) -> None:
    worker = other_worker(stack)
    worker.execute(stack.options.shop, "shop_credentials")
    stack.shopify.uninstall(stack.options.shop)
    assert stack.send_topic("app/uninstalled", stack.shop.shop_payload()).statuses == [200]
    drain(stack)

    stack.shopify.reinstall(stack.options.shop)
    worker.execute(stack.options.shop, "shop_credentials")  # a grant after the uninstall

    assert shop_row(stack) == ("active", False, True)
