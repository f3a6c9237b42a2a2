"""What every command needs: settings read once, with every problem named on failure."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import click

from integrator.bootstrap import Container, StartupRefused, bootstrap_process, preflight
from integrator.db.database import Database
from integrator.logs import configure_logging
from integrator.settings import Settings, SettingsError, load_settings


def settings_or_exit() -> Settings:
    """The settings, or every problem with them on stderr, one per line, and exit code 1."""
    try:
        return load_settings()
    except SettingsError as error:
        refuse_to_start(error.problems)
        raise  # unreachable: refuse_to_start exits


def refuse_to_start(problems: list[str]) -> NoReturn:
    """Name every problem on stderr, one per line, and stop with exit code 1."""
    for problem in problems:
        click.echo(problem, err=True)
    raise SystemExit(1)


def preflight_or_exit(settings: Settings) -> None:
    """Stop now, naming every problem, if a process could not start with these settings."""
    _configs, problems = preflight(settings)
    if problems:
        refuse_to_start(problems)


def container_or_exit(*, json_logs: bool | None = None) -> Container:
    settings = settings_or_exit()
    configure_logging(
        settings.log_level, json_lines=settings.log_json if json_logs is None else json_logs
    )
    try:
        return bootstrap_process(settings)
    except StartupRefused as error:
        refuse_to_start(error.problems)


@contextmanager
def opened_container(*, json_logs: bool | None = None) -> Iterator[Container]:
    """A container for one command, its database connections closed at the end."""
    container = container_or_exit(json_logs=json_logs)
    try:
        yield container
    finally:
        container.close()


@contextmanager
def opened_database() -> Iterator[Database]:
    """The database alone, for commands that only read or change rows (``jobs``, ``stats``):
    no store configuration, no keys, so they work from any folder."""
    settings = settings_or_exit()
    configure_logging(settings.log_level, json_lines=False)
    db = Database.from_url(settings.database_url)
    try:
        yield db
    finally:
        db.dispose()
