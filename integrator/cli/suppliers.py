"""`integrator suppliers check|setup|explain`: prove the credentials work, point callbacks at
us, and say what a supplier payload means (offline)."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import click
import requests

from integrator.suppliers.base import TOKEN_QUERY_PARAM, SupplierAdapter
from integrator.suppliers.registry import UnknownAdapter, build_adapter

CALLBACK_PATH = "/webhooks/suppliers/{name}"


def new_session() -> requests.Session:
    """The HTTP session adapters use; tests replace it with one mounted on sandboxes."""
    return requests.Session()


def callback_url(public_url: str, name: str, secret: str) -> str:
    path = CALLBACK_PATH.format(name=quote(name, safe=""))
    return f"{public_url.rstrip('/')}{path}?{TOKEN_QUERY_PARAM}={quote(secret, safe='')}"


def config_dir() -> Path:
    return Path(os.environ.get("INTEGRATOR_CONFIG_DIR", "config"))


def _adapters(shop: str | None, *, credentials: bool = True) -> Iterator[SupplierAdapter]:
    # imported here: the config loader is heavier than this command needs to start
    from integrator.store_config.loading import load_store_config
    from integrator.store_config.problems import ConfigError

    try:
        config = load_store_config(config_dir(), os.environ, shop, credentials=credentials)
    except ConfigError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(
            f"the configuration has {len(error.problems)} problem(s)"
        ) from error
    if not config.suppliers:
        raise click.ClickException("no suppliers configured")
    session = new_session()
    for supplier in config.suppliers.values():
        try:
            yield build_adapter(
                supplier.name, supplier.adapter, supplier.base_url, supplier.options, session
            )
        except UnknownAdapter as error:
            click.echo(f"✗ {supplier.name}: {error}", err=True)


@click.group("suppliers")
def suppliers() -> None:
    """Supplier accounts: credentials and callbacks."""


@suppliers.command("check")
@click.option("--shop", default=None, help="Shop domain (chooses config/shops/<shop>/).")
def check(shop: str | None) -> None:
    """Make one cheap authenticated call per configured supplier and say what works."""
    failed = 0
    for adapter in _adapters(shop):
        result = adapter.check_credentials()
        mark = "✓" if result.ok else "✗"
        click.echo(f"{mark} {adapter.name} ({adapter.KEY}): {result.detail}")
        failed += not result.ok
    if failed:
        raise SystemExit(1)


@suppliers.command("setup")
@click.option(
    "--public-url",
    required=True,
    help="Where suppliers reach this service, e.g. https://pod.example.com",
)
@click.option("--shop", default=None, help="Shop domain (chooses config/shops/<shop>/).")
@click.option(
    "--yes",
    "assume_yes",
    is_flag=True,
    help="Go on when registering replaces a supplier's existing callback configuration.",
)
def setup(public_url: str, shop: str | None, assume_yes: bool) -> None:
    """Register <public-url>/webhooks/suppliers/<name>?token=<callback_secret> with every
    supplier whose API allows it; print the manual step for the others. Where registering
    replaces the supplier's existing configuration (Printful keeps one webhook URL per store),
    say so first and ask (or pass --yes).

    A supplier without a usable callback secret gets a new strong one, printed with the
    variable to put it in; nothing is registered for it until that is set."""
    if not public_url.startswith("https://"):
        click.echo("warning: suppliers may refuse a callback URL that is not https", err=True)
    failed = 0
    for adapter in _adapters(shop, credentials=False):
        secret = adapter.callback_secret
        if _unusable_callback_secret(secret) is not None:
            _offer_new_secret(adapter.name, secret, shop)
            failed += 1
            continue
        url = callback_url(public_url, adapter.name, secret)
        shown = callback_url(public_url, adapter.name, "***")
        warning = adapter.registration_warning(url)
        if warning:
            click.echo(f"! {adapter.name}: {warning}", err=True)
            if not assume_yes and not click.confirm(
                f"Replace {adapter.name}'s webhook configuration?", default=False, err=True
            ):
                click.echo(f"- {adapter.name}: skipped, nothing changed")
                continue
        result = adapter.register_callback(url)
        if result.registered:
            click.echo(f"✓ {adapter.name}: {shown} registered ({result.detail})")
        elif result.manual_steps:
            click.echo(f"→ {adapter.name}: by hand: {result.manual_steps.replace(url, shown)}")
        else:
            click.echo(f"✗ {adapter.name}: {result.detail}")
            failed += 1
    if failed:
        raise SystemExit(1)


@suppliers.command("explain")
@click.argument("supplier")
@click.argument("payload_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def explain(supplier: str, payload_file: Path, as_json: bool) -> None:
    """What a supplier payload means: a callback body or an order as the supplier's GET-order
    endpoint returns it (detected). SUPPLIER is the adapter kind (printful, printify, gelato,
    prodigi). Offline: no database, no configuration, no network."""
    # imported here: the adapters are heavier than `suppliers --help` needs
    from integrator.suppliers.errors import CallbackPayloadError
    from integrator.suppliers.explain import explain_payload, render_text

    try:
        body = payload_file.read_bytes()
    except OSError as error:
        raise click.ClickException(f"{payload_file}: cannot read: {error.strerror}") from error
    try:
        explanation = explain_payload(supplier, body)
    except UnknownAdapter as error:
        raise click.ClickException(str(error.args[0])) from error
    except CallbackPayloadError as error:
        reason = " ".join(str(error).split())
        raise click.ClickException(f"{payload_file}: not a {supplier} payload: {reason}") from error
    if as_json:
        click.echo(json.dumps(explanation, indent=2))
    else:
        click.echo(render_text(explanation), nl=False)


def _unusable_callback_secret(secret: str) -> str | None:
    from integrator.store_config.credentials import CREDENTIALS, credential_problem

    (callback,) = [c for c in CREDENTIALS if c.key == "callback_secret"]
    return credential_problem(callback, secret or None)


def new_callback_secret() -> str:
    """43 URL-safe characters: 256 random bits, safe in a query string as they are."""
    return secrets.token_urlsafe(32)


def _offer_new_secret(supplier: str, current: str, shop: str | None) -> None:
    """Say why the secret cannot be used, and print a new one and where to put it."""
    from integrator.store_config.interpolation import variables_by_path
    from integrator.store_config.loading import config_files
    from integrator.store_config.yaml_document import parse_yaml

    routing_file = config_files(config_dir(), shop)[0]
    document = parse_yaml(routing_file.read_text(encoding="utf-8"), str(routing_file), [])
    path = ("suppliers", supplier, "callback_secret")
    names = variables_by_path(document.data).get(path, ())
    variable = (
        names[0] if len(names) == 1 else f"{supplier.upper().replace('-', '_')}_CALLBACK_SECRET"
    )
    reason = _unusable_callback_secret(current) or ""
    if names and variable not in os.environ:
        reason = "is not set"
    click.echo(f"✗ {supplier}: no usable callback secret ({variable} {reason}); a new one:")
    click.echo(f"    {variable}={new_callback_secret()}")
    if not names:
        click.echo(
            f"  add `callback_secret: ${{{variable}}}` under suppliers.{supplier} in "
            f"{routing_file}, and"
        )
    click.echo(
        f"  set {variable} in the environment of every process (web, worker, clock), "
        "restart them, and run this again to register the callback"
    )
