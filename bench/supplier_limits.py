"""Supplier rate limits across worker processes: does any supplier get more calls than it
publishes, when two ``integrator worker`` processes submit a burst of orders at once?

    python bench/supplier_limits.py [--orders 150] [--pg URL] [--redis redis://127.0.0.1:6379]

The stack runs on loopback (sandbox Shopify, sandbox suppliers, the web app); two real worker
processes (``integrator worker --threads 2``) get the orders' work. Every order has a Printful
line (published limit: 120 calls in any 60 s), a third of them a Printify line too (600), so
Printful is asked for more than its limit in the first minute. The sandboxes count every call
they answer and every call they refuse with 429 (``GET /_sandbox/calls``), and the busiest
60 s of answered calls.

Each configuration starts from an empty database and fresh sandboxes:

* ``database`` — the default: limiters and breakers in the database (ADR 0010);
* ``redis`` — with ``--redis``: ``RATE_LIMIT_STORAGE_URL`` set to it;
* ``per process`` — ``RATE_LIMIT_STORAGE_URL=memory://``: each process counts alone, as every
  process did before (the comparison).

A run ends when the queue is empty (work refused by a limiter is retried when its window has
room), so every order's supplier orders are submitted; the bench checks that none was doubled.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from bench.chaos.common import queue_busy, quiet_servers, wait_until  # noqa: E402
from bench.chaos.killed_workers import WorkerPool, worker_environment  # noqa: E402
from bench.common import machine_note, print_table, scratch_database  # noqa: E402
from integrator.db.models import SupplierOrder  # noqa: E402
from integrator.sandbox.shopify import LineSpec  # noqa: E402
from integrator.sandbox.stack import Stack, StackOptions  # noqa: E402

WORKERS = 2
THREADS = 2


@dataclass
class Row:
    storage: str
    supplier: str
    limit: int | None
    answered: int
    refused: int
    busiest: int
    submitted: int
    doubled: int
    seconds: float

    @property
    def within(self) -> str:
        if self.limit is None:
            return "no published limit"
        return "yes" if self.busiest <= self.limit and not self.refused else "**NO**"


def order_lines(rng: random.Random) -> list[LineSpec]:
    lines = [LineSpec("TEE-BLK-M-DTG", 1)]
    if rng.random() < 1 / 3:
        lines.append(LineSpec("CASE-IPHONE15-CLEAR", 1))
    return lines


def run(storage_name: str, storage_url: str, pg_url: str | None, orders: int) -> list[Row]:
    with scratch_database(pg_url) as url, tempfile.TemporaryFile() as log:
        stack = Stack(StackOptions(database_url=url, loopback=True, migrate=False))
        env = worker_environment(stack, url)
        env["RATE_LIMIT_STORAGE_URL"] = storage_url
        pool = WorkerPool(env, WORKERS, THREADS, log)
        try:
            rng = random.Random(5)
            placed = [stack.place_order(order_lines(rng)) for _ in range(orders)]
            pool.start()
            started = time.monotonic()
            for order in placed:
                stack.send_webhook("orders/paid", order)
            wait_until(lambda: queue_busy(stack.db) == 0, timeout=60 + orders * 3, settle=2)
            seconds = time.monotonic() - started
            return rows_of(stack, storage_name, seconds)
        finally:
            pool.stop()
            stack.close()


def rows_of(stack: Stack, storage: str, seconds: float) -> list[Row]:
    with stack.db.read() as session:
        submitted = dict(
            session.execute(
                select(SupplierOrder.supplier, func.count())
                .where(SupplierOrder.supplier_order_id.is_not(None))
                .group_by(SupplierOrder.supplier)
            ).all()
        )
    rows = []
    for name, sandbox in stack.suppliers.items():
        calls = sandbox.calls.summary()
        if not calls["answered"] and not calls["refused"]:
            continue
        doubled = sum(count - 1 for count in sandbox.created_per_ref.values() if count > 1)
        rows.append(
            Row(
                storage,
                name,
                calls["limit"],
                calls["answered"],
                calls["refused"],
                calls["busiest_window"],
                int(submitted.get(name, 0)),
                doubled,
                seconds,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=150)
    parser.add_argument("--pg", default=None, help="PostgreSQL URL (emptied first)")
    parser.add_argument("--redis", default=None, help="also run with this Redis storage")
    arguments = parser.parse_args()
    quiet_servers()
    print(machine_note())
    configurations = [("database", "")]
    if arguments.redis:
        configurations.append(("redis", arguments.redis))
    configurations.append(("per process", "memory://"))
    rows: list[Row] = []
    for name, storage_url in configurations:
        rows += run(name, storage_url, arguments.pg, arguments.orders)
    database = "postgresql" if arguments.pg else "sqlite"
    print(f"{arguments.orders} orders, {WORKERS} worker processes × {THREADS} threads, {database}")
    print_table(
        [
            "storage",
            "supplier",
            "limit / 60 s",
            "calls answered",
            "429 answers",
            "busiest 60 s",
            "within limit",
            "orders submitted",
            "doubled",
            "run s",
        ],
        [
            [
                r.storage,
                r.supplier,
                r.limit if r.limit is not None else "none published",
                r.answered,
                r.refused,
                r.busiest,
                r.within,
                r.submitted,
                r.doubled,
                f"{r.seconds:.0f}",
            ]
            for r in rows
        ],
    )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
