"""Fixtures: a sandbox with an injectable clock, one seeded shop, and an in-process client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from integrator.sandbox.shopify import (
    FulfillmentOrderSpec,
    LineSpec,
    SandboxApp,
    SandboxConfig,
    SandboxShopify,
    Shop,
    VariantSpec,
)

SHOP = "pod-demo.myshopify.com"
TOKEN = "shpat_static_test_token"
API = "/admin/api/2026-04/graphql.json"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Admin:
    """A tiny GraphQL caller over the in-process WSGI transport."""

    http: httpx.Client
    token: str = TOKEN

    def post(self, query: str, variables: dict[str, Any] | None = None,
             token: str | None = None) -> httpx.Response:
        headers = {"X-Shopify-Access-Token": self.token if token is None else token}
        return self.http.post(API, json={"query": query, "variables": variables or {}},
                              headers=headers)

    def run(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.post(query, variables)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> SandboxShopify:
    return SandboxShopify(SandboxConfig(clock=clock))


def seed(shop: Shop) -> dict[str, Any]:
    """A shop with two products and a paid order of three lines in one fulfillment order."""
    shop.add_product(
        "Classic Tee", product_type="T-Shirt", vendor="Acme", tags=["decoration:dtg", "cotton"],
        metafields={"custom.decoration_method": "dtg"},
        variants=[VariantSpec("TEE-BLK-M-DTG", {"Color": "Black", "Size": "M"}),
                  VariantSpec("TEE-WHT-L-DTG", {"Color": "White", "Size": "L"})])
    shop.add_product("Dad Hat", product_type="Hat", vendor="Acme", tags=["decoration:embroidery"],
                     variants=[VariantSpec("HAT-NVY-EMB", {"Color": "Navy"})])
    return shop.create_order([
        LineSpec("TEE-BLK-M-DTG", quantity=2, properties={"Decoration": "dtg"}),
        LineSpec("TEE-WHT-L-DTG", quantity=1),
        LineSpec("HAT-NVY-EMB", quantity=1, properties={"Initials": "AL"}),
    ], email="ada@example.com", fulfillment_orders=[FulfillmentOrderSpec()])


@pytest.fixture
def shop(sandbox: SandboxShopify) -> Shop:
    return sandbox.create_shop(SHOP, access_token=TOKEN)


@pytest.fixture
def order(shop: Shop) -> dict[str, Any]:
    return seed(shop)


@pytest.fixture
def http(sandbox: SandboxShopify) -> Iterator[httpx.Client]:
    transport = httpx.WSGITransport(app=SandboxApp(sandbox))
    with httpx.Client(transport=transport, base_url=f"https://{SHOP}") as client:
        yield client


@pytest.fixture
def admin(http: httpx.Client, shop: Shop) -> Admin:
    return Admin(http)
