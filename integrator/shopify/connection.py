"""Build the Shopify side from settings: the token source, the provider and the client."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import httpx

from integrator.settings import Settings
from integrator.shopify.client import AdminClient, RetryPolicy
from integrator.shopify.tokens import (
    ClientCredentialsGrant,
    ExpiringOfflineTokens,
    ShopifyCredentials,
    ShopTokenStore,
    StaticAdminToken,
    TokenProvider,
    TokenSource,
)
from integrator.shopify.transport import build_shopify_http_client


def token_source_for(settings: Settings, http: httpx.Client) -> TokenSource:
    """Pick how tokens are obtained: static token, client credentials (one store) or exchange."""
    if settings.shopify_admin_token:
        return StaticAdminToken(settings.shopify_admin_token)
    credentials = ShopifyCredentials(
        settings.shopify_client_id,
        settings.shopify_client_secret,
        settings.shopify_old_client_secret,
    )
    if settings.shopify_shop:
        return ClientCredentialsGrant(credentials, http)
    return ExpiringOfflineTokens(credentials, http)


def build_admin_client(
    settings: Settings,
    store: ShopTokenStore,
    *,
    transport: httpx.BaseTransport | None = None,
    refresh_margin: timedelta = timedelta(minutes=5),
    retry_policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> AdminClient:
    """Wire one AdminClient (and its TokenProvider) on one long-lived pooled HTTP client."""
    http = build_shopify_http_client(settings.shopify_admin_url, transport=transport)
    provider = TokenProvider(token_source_for(settings, http), store, refresh_margin=refresh_margin)
    return AdminClient(
        provider,
        http,
        api_version=settings.shopify_api_version,
        retry_policy=retry_policy,
        sleep=sleep,
    )
