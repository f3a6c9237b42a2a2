"""Sandbox Shopify: a fake Admin API (GraphQL, OAuth tokens, throttling) and webhook sender.

Typical use in a test::

    sandbox = SandboxShopify(SandboxConfig(bucket_size=50, restore_rate=50, clock=clock))
    shop = sandbox.create_shop("demo.myshopify.com", access_token="shpat_test")
    shop.add_product("Tee", product_type="T-Shirt", variants=[VariantSpec("TEE-M")])
    order = shop.create_order([LineSpec("TEE-M", quantity=2)])
    http = httpx.Client(transport=httpx.WSGITransport(app=SandboxApp(sandbox)),
                        base_url="https://demo.myshopify.com")

and on loopback: ``base_url, stop = serve(SandboxApp(sandbox))``.
"""

from integrator.sandbox.shopify.app import SandboxApp, serve
from integrator.sandbox.shopify.records import (
    AddressSpec,
    FulfillmentOrderSpec,
    LineSpec,
    VariantSpec,
)
from integrator.sandbox.shopify.store import SandboxConfig, SandboxShopify, Shop
from integrator.sandbox.shopify.webhooks import Delivery, DeliveryOutcome, WebhookSender, sign

__all__ = [
    "AddressSpec",
    "Delivery",
    "DeliveryOutcome",
    "FulfillmentOrderSpec",
    "LineSpec",
    "SandboxApp",
    "SandboxConfig",
    "SandboxShopify",
    "Shop",
    "VariantSpec",
    "WebhookSender",
    "serve",
    "sign",
]
