"""What the benchmarks share: a scratch database, a table printer, percentiles, quiet logs.

Each script is run as ``python bench/<name>.py``, which puts ``bench/`` first on ``sys.path``;
there ``bench/job_queue.py`` would shadow the standard library's ``queue`` (used by logging and
threads), so every script calls :func:`fix_sys_path` before importing anything else.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fix_sys_path() -> None:
    """Keep ``bench/`` off ``sys.path`` and put the project root on it."""
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


fix_sys_path()

import atexit  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import socket  # noqa: E402
import tempfile  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from typing import TextIO  # noqa: E402

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from integrator.db.database import Database  # noqa: E402
from integrator.db.migrate import upgrade  # noqa: E402
from integrator.db.models import Base  # noqa: E402

SHARED_DATABASES = frozenset({"test", "postgres", "template0", "template1"})
DEFAULT_PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
# calls a minute each sandbox supplier account allows in the throughput benchmarks: an account
# its supplier granted more than the published limit (Printful 120, Printify 600), so that a
# run measures the integrator rather than a supplier's limit (bench/supplier_limits.py and the
# tests keep the published ones)
ACCOUNT_CALLS_PER_MINUTE = 6000


def account_limit_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--account-calls-per-minute",
        type=int,
        default=ACCOUNT_CALLS_PER_MINUTE,
        help="each sandbox supplier account's limit, told to the integrator as well "
        "(0: the published limits)",
    )


def account_limit(value: int) -> int | None:
    return value or None


def load_average() -> str:
    one, five, fifteen = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min)"


def machine_note(stream: TextIO | None = None) -> str:
    """The machine and its load at the start; the load at the end is printed at exit (the
    machine is shared: a figure means little without the load it was taken under)."""
    atexit.register(
        lambda: print(f"load average {load_average()} at the end", file=stream, flush=True)
    )
    return (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, load average {load_average()} at start"
    )


def database_kind(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def refuse_shared(url: str) -> None:
    """No bench ever writes to a database others use (the test suites' ``test`` above all)."""
    name = make_url(url).database or ""
    if name in SHARED_DATABASES:
        raise SystemExit(
            f"refusing to run a bench in the shared database {name!r}: use a scratch one"
        )


def empty_postgres(url: str) -> None:
    """Migrate ``url`` and empty every table, so each run starts from nothing."""
    refuse_shared(url)
    upgrade(url)
    database = Database.from_url(url)
    tables = ", ".join(table.name for table in reversed(Base.metadata.sorted_tables))
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    database.dispose()


@contextmanager
def scratch_database(pg_url: str | None = None) -> Iterator[str]:
    """A migrated, empty database for one run: ``pg_url`` emptied, or a temporary SQLite file."""
    if pg_url:
        empty_postgres(pg_url)
        yield pg_url
        return
    with tempfile.TemporaryDirectory(prefix="integrator-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        yield url


@contextmanager
def scratch_postgres(server_url: str = DEFAULT_PG_SERVER, prefix: str = "bench") -> Iterator[str]:
    """A PostgreSQL database made for this run on ``server_url``'s server, migrated, and
    dropped afterwards: the URL of the new database."""
    server = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def quiet_logs() -> None:
    """Benchmarks print tables; the service's per-request logs would only slow them down."""
    logging.disable(logging.INFO)
    for name in ("alembic", "werkzeug", "httpx", "integrator", "webhooks"):
        logging.getLogger(name).setLevel(logging.WARNING)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Print (and return) a Markdown table, so the output can be pasted into BENCHMARKS.md."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
        *(
            "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
            for row in cells[1:]
        ),
    ]
    table = "\n".join(lines)
    print(table, flush=True)
    return table


def _cell(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)
