"""Sandbox Shopify: a fake Admin API (GraphQL, OAuth tokens, throttling) and webhook sender.

Typical use in a test::

    sandbox = SandboxShopify(SandboxConfig(bucket_size=50, restore_rate=50, clock=clock))
    shop = sandbox.create_shop("demo.myshopify.com", access_token="shpat_test")
    shop.add_product("Tee", product_type="T-Shirt", variants=[VariantSpec("TEE-M")])
    order = shop.create_order([LineSpec("TEE-M", quantity=2)])
    http = httpx.Client(transport=httpx.WSGITransport(app=SandboxApp(sandbox)),
                        base_url="https://demo.myshopify.com")

and on loopback: ``base_url, stop = serve(SandboxApp(sandbox))``.

Modules: ``store`` (shops and the control API), ``records`` (GraphQL-shaped records),
``fulfillment`` (Shopify's fulfillment rules), ``schema``/``resolvers``/``queries``/
``mutations`` (validation and execution against the real 2026-04 schema), ``cost``/``throttle``
(calculated query cost and the leaky bucket), ``oauth`` (token grants), ``rest_payload`` and
``webhooks`` (REST webhook bodies and the signed sender), ``app`` (WSGI app and ``serve``).

Where the sandbox knowingly differs from Shopify:
- query cost follows Shopify's published rules (``cost``), which may price big pages higher
  than Shopify's calculator does today (community.shopify.dev/t/23101: a nested first:250 page
  requested 25 points); the requested cost is taken before the query runs and the difference
  to the actual cost refunded after it, as Shopify documents;
- fields it does not model answer null, or a zero value of their type when non-null, and
  mutations it does not model answer an empty payload (counted per shop);
- the search syntax is a subset (field terms, comparisons, negation; no OR).
"""

from integrator.sandbox.shopify.app import SandboxApp, serve
from integrator.sandbox.shopify.fulfillment import FulfillmentRefused
from integrator.sandbox.shopify.records import (
    AddressSpec,
    FulfillmentOrderSpec,
    LineSpec,
    VariantSpec,
)
from integrator.sandbox.shopify.sandbox import SandboxConfig, SandboxShopify
from integrator.sandbox.shopify.store import Shop
from integrator.sandbox.shopify.webhooks import Delivery, DeliveryOutcome, WebhookSender, sign

__all__ = [
    "AddressSpec",
    "Delivery",
    "DeliveryOutcome",
    "FulfillmentOrderSpec",
    "FulfillmentRefused",
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
