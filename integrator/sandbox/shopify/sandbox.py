"""The sandbox as a whole: its configuration, its shops and the tokens it issued."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass

from integrator.sandbox.shopify.oauth import TokenIssuer
from integrator.sandbox.shopify.store import Shop
from integrator.sandbox.shopify.throttle import Clock, LeakyBucket

DEFAULT_SCOPES = (
    "read_orders",
    "write_orders",
    "read_products",
    "read_fulfillments",
    "write_fulfillments",
    "read_merchant_managed_fulfillment_orders",
    "write_merchant_managed_fulfillment_orders",
    "read_assigned_fulfillment_orders",
    "write_assigned_fulfillment_orders",
    "read_inventory",
    "write_inventory",
)


@dataclass(frozen=True)
class SandboxConfig:
    """Knobs of the sandbox; by default a 1000-point bucket restoring 100 points/s (the
    Standard plan's rate, https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits)."""

    bucket_size: float = 1000.0
    restore_rate: float = 100.0
    clock: Clock = time.monotonic
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    client_credentials_lifetime: int = 86399  # Shopify's client-credentials tokens last ~24 h
    expiring_token_lifetime: int = 3600
    refresh_token_lifetime: int = 90 * 24 * 3600
    # Shopify rejects a query whose requested cost is over 1000 ("MAX_COST_EXCEEDED", whatever
    # the plan: shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits); None turns the
    # check off (a test that wants one huge query).
    max_single_query_cost: int | None = 1000
    # Shopify answers documents that fail validation with HTTP 200 and an ``errors`` list.
    invalid_document_status: int = 200


class SandboxShopify:
    """The whole sandbox: any number of shops, the tokens it issued, and its config."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.shops: dict[str, Shop] = {}
        self.tokens = TokenIssuer(self.config.clock)
        self._ids = itertools.count(1_000_001)
        self._lock = threading.Lock()

    def create_shop(
        self,
        domain: str,
        *,
        client_id: str = "sandbox-client-id",
        client_secret: str = "sandbox-client-secret",  # noqa: S107 (fake shop)
        access_token: str | None = None,
        bucket_size: float | None = None,
        restore_rate: float | None = None,
        scopes: tuple[str, ...] | None = None,
    ) -> Shop:
        """Create a shop; ``access_token`` registers a static (non-expiring) admin token, and
        ``scopes`` (default: the config's) are what every token for it is granted."""
        bucket = LeakyBucket(
            bucket_size or self.config.bucket_size,
            restore_rate or self.config.restore_rate,
            self.config.clock,
        )
        shop = Shop(
            domain,
            client_id=client_id,
            client_secret=client_secret,
            bucket=bucket,
            ids=self._ids,
            scopes=scopes or self.config.scopes,
        )
        with self._lock:
            self.shops[domain] = shop
        if access_token:
            self.tokens.add_static(domain, access_token, ",".join(shop.scopes))
        return shop

    def shop(self, domain: str) -> Shop:
        return self.shops[domain]

    def uninstall(self, domain: str) -> None:
        """Uninstall the app from a shop: every token issued for it stops working, and no grant
        gives a new one until the app is installed again."""
        self.tokens.revoke_shop(domain)
        self.shops[domain].installed = False

    def reinstall(self, domain: str) -> None:
        self.shops[domain].installed = True

    @property
    def requests(self) -> int:
        return sum(shop.counters.requests for shop in self.shops.values())

    @property
    def throttled(self) -> int:
        return sum(shop.counters.throttled for shop in self.shops.values())
