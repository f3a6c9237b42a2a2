"""Database outage: the database is made unavailable for a while as orders/paid webhooks arrive
and a worker runs → every delivery is answered 503 or stored (never 2xx without a row, never
another 5xx); the sandbox Shopify re-sends what got 503, as Shopify does; after recovery every
order is in and completes.

How the database is made unavailable (for real, from outside the service):

* PostgreSQL: ``ALTER DATABASE … ALLOW_CONNECTIONS false`` and ``pg_terminate_backend`` on every
  session of the database, from a connection to the ``postgres`` database; undone afterwards.
  Every pooled connection dies and no new one can be opened.
* SQLite: another connection holds ``BEGIN EXCLUSIVE`` on the file (what a backup, a migration
  or a stuck process does), so every write waits for the busy timeout and fails with
  "database is locked". The run lowers the service's busy timeout from 30 s to 2 s: with 30 s a
  lock shorter than 30 s is only a stall and never reaches Shopify as an error.

    python bench/chaos/database_outage.py [--orders 300] [--database-url URL] [--down-seconds 30]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import sqlite3  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.chaos.common import (  # noqa: E402
    Figures,
    advance_everything,
    audit,
    figures_from,
    place_orders,
    quiet_servers,
    running_worker,
    scratch_url,
    shopify_url,
    start_stack,
    wait_for_queue,
)
from bench.common import machine_note  # noqa: E402
from integrator.db import database as database_module  # noqa: E402
from integrator.db.database import normalise_url  # noqa: E402
from integrator.db.models import WebhookDelivery  # noqa: E402
from integrator.sandbox.shopify import DeliveryOutcome, WebhookSender  # noqa: E402
from integrator.sandbox.stack import CLIENT_SECRET, Stack  # noqa: E402

SQLITE_BUSY_TIMEOUT_MS = 2_000
SENDERS = 8


@contextmanager
def sqlite_locked(url: str) -> Iterator[None]:
    """Hold the write lock of the SQLite file from a separate connection."""
    path = make_url(url).database
    assert path
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        connection.execute("ROLLBACK")
        connection.close()


@contextmanager
def postgres_refused(url: str) -> Iterator[None]:
    """Refuse new connections to the database and end every session it has."""
    target = make_url(normalise_url(url))
    name = target.database
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def outage(url: str) -> Callable[[], Any]:
    return (
        (lambda: sqlite_locked(url))
        if url.startswith("sqlite")
        else (lambda: postgres_refused(url))
    )


@contextmanager
def short_busy_timeout() -> Iterator[None]:
    saved = database_module.SQLITE_BUSY_TIMEOUT_MS
    database_module.SQLITE_BUSY_TIMEOUT_MS = SQLITE_BUSY_TIMEOUT_MS
    try:
        yield
    finally:
        database_module.SQLITE_BUSY_TIMEOUT_MS = saved


def deliver_all(
    stack: Stack, placed: list[dict[str, Any]], sender: WebhookSender
) -> list[DeliveryOutcome]:
    def one(order: dict[str, Any]) -> DeliveryOutcome:
        delivery = sender.prepare(
            "orders/paid", stack.shop.webhook_payload(order["id"]), stack.options.shop
        )
        return sender.deliver(shopify_url(stack), delivery)

    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        return list(pool.map(one, placed))


def stored_webhook_ids(stack: Stack) -> set[str]:
    with stack.db.read() as session:
        return set(
            session.scalars(
                select(WebhookDelivery.dedupe_key).where(WebhookDelivery.source == "shopify")
            )
        )


def run(database_url: str | None, orders: int, *, down_seconds: float = 30.0) -> Figures:
    quiet_servers()
    with scratch_url(database_url) as url, short_busy_timeout():
        stack = start_stack(url)
        # Shopify's retry schedule, compressed: 0.5 s, 1 s, 2 s … (8 retries, about 2 minutes)
        sender = WebhookSender(CLIENT_SECRET, http=stack.sender.http, backoff_seconds=0.5)
        try:
            started = time.monotonic()
            placed = place_orders(stack, orders)
            outcomes: list[DeliveryOutcome] = []
            with running_worker(stack, threads=2, lease_seconds=5.0):
                # a third before the outage, the rest while the database is unavailable
                before = len(placed) // 3
                outcomes.extend(deliver_all(stack, placed[:before], sender))
                sending = threading.Thread(
                    target=lambda: outcomes.extend(deliver_all(stack, placed[before:], sender))
                )
                down_from = time.monotonic()
                with outage(url)():
                    # one delivery sent once, while the outage surely holds: it must get 503
                    probe = WebhookSender(CLIENT_SECRET, http=stack.sender.http, max_attempts=1)
                    probe_status = deliver_all(stack, placed[:1], probe)[0].statuses
                    sending.start()
                    time.sleep(down_seconds)
                down_for = time.monotonic() - down_from
                sending.join(timeout=600)
                drained = wait_for_queue(stack.db, timeout=120 + orders)
                for stage in ("in_production", "shipped"):
                    advance_everything(stack, stage)
                    drained = wait_for_queue(stack.db, timeout=120 + orders) and drained
            answers: Counter[int | None] = Counter(
                status for outcome in outcomes for status in outcome.statuses
            )
            stored = stored_webhook_ids(stack)
            acknowledged_not_stored = sum(
                1
                for outcome in outcomes
                if outcome.delivered and outcome.delivery.webhook_id not in stored
            )
            undelivered = sum(1 for outcome in outcomes if not outcome.delivered)
            found = audit(stack, placed)
            return figures_from(
                "database outage",
                url,
                placed,
                found,
                started,
                down_seconds=round(down_for, 1),
                webhook_answers=dict(answers),
                probe_answers=probe_status,
                deliveries_resent=sum(len(o.statuses) - 1 for o in outcomes),
                deliveries_never_acknowledged=undelivered,
                acknowledged_but_not_stored=acknowledged_not_stored,
                other_5xx=sum(
                    n for s, n in answers.items() if s is not None and s >= 500 and s != 503
                ),
                drained=drained,
            )
        finally:
            stack.close()


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--down-seconds", type=float, default=30.0)
    arguments = parser.parse_args()
    print(machine_note(), flush=True)
    print(
        run(arguments.database_url, arguments.orders, down_seconds=arguments.down_seconds).report()
    )


if __name__ == "__main__":
    main()
