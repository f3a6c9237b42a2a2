"""``integrator db upgrade`` and ``integrator keys new``."""

from __future__ import annotations

import click

from integrator.cli.common import settings_or_exit


@click.group()
def db() -> None:
    """Database schema."""


@db.command()
@click.option("--revision", default="head", show_default=True)
def upgrade(revision: str) -> None:
    """Apply migrations to DATABASE_URL."""
    from integrator.db.migrate import upgrade as run_upgrade

    settings = settings_or_exit()
    run_upgrade(settings.database_url, revision)
    click.echo(f"database at revision {revision}")


@click.group()
def keys() -> None:
    """Encryption keys for tokens at rest."""


@keys.command("new")
def new_key() -> None:
    """Print a new Fernet key; put it first in ENCRYPTION_KEY to rotate."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())
