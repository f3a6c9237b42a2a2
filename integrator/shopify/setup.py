"""Connecting a single store without the Shopify CLI: check credentials, subscribe webhooks.

Apps deployed with the Shopify CLI get their subscriptions from ``shopify.app.toml``
(app-specific, including the compliance topics, which only TOML can declare). A single store
run without the CLI creates shop-specific subscriptions through the Admin API instead; only
missing ones are created, so running setup twice changes nothing.
https://shopify.dev/docs/apps/build/webhooks/best-practices
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from integrator.shopify.client import AdminClient
from integrator.shopify.topics import MERCHANT_MANAGED_TOPICS

# Topics the integrator handles that the Admin API can subscribe (compliance topics cannot).
# products/update is not among them: nothing caches products, and it fires on every order.
DEFAULT_TOPICS: tuple[str, ...] = MERCHANT_MANAGED_TOPICS
# The least the integrator needs, per mode (docs/adr/0002); every write_ scope implies its
# read_ scope. Merchant-managed: fulfil the FOs at the merchant's own locations.
MERCHANT_MANAGED_SCOPES: tuple[str, ...] = (
    "write_orders",
    "read_products",
    "write_merchant_managed_fulfillment_orders",
)
# Fulfillment service: register the service (write_fulfillments), answer and fulfil the FOs
# assigned to it, stock the catalog's variants at its location (write_inventory).
FULFILLMENT_SERVICE_SCOPES: tuple[str, ...] = (
    "write_orders",
    "read_products",
    "write_fulfillments",
    "write_assigned_fulfillment_orders",
    "write_inventory",
)
SCOPES_BY_MODE: dict[str, tuple[str, ...]] = {
    "merchant-managed": MERCHANT_MANAGED_SCOPES,
    "fulfillment-service": FULFILLMENT_SERVICE_SCOPES,
}
REQUIRED_SCOPES: tuple[str, ...] = MERCHANT_MANAGED_SCOPES
MAX_SUBSCRIPTION_PAGES = 20


class SubscriptionState(StrEnum):
    CREATED = "created"
    EXISTING = "existing"


def topic_enum(topic: str) -> str:
    """``orders/paid`` → ``ORDERS_PAID`` (the WebhookSubscriptionTopic value)."""
    return topic.replace("/", "_").upper()


def ensure_webhook_subscriptions(
    client: AdminClient, shop: str, callback_url: str, topics: Sequence[str] = DEFAULT_TOPICS
) -> list[tuple[str, SubscriptionState]]:
    """Create each missing subscription of ``topics`` to ``callback_url``; say what was done.

    :raises ShopifyUserErrors: when Shopify refuses a subscription (bad URL, missing scope).
    """
    existing = _existing_subscriptions(client, shop)
    outcome: list[tuple[str, SubscriptionState]] = []
    for topic in topics:
        if (topic_enum(topic), callback_url) in existing:
            outcome.append((topic, SubscriptionState.EXISTING))
            continue
        variables = {"topic": topic_enum(topic), "webhookSubscription": {"uri": callback_url}}
        client.mutate(shop, "webhook_subscription_create", variables, "webhookSubscriptionCreate")
        outcome.append((topic, SubscriptionState.CREATED))
    return outcome


def missing_subscriptions(
    client: AdminClient, shop: str, callback_url: str, topics: Sequence[str]
) -> list[str]:
    """The topics of ``topics`` not subscribed to ``callback_url`` (any more)."""
    existing = _existing_subscriptions(client, shop)
    return [topic for topic in topics if (topic_enum(topic), callback_url) not in existing]


def _existing_subscriptions(client: AdminClient, shop: str) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    after: str | None = None
    for _ in range(MAX_SUBSCRIPTION_PAGES):
        connection = client.execute(shop, "webhook_subscriptions", {"after": after})[
            "webhookSubscriptions"
        ]
        found.update((node["topic"], node["uri"]) for node in connection["nodes"])
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    return found


@dataclass(frozen=True)
class CredentialsCheck:
    shop_name: str
    domain: str
    granted_scopes: tuple[str, ...]
    missing_scopes: tuple[str, ...]

    @property
    def is_complete(self) -> bool:
        return not self.missing_scopes


def check_credentials(
    client: AdminClient, shop: str, required: Iterable[str] = REQUIRED_SCOPES
) -> CredentialsCheck:
    """Prove the token works for ``shop`` and list any required scope it was not granted.

    :raises ShopifyAuthError: when no token can be had or Shopify refuses it.
    """
    data = client.execute(shop, "shop_credentials")
    granted = tuple(sorted(s["handle"] for s in data["currentAppInstallation"]["accessScopes"]))
    missing = tuple(scope for scope in required if not _is_covered(scope, granted))
    return CredentialsCheck(data["shop"]["name"], data["shop"]["myshopifyDomain"], granted, missing)


def _is_covered(scope: str, granted: Sequence[str]) -> bool:
    return scope in granted or scope.replace("read_", "write_", 1) in granted
