"""Shared fixtures: a migrated database per test, on SQLite or on PostgreSQL (or both).

``INTEGRATOR_TEST_DATABASE_URL`` picks PostgreSQL (``scripts/test.sh`` sets it to a scratch
database); without it every test gets its own SQLite file, copied from a template migrated once.
``--databases=sqlite,postgresql`` runs every database test once on each (the gate does this, in
one session, so the tests that touch no database run once and xdist balances both halves).

Under pytest-xdist each worker creates its own PostgreSQL database next to the scratch one
(``<scratch>_gw0``...), migrates it, and drops it at the end: workers never share tables.
A run that skips or xfails anything fails (``pytest_sessionfinish``): a skipped test is a test
that did not run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import make_url, text

from integrator.db.database import Database
from integrator.db.migrate import upgrade
from integrator.db.models import Base
from integrator.pipeline import group_commit
from integrator.suppliers.http import reset_process_limits
from tests.credentials import TEST_ENV

# No timed assertions in the suite, hypothesis's included: its per-example deadline and its
# "data generation too slow" check measure the machine, and the gate shares two cores with
# four xdist workers (a property test failed its health check at load 10 with nothing wrong).
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

PG_URL = os.environ.get("INTEGRATOR_TEST_DATABASE_URL", "")
BACKENDS = ("sqlite", "postgresql")
# the machine's shared database: the fixtures drop its schema and truncate its tables, so a run
# pointed at it would erase what others keep there
SHARED_DATABASES = frozenset({"test", "postgres"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--databases",
        default="postgresql" if PG_URL else "sqlite",
        help="comma-separated: sqlite, postgresql (needs INTEGRATOR_TEST_DATABASE_URL); "
        "every database test runs once on each",
    )


def chosen_backends(config: pytest.Config) -> list[str]:
    names = [name.strip() for name in str(config.getoption("databases")).split(",") if name]
    unknown = sorted(set(names) - set(BACKENDS))
    if unknown or not names:
        raise pytest.UsageError(f"--databases: {unknown or names} not in {', '.join(BACKENDS)}")
    if "postgresql" in names and not PG_URL:
        raise pytest.UsageError("--databases=postgresql needs INTEGRATOR_TEST_DATABASE_URL")
    if PG_URL and make_url(PG_URL).database in SHARED_DATABASES:
        raise pytest.UsageError(
            f"INTEGRATOR_TEST_DATABASE_URL names the shared database {make_url(PG_URL).database!r}:"
            " the tests erase theirs; create a scratch database (scripts/test.sh does)"
        )
    return names


def pytest_report_header(config: pytest.Config) -> str:
    return f"integrator test databases: {', '.join(chosen_backends(config))}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    backends = chosen_backends(metafunc.config)
    if "database_backend" in metafunc.fixturenames and len(backends) > 1:
        metafunc.parametrize("database_backend", backends, indirect=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail a run that skipped (or xfailed) anything: every test here must run and pass."""
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller sees every report and decides
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    not_run = [
        f"{kind}: {report.nodeid}"
        for kind in ("skipped", "xfailed", "xpassed")
        for report in reporter.stats.get(kind, [])
    ]
    if not_run and session.exitstatus == pytest.ExitCode.OK:
        reporter.write_line(
            f"FAILED: {len(not_run)} test(s) did not run as tests; nothing may be skipped:",
            red=True,
        )
        for line in not_run:
            reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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


@pytest.fixture(autouse=True)
def no_answer_deadline(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process webhook receivers wait for their commit however long it takes, except in
    tests marked ``answer_deadline`` (which test the 503 it gives).

    The 3-second deadline is wall-clock: on a loaded machine (a shared disk's fsync, CPU
    starved by parallel workers) a batch and its retries one by one can pass it, and a test
    about something else then sees a 503 where it expects 200 (the flaky
    test_one_bad_delivery neighbours test, a pipeline test's orders/paid).
    """
    if request.node.get_closest_marker("answer_deadline") is None:
        monkeypatch.setattr(group_commit, "ANSWER_TIMEOUT_SECONDS", None)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_ready() -> Iterator[str]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker:
        yield migrated_from_scratch(PG_URL)
        return
    base = make_url(PG_URL)
    name = f"{base.database}_{worker}"
    admin = Database.from_url(PG_URL)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # a commit need not wait for its WAL flush here (a shared disk's fsync: milliseconds):
        # this database only lives for the run, and no test crashes PostgreSQL
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        yield migrated_from_scratch(base.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrated_from_scratch(url: str) -> str:
    database = Database.from_url(url)
    with database.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    database.dispose()
    upgrade(url)
    return url


@pytest.fixture
def database_backend(request: pytest.FixtureRequest) -> str:
    """Which database this test runs on: the one chosen, or one of both (parametrized)."""
    chosen: str = getattr(request, "param", chosen_backends(request.config)[0])
    return chosen


@pytest.fixture
def database_url(database_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if database_backend == "postgresql":
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
