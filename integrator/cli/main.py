"""The ``integrator`` console script. Subcommands load lazily so that ``--help`` stays fast."""

from __future__ import annotations

import importlib
from typing import Any

import click

# name -> "module:attribute"; every command of PRODUCT.md's public contract is listed here
COMMANDS: dict[str, str] = {
    "serve": "integrator.cli.processes:serve",
    "worker": "integrator.cli.processes:worker",
    "clock": "integrator.cli.processes:clock",
    "db": "integrator.cli.database:db",
    "jobs": "integrator.cli.jobs:jobs",
    "config": "integrator.cli.config_check:config",
    "route": "integrator.cli.route:route",
    "reconcile": "integrator.cli.operations:reconcile",
    "stats": "integrator.cli.operations:stats",
    "shopify": "integrator.cli.shopify_setup:shopify",
    "suppliers": "integrator.cli.suppliers:suppliers",
    "demo": "integrator.cli.demo:demo",
    "keys": "integrator.cli.database:keys",
    "items": "integrator.cli.operations:items",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as missing:
            if missing.name != module_name:
                raise
            return _not_built(cmd_name)
        command: Any = getattr(module, attribute)
        return command  # type: ignore[no-any-return]


def _not_built(name: str) -> click.Command:
    @click.command(name=name, context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def not_built(args: tuple[str, ...]) -> None:
        click.echo(f"integrator {name}: not built yet", err=True)
        raise SystemExit(2)

    return not_built


@click.group(cls=LazyGroup)
@click.version_option(package_name="integrator")
def cli() -> None:
    """Connect a Shopify shop to print-on-demand suppliers."""


def main() -> None:
    """Run a command; a failure the operator can fix is a message and exit code 1, not a
    traceback."""
    from integrator.cli.failures import expected_failure

    try:
        cli()
    except Exception as error:
        message = expected_failure(error)
        if message is None:
            raise
        click.echo(message, err=True)
        raise SystemExit(1) from None
