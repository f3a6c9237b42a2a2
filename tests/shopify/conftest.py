"""Fixtures: an AdminClient wired to FakeShopify through httpx.MockTransport, fake clock."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from integrator.shopify.client import AdminClient, RetryPolicy
from integrator.shopify.tokens import (
    ClientCredentialsGrant,
    InMemoryShopTokenStore,
    ShopifyCredentials,
    TokenProvider,
)
from integrator.shopify.transport import build_shopify_http_client
from tests.shopify.fake_shopify import FakeClock, FakeShopify

SHOP = "demo.myshopify.com"
CREDENTIALS = ShopifyCredentials("client-id", "client-secret")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def shopify(clock: FakeClock) -> FakeShopify:
    return FakeShopify(clock=clock)


@pytest.fixture
def http(shopify: FakeShopify) -> Iterator[httpx.Client]:
    client = build_shopify_http_client(transport=httpx.MockTransport(shopify))
    yield client
    client.close()


@pytest.fixture
def client(http: httpx.Client, clock: FakeClock) -> AdminClient:
    tokens = TokenProvider(ClientCredentialsGrant(CREDENTIALS, http), InMemoryShopTokenStore())
    return AdminClient(
        tokens,
        http,
        retry_policy=RetryPolicy(max_attempts=4, initial_wait=0.1, max_wait=1.0, jitter=0.1),
        sleep=clock.sleep,
        clock=clock,
    )
