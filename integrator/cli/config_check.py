"""`integrator config check`: validate routing.yaml and catalog.yaml, naming every problem,
and the environment every process needs (ENCRYPTION_KEY, the suppliers' credentials)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from integrator.bootstrap import startup_problems
from integrator.settings import SettingsError, load_settings
from integrator.store_config.loading import load_store_config, shops_with_own_config
from integrator.store_config.problems import ConfigError
from integrator.store_config.store import StoreConfig


@click.group("config")
def config() -> None:
    """Configuration files (routing.yaml, catalog.yaml)."""


@config.command("check")
@click.option(
    "--shop",
    default=None,
    help="Check only this shop's configuration (default: shared and every shop).",
)
def check(shop: str | None) -> None:
    """Exit 1 listing every problem as file:line: key.path: message; exit 0 with a summary."""
    config_dir = Path(os.environ.get("INTEGRATOR_CONFIG_DIR", "config"))
    shops: list[str | None] = [shop] if shop else [None, *shops_with_own_config(config_dir)]
    problem_count = 0
    for trouble in _environment_problems():
        click.echo(f"environment: {trouble}")
        problem_count += 1
    for name in shops:
        try:
            store = load_store_config(config_dir, os.environ, name)
        except ConfigError as error:
            problem_count += len(error.problems)
            for problem in error.problems:
                click.echo(str(problem))
            continue
        click.echo(_summary(name, store))
    if problem_count:
        raise click.ClickException(f"{problem_count} problem(s) in {config_dir}")


def _environment_problems() -> list[str]:
    """What would stop a process from starting besides the files (read as a process would)."""
    try:
        settings = load_settings()
    except SettingsError as error:
        return error.problems
    return startup_problems(settings)


def _summary(shop: str | None, store: StoreConfig) -> str:
    unmatched = store.unmatched.supplier or store.unmatched.action.value
    return (
        f"OK {shop or 'shared'}: {', '.join(store.files)}: {len(store.suppliers)} suppliers "
        f"({', '.join(store.suppliers)}), {len(store.rules)} rules, "
        f"{len(store.catalog)} catalog entries, unmatched: {unmatched}"
    )
