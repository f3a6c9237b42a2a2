"""Shared fixtures: a migrated database per test, on SQLite or on PostgreSQL.

``INTEGRATOR_TEST_DATABASE_URL`` picks PostgreSQL (``.ci/run`` sets it to a scratch database);
without it every test gets its own SQLite file, copied from a template migrated once.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from integrator.db.database import Database
from integrator.db.migrate import upgrade
from integrator.db.models import Base
from integrator.suppliers.http import reset_process_limits
from tests.credentials import TEST_ENV

PG_URL = os.environ.get("INTEGRATOR_TEST_DATABASE_URL", "")


def pytest_report_header() -> str:
    return f"integrator test database: {'postgresql' if PG_URL else 'sqlite'}"


@pytest.fixture(autouse=True)
def process_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs with the secrets a real process needs, given here explicitly (never
    from a default in config/); tests of a missing or weak one remove or replace it."""
    for name, value in TEST_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(autouse=True)
def fresh_supplier_limits() -> None:
    """Supplier limiters and breakers kept in this process's memory (the default outside a
    deployment) start empty in every test: one test's calls never slow another down."""
    reset_process_limits()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_ready() -> str:
    database = Database.from_url(PG_URL)
    with database.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    database.dispose()
    upgrade(PG_URL)
    return PG_URL


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if PG_URL:
        url: str = request.getfixturevalue("postgres_ready")
        database = Database.from_url(url)
        tables = ", ".join(table.name for table in reversed(Base.metadata.sorted_tables))
        with database.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        database.dispose()
        return url
    template: Path = request.getfixturevalue("sqlite_template")
    path = tmp_path / "integrator.db"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database.from_url(database_url)
    yield database
    database.dispose()
