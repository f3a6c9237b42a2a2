"""``integrator shopify setup``: check the shop's credentials and subscribe missing webhooks."""

from __future__ import annotations

import click

from integrator.db.database import Database
from integrator.pipeline.shop_settings import remember_setup
from integrator.settings import SettingsError, load_settings
from integrator.shopify.connection import build_admin_client
from integrator.shopify.errors import ShopifyError
from integrator.shopify.setup import (
    DEFAULT_TOPICS,
    SubscriptionState,
    check_credentials,
    ensure_webhook_subscriptions,
)
from integrator.shopify.tokens import InMemoryShopTokenStore


@click.group()
def shopify() -> None:
    """Connect the Shopify shop."""


@shopify.command()
@click.option(
    "--callback-url",
    default=None,
    help="Where Shopify sends webhooks (default: PUBLIC_URL + /webhooks/shopify).",
)
@click.option(
    "--topic",
    "topics",
    multiple=True,
    default=DEFAULT_TOPICS,
    show_default=True,
    help="A topic to subscribe; repeat for several.",
)
def setup(callback_url: str | None, topics: tuple[str, ...]) -> None:
    """Check SHOPIFY_SHOP's credentials and create any missing webhook subscription."""
    try:
        settings = load_settings()
    except SettingsError as error:
        raise click.ClickException(str(error)) from error
    if not settings.shopify_shop:
        raise click.ClickException("SHOPIFY_SHOP is not set (single-store setup needs it)")
    url = callback_url or f"{settings.public_url}/webhooks/shopify"
    client = build_admin_client(settings, InMemoryShopTokenStore())
    try:
        check = check_credentials(client, settings.shopify_shop)
        click.echo(f"credentials ok: {check.shop_name} ({check.domain})")
        click.echo(f"granted scopes: {', '.join(check.granted_scopes) or '(none)'}")
        if check.missing_scopes:
            click.echo(f"MISSING scopes: {', '.join(check.missing_scopes)}", err=True)
        for topic, state in ensure_webhook_subscriptions(
            client, settings.shopify_shop, url, topics
        ):
            verb = "created" if state == SubscriptionState.CREATED else "already subscribed"
            click.echo(f"webhook {topic} -> {url}: {verb}")
    except ShopifyError as error:
        raise click.ClickException(f"Shopify: {error}") from error
    # the reconciliation recreates there what Shopify deletes after failed deliveries
    db = Database.from_url(settings.database_url)
    try:
        remember_setup(db, settings.shopify_shop, webhook_callback_url=url)
    finally:
        db.dispose()
    if check.missing_scopes:
        raise SystemExit(1)
