"""Security checks shared by tests/security and this script: what a database dump and the logs
of a full run reveal.

    python bench/chaos/security_checks.py [--orders 20] [--database-url URL]

prints how many dump bytes and log lines were scanned and every secret or piece of personal
data found in them (the tests assert there is none).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import io  # noqa: E402
import logging  # noqa: E402
import sqlite3  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.chaos.common import (  # noqa: E402
    Figures,
    advance_everything,
    command_line,
    database_kind,
    scratch_url,
    start_stack,
)
from integrator.db.database import Database  # noqa: E402
from integrator.db.models import Base  # noqa: E402
from integrator.logs import configure_logging  # noqa: E402
from integrator.sandbox.shopify import AddressSpec, LineSpec  # noqa: E402
from integrator.sandbox.stack import CLIENT_SECRET, Stack  # noqa: E402

# personal data distinctive enough that any occurrence in a log is a leak
CUSTOMER = AddressSpec(
    first_name="Philippa",
    last_name="Quennell-Ostrander",
    address1="742 Zwetschgenweg",
    city="Oberammergau-Nord",
    zip="82487",
    phone="+49 170 5550199",
)
CUSTOMER_EMAIL = "philippa.quennell@private-mail.example"


def dump_database(url: str) -> str:
    """Every row of every table as text, as a backup or a stolen dump would hold it."""
    if url.startswith("sqlite"):
        path = make_url(url).database
        assert path
        connection = sqlite3.connect(path)
        try:
            dumped = "\n".join(connection.iterdump())
        finally:
            connection.close()
        raw = b"".join(
            Path(name).read_bytes() for name in (path, f"{path}-wal") if Path(name).exists()
        )
        return dumped + "\n" + raw.decode("latin-1")
    database = Database.from_url(url)
    lines: list[str] = []
    try:
        with database.engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                for row in connection.execute(text(f"SELECT * FROM {table.name}")):
                    lines.append(repr(tuple(row)))
                    lines.extend(
                        bytes(value).decode("latin-1")
                        for value in row
                        if isinstance(value, bytes | memoryview)
                    )
    finally:
        database.dispose()
    return "\n".join(lines)


def issued_access_tokens(stack: Stack) -> list[str]:
    """Access tokens the sandbox Shopify handed to the service during the run."""
    issuer = stack.shopify.tokens
    with issuer._lock:
        return list(issuer._access)


def secrets_of(stack: Stack) -> dict[str, str]:
    found = {"shopify client secret": CLIENT_SECRET}
    for name, supplier in stack.config.suppliers.items():
        for key in ("api_key", "callback_secret", "webhook_secret"):
            value = supplier.options.get(key)
            if isinstance(value, str) and len(value) >= 8:
                found[f"{name} {key}"] = value
    if stack.settings.admin_token:
        found["admin token"] = stack.settings.admin_token
    for number, token in enumerate(issued_access_tokens(stack)):
        found[f"shopify access token {number}"] = token
    return found


def personal_data() -> dict[str, str]:
    return {
        "email": CUSTOMER_EMAIL,
        "last name": CUSTOMER.last_name,
        "street": CUSTOMER.address1,
        "city": CUSTOMER.city,
        "phone": CUSTOMER.phone or "",
    }


@contextmanager
def captured_logs(level: str = "DEBUG") -> Iterator[io.StringIO]:
    """Configure logging exactly as the service processes do, into a buffer."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    noisy = {
        name: logging.getLogger(name).level
        for name in ("httpx", "httpcore", "urllib3", "werkzeug", "apscheduler")
    }
    buffer = io.StringIO()
    configure_logging(level, json_lines=True)
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, value in noisy.items():
            logging.getLogger(name).setLevel(value)


@dataclass
class Exposure:
    dump_bytes: int
    log_lines: int
    secrets_in_dump: list[str]
    secrets_in_logs: list[str]
    personal_data_in_logs: list[str]
    tokens_issued: int


def full_run_exposure(stack: Stack, url: str, orders: int) -> Exposure:
    """Run orders to shipped with logs captured, then look for secrets and personal data."""
    with captured_logs() as logs:
        for number in range(orders):
            order = stack.shop.create_order(
                [LineSpec("TEE-BLK-M-DTG", 1), LineSpec("MUG-11OZ-WHT", 1)]
                if number % 2
                else [LineSpec("CANVAS-30X40", 1), LineSpec("CASE-IPHONE15-CLEAR", 1)],
                email=CUSTOMER_EMAIL,
                shipping_address=CUSTOMER,
            )
            stack.send_webhook("orders/paid", order)
        stack.drain()
        for stage in ("in_production", "shipped", "delivered"):
            advance_everything(stack, stage)
            stack.drain()
    log_text = logs.getvalue()
    dump = dump_database(url)
    secrets = secrets_of(stack)
    return Exposure(
        dump_bytes=len(dump),
        log_lines=log_text.count("\n"),
        secrets_in_dump=sorted(
            name
            for name, value in secrets.items()
            if name.startswith("shopify access token") and value in dump
        ),
        secrets_in_logs=sorted(name for name, value in secrets.items() if value in log_text),
        personal_data_in_logs=sorted(
            name for name, value in personal_data().items() if value and value in log_text
        ),
        tokens_issued=sum(1 for name in secrets if name.startswith("shopify access token")),
    )


def run(database_url: str | None, orders: int) -> Figures:
    with scratch_url(database_url) as url:
        stack = start_stack(url)
        try:
            started = time.monotonic()
            exposure = full_run_exposure(stack, url, orders)
        finally:
            stack.close()
    return Figures(
        scenario="security checks",
        database=database_kind(url),
        orders=orders,
        duration_seconds=time.monotonic() - started,
        extra=vars(exposure),
    )


if __name__ == "__main__":
    command_line(__doc__ or "", 20, run)
