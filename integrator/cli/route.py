"""`integrator route explain ORDER.json`: why each line item goes where it goes, offline."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import click

from integrator.routing.assignment import FulfillmentMode, Ownership
from integrator.routing.explain import explain_order, render_text
from integrator.routing.order_input import NotAnOrder, order_from_payload
from integrator.store_config.loading import load_store_config
from integrator.store_config.problems import ConfigError

DEFAULT_SHOP = "unknown.myshopify.com"


@click.group("route")
def route() -> None:
    """Routing: which supplier makes each line item."""


@route.command("explain")
@click.argument("order_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option(
    "--shop",
    default=None,
    help="Shop domain (chooses config/shops/<shop>/); default from the payload or SHOPIFY_SHOP.",
)
@click.option(
    "--mode",
    type=click.Choice([mode.value for mode in FulfillmentMode]),
    default=FulfillmentMode.MERCHANT_MANAGED.value,
    show_default=True,
    help="How the shop is connected: which fulfillment orders are ours.",
)
@click.option(
    "--location",
    "locations",
    multiple=True,
    help="A location (name or numeric id) whose fulfillment orders are ours; repeat for "
    "several. Default: shopify.locations (merchant-managed) or the location named "
    "shopify.fulfillment_service_name (fulfillment-service).",
)
def explain(
    order_file: Path, as_json: bool, shop: str | None, mode: str, locations: tuple[str, ...]
) -> None:
    """Print, per line item, the decision, supplier, rule, decoration and catalog entry.

    On the enrichment query's answer (GraphQL, with its fulfillment orders) the decisions are
    the pipeline's own: lines held or scheduled in Shopify wait, lines assigned elsewhere are
    skipped.
    """
    payload = _read_payload(order_file)
    shop = shop or _shop_of(payload) or os.environ.get("SHOPIFY_SHOP") or DEFAULT_SHOP
    config_dir = Path(os.environ.get("INTEGRATOR_CONFIG_DIR", "config"))
    try:
        order = order_from_payload(payload, shop)
        # offline: no supplier is called, so its credentials need not be set here
        config = load_store_config(
            config_dir, os.environ, shop if shop != DEFAULT_SHOP else None, credentials=False
        )
    except NotAnOrder as error:
        raise click.ClickException(f"{order_file}: {error}") from error
    except ConfigError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(
            f"the configuration has {len(error.problems)} problem(s)"
        ) from error
    ownership = Ownership(
        FulfillmentMode(mode),
        locations or (config.shopify.locations if mode == "merchant-managed" else ()),
        config.shopify.fulfillment_service_name,
    )
    explanation = explain_order(order, config, ownership)
    if as_json:
        click.echo(json.dumps(explanation, indent=2))
    else:
        click.echo(render_text(explanation), nl=False)


def _read_payload(path: Path) -> dict[str, Any]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise click.ClickException(f"{path}: cannot read JSON: {error}") from error
    if not isinstance(payload, dict):
        raise click.ClickException(f"{path}: expected a JSON object")
    return payload


def _shop_of(payload: dict[str, Any]) -> str | None:
    """The REST payload names its shop only in the order status URL."""
    status_url = payload.get("order_status_url")
    if isinstance(status_url, str) and ".myshopify.com" in status_url:
        return urlparse(status_url).hostname
    return None
