"""``integrator shopify setup`` (credentials, the shop's fulfillment mode and our fulfillment
service, webhook subscriptions) and ``integrator shopify stock-catalog``."""

from __future__ import annotations

import click

from integrator.bootstrap import StoreConfigs
from integrator.cli.common import settings_or_exit
from integrator.db.database import Database
from integrator.pipeline.shop_settings import connection_of, remember_mode, remember_setup
from integrator.routing.assignment import FulfillmentMode
from integrator.settings import Settings
from integrator.shopify.client import AdminClient
from integrator.shopify.connection import build_admin_client
from integrator.shopify.errors import ShopifyError
from integrator.shopify.fulfillment_service import CALLBACK_PATH, ensure_fulfillment_service
from integrator.shopify.setup import (
    SCOPES_BY_MODE,
    SubscriptionState,
    check_credentials,
    ensure_webhook_subscriptions,
)
from integrator.shopify.stock_catalog import plan_stocking, stock
from integrator.shopify.tokens import InMemoryShopTokenStore
from integrator.shopify.topics import subscription_topics

MODES = [mode.value for mode in FulfillmentMode]


@click.group()
def shopify() -> None:
    """Connect the Shopify shop."""


def _settings() -> Settings:
    settings = settings_or_exit()
    if not settings.shopify_shop:
        raise click.ClickException("SHOPIFY_SHOP is not set (single-store setup needs it)")
    return settings


@shopify.command()
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default=None,
    help="How the integrator fulfils for the shop (default: the shop's stored mode, else "
    "merchant-managed). fulfillment-service registers our fulfillment service and location.",
)
@click.option(
    "--callback-url",
    default=None,
    help="Where Shopify sends webhooks (default: PUBLIC_URL + /webhooks/shopify).",
)
@click.option(
    "--topic",
    "topics",
    multiple=True,
    help="A topic to subscribe; repeat for several (default: every topic the mode needs).",
)
def setup(mode: str | None, callback_url: str | None, topics: tuple[str, ...]) -> None:
    """Check SHOPIFY_SHOP's credentials, connect it in its fulfillment mode (creating our
    fulfillment service once) and create any missing webhook subscription."""
    settings = _settings()
    shop = settings.shopify_shop
    url = callback_url or f"{settings.public_url}/webhooks/shopify"
    db = Database.from_url(settings.database_url)
    try:
        chosen = mode or connection_of(db, shop).fulfillment_mode or MODES[0]
        client = build_admin_client(settings, InMemoryShopTokenStore())
        missing = _connect(client, db, settings, shop, chosen, url, topics)
        remember_setup(db, shop, webhook_callback_url=url)
    except ShopifyError as error:
        raise click.ClickException(f"Shopify: {error}") from error
    finally:
        db.dispose()
    if missing:
        raise SystemExit(1)


def _connect(
    client: AdminClient,
    db: Database,
    settings: Settings,
    shop: str,
    mode: str,
    url: str,
    topics: tuple[str, ...],
) -> tuple[str, ...]:
    check = check_credentials(client, shop, SCOPES_BY_MODE[mode])
    click.echo(f"credentials ok: {check.shop_name} ({check.domain})")
    click.echo(f"granted scopes: {', '.join(check.granted_scopes) or '(none)'}")
    if check.missing_scopes:
        click.echo(f"MISSING scopes for {mode}: {', '.join(check.missing_scopes)}", err=True)
        return check.missing_scopes
    if mode == FulfillmentMode.FULFILLMENT_SERVICE.value:
        name = StoreConfigs.load(settings).for_shop(shop).shopify.fulfillment_service_name
        registration = ensure_fulfillment_service(
            client, shop, name, f"{settings.public_url}{CALLBACK_PATH}"
        )
        service = registration.service
        verb = "created" if registration.created else "updated" if registration.updated else "ok"
        click.echo(f"fulfillment service {service.name!r} (location {service.location_id}): {verb}")
        remember_mode(db, shop, mode, service_id=service.id, location_id=service.location_id)
    else:
        remember_mode(db, shop, mode)
    click.echo(f"mode: {mode}")
    for topic, state in ensure_webhook_subscriptions(
        client, shop, url, topics or subscription_topics(mode)
    ):
        verb = "created" if state == SubscriptionState.CREATED else "already subscribed"
        click.echo(f"webhook {topic} -> {url}: {verb}")
    return ()


@shopify.command("stock-catalog")
@click.option("--dry-run", is_flag=True, help="Show exactly what would change; change nothing.")
def stock_catalog(dry_run: bool) -> None:
    """Stock every catalog.yaml variant (by SKU) at our fulfillment-service location, so that
    Shopify assigns their lines to us; report variants stocked only elsewhere. Other variants
    are never read or changed. Run `integrator shopify setup --mode fulfillment-service` first."""
    settings = _settings()
    shop = settings.shopify_shop
    db = Database.from_url(settings.database_url)
    try:
        connection = connection_of(db, shop)
    finally:
        db.dispose()
    location = connection.fulfillment_location_id
    if connection.fulfillment_mode != FulfillmentMode.FULFILLMENT_SERVICE.value or not location:
        raise click.ClickException(
            f"{shop} is not in fulfillment-service mode: run "
            "`integrator shopify setup --mode fulfillment-service` first"
        )
    config = StoreConfigs.load(settings).for_shop(shop)
    catalog = config.catalog
    skus = [entry.sku for entry in catalog.entries if entry.sku]
    client = build_admin_client(settings, InMemoryShopTokenStore())
    try:
        report = plan_stocking(
            client, shop, skus, location, config.shopify.fulfillment_service_name
        )
        if not dry_run:
            stock(client, shop, report, location)
    except ShopifyError as error:
        raise click.ClickException(f"Shopify: {error}") from error
    for line in report.lines(dry_run):
        click.echo(line)
    elsewhere = sum(1 for each in report.variants if each.elsewhere_only)
    verb = "would stock" if dry_run else "stocked"
    to_change = sum(1 for each in report.variants if each.state.name == "ACTIVATE")
    click.echo(
        f"{verb} {to_change} variant(s); {elsewhere} were stocked only at other locations; "
        f"{len(catalog.entries) - len(skus)} catalog entries without a SKU were not looked up"
    )
