"""The whole pipeline: orders per minute from the ``orders/paid`` webhook to the Shopify
fulfillment, with the sandboxes answering at once, on SQLite and PostgreSQL, 1 and 4 worker
threads; and how the time grows with the number of orders.

    python bench/pipeline.py [--orders 1000] [--pg URL] [--threads 1,4] [--growth 250,500]

Everything runs on loopback through ``Stack(loopback=True)``: sandbox Shopify, sandbox
suppliers, the web app (werkzeug, threaded) and one worker process's threads. Three actors
run at the same time for each configuration:

* a sender posts every order's signed ``orders/paid`` webhook, one after another;
* the worker does the product's work: delivery → enrichment (one Admin GraphQL query) →
  routing → one submission per supplier order → callbacks → shipment → ``fulfillmentCreate``;
* a "supplier" thread ships each supplier order as soon as it has been submitted (its sandbox
  posts the callbacks to our web app).

An order counts as done when sandbox Shopify holds one fulfillment per supplier of the order;
the run checks that no order got more. Orders have one to three lines over one to three
suppliers (seeded, so every run sees the same mix). Sandbox Shopify's cost bucket is made
large enough never to throttle: the rate limit is ``bench/tracking_sync.py``'s subject, and
with Shopify's standard 100 points/s it, not the pipeline, would set the pace here.

The baseline of each table is the 1-thread SQLite run of the same invocation. ``--growth``
adds SQLite runs of fewer orders with the largest thread count, to compare the time per order
as the count grows. 10,000 orders (``--orders 10000``) take long on two cores: tens of
minutes per configuration.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import random  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from bench.common import (  # noqa: E402
    account_limit,
    account_limit_argument,
    database_kind,
    machine_note,
    print_table,
    quiet_logs,
    scratch_database,
)
from integrator.db.models import Job, SupplierOrder  # noqa: E402
from integrator.sandbox.shopify import LineSpec  # noqa: E402
from integrator.sandbox.stack import Stack, StackOptions  # noqa: E402

# one routable SKU per supplier under config/routing.yaml (the sandbox ships to Berlin)
SKU_SUPPLIER = {
    "TEE-BLK-M-DTG": "printful",
    "CASE-IPHONE15-CLEAR": "printify",
    "CANVAS-30X40": "gelato",
    "MUG-11OZ-WHT": "prodigi",
}
UNTHROTTLED = 1e9  # bucket points and restore rate: Shopify never says THROTTLED here
CHECKPOINTS = (0.25, 0.5, 1.0)


def order_mix(count: int, seed: int = 7) -> list[list[LineSpec]]:
    rng = random.Random(seed)
    skus = list(SKU_SUPPLIER)
    return [
        [LineSpec(sku, rng.randint(1, 2)) for sku in rng.sample(skus, rng.randint(1, 3))]
        for _ in range(count)
    ]


@dataclass
class PipelineRun:
    database: str
    threads: int
    orders: int
    seconds: float = 0.0
    completed: int = 0
    checkpoints: dict[float, float] = field(default_factory=dict)
    supplier_orders: int = 0
    fulfillments: int = 0
    extra_fulfillments: int = 0
    dead_jobs: int = 0

    @property
    def per_minute(self) -> float:
        return self.completed / self.seconds * 60 if self.seconds else 0.0

    @property
    def ms_per_order(self) -> float:
        return self.seconds / self.completed * 1000 if self.completed else float("nan")


class Supplier(threading.Thread):
    """Ships every supplier order as soon as it has been submitted to its sandbox."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(name="bench-supplier", daemon=True)
        self.stack = stack
        self.shipped: set[int] = set()
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            with self.stack.db.read() as session:
                rows = session.execute(
                    select(
                        SupplierOrder.id, SupplierOrder.supplier, SupplierOrder.supplier_order_id
                    )
                    .where(SupplierOrder.status == "submitted")
                    .where(SupplierOrder.supplier_order_id.is_not(None))
                ).all()
            fresh = [row for row in rows if row.id not in self.shipped]
            for row in fresh:
                self.stack.suppliers[row.supplier].advance(str(row.supplier_order_id), "shipped")
                self.shipped.add(row.id)
            if not fresh:
                self.stopping.wait(0.05)


def run(
    url: str, orders: int, threads: int, timeout: float, account_calls_per_minute: int = 0
) -> PipelineRun:
    stack = Stack(
        StackOptions(
            database_url=url,
            loopback=True,
            bucket_size=UNTHROTTLED,
            restore_rate=UNTHROTTLED,
            migrate=False,
            account_calls_per_minute=account_limit(account_calls_per_minute),
        )
    )
    result = PipelineRun(database_kind(url), threads, orders)
    try:
        placed = [stack.place_order(lines) for lines in order_mix(orders)]
        expected = {
            str(order["id"]): len({SKU_SUPPLIER[line.sku] for line in lines})
            for order, lines in zip(placed, order_mix(orders), strict=True)
        }
        worker = stack.worker(threads=threads, poll_interval=0.05, lease_seconds=60)
        supplier = Supplier(stack)
        sender = threading.Thread(
            target=lambda: [stack.send_webhook("orders/paid", order) for order in placed],
            name="bench-sender",
            daemon=True,
        )
        runner = threading.Thread(target=worker.run, name="bench-worker", daemon=True)
        started = time.monotonic()
        for thread in (runner, supplier, sender):
            thread.start()
        done: set[str] = set()
        marks = sorted({max(1, round(orders * mark)) for mark in CHECKPOINTS})
        deadline = started + timeout
        while len(done) < orders and time.monotonic() < deadline:
            counts = stack.shop.counters.fulfillments_by_order
            for order_id, wanted in expected.items():
                if order_id not in done and counts.get(order_id, 0) >= wanted:
                    done.add(order_id)
            elapsed = time.monotonic() - started
            for mark in marks:
                if len(done) >= mark and mark not in result.checkpoints:
                    result.checkpoints[mark] = elapsed
            time.sleep(0.05)
        result.seconds = time.monotonic() - started
        result.completed = len(done)
        if len(done) == orders:
            result.seconds = result.checkpoints[orders]
        worker.stop()
        supplier.stopping.set()
        sender.join(timeout=30)
        runner.join(timeout=60)
        supplier.join(timeout=30)
        result.fulfillments = sum(len(stack.shop.fulfillments_of(o["id"])) for o in placed)
        result.extra_fulfillments = result.fulfillments - sum(expected.values())
        with stack.db.read() as session:
            result.supplier_orders = int(
                session.scalar(select(func.count()).select_from(SupplierOrder)) or 0
            )
            result.dead_jobs = int(
                session.scalar(select(func.count()).select_from(Job).where(Job.status == "dead"))
                or 0
            )
    finally:
        stack.close()
    return result


def report(runs: Sequence[PipelineRun]) -> None:
    baseline = next(
        (
            r
            for r in runs
            if r.database == "sqlite" and r.threads == 1 and r.orders == runs[0].orders
        ),
        runs[0],
    )
    rows: list[list[Any]] = []
    for r in runs:
        rows.append(
            [
                r.database,
                r.threads,
                f"{r.completed}/{r.orders}",
                r.seconds,
                r.per_minute,
                f"{r.per_minute / baseline.per_minute:.2f}" if baseline.per_minute else "–",
                r.ms_per_order,
                ", ".join(f"{n}: {s:.1f}s" for n, s in sorted(r.checkpoints.items())),
                f"{r.supplier_orders}/{r.fulfillments}/{r.extra_fulfillments}/{r.dead_jobs}",
            ]
        )
    print_table(
        [
            "db",
            "threads",
            "orders done",
            "seconds",
            "orders/min",
            "ratio to sqlite 1 thread",
            "ms/order",
            "time to n orders",
            "supplier orders/fulfillments/extra/dead jobs",
        ],
        rows,
    )


def progress(r: PipelineRun) -> None:
    """One line per finished configuration, so a long run that is cut short still tells."""
    marks = ", ".join(f"{n}: {s:.1f}s" for n, s in sorted(r.checkpoints.items()))
    print(
        f"  {r.database} {r.threads} thread(s): {r.completed}/{r.orders} orders in"
        f" {r.seconds:.1f}s ({r.per_minute:.0f}/min; {marks}); supplier orders"
        f" {r.supplier_orders}, fulfillments {r.fulfillments}, extra {r.extra_fulfillments},"
        f" dead jobs {r.dead_jobs}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--threads", default="1,4", help="worker thread counts, comma separated")
    parser.add_argument("--growth", default="250,500", help="extra SQLite runs of these sizes")
    parser.add_argument("--pg", help="also run on this PostgreSQL URL (emptied before each run)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--timeout", type=float, default=1800.0, help="per configuration")
    account_limit_argument(parser)
    args = parser.parse_args()
    quiet_logs()
    thread_counts = [int(n) for n in args.threads.split(",") if n]
    print(machine_note())
    print(f"{args.orders} orders; worker threads {thread_counts}; sandboxes at zero latency")
    print(
        f"supplier accounts: {account_limit(args.account_calls_per_minute) or 'published'} calls/min"
    )
    runs: list[PipelineRun] = []
    databases: list[str | None] = [] if args.no_sqlite else [None]
    if args.pg:
        databases.append(args.pg)
    for database in databases:
        for threads in thread_counts:
            with scratch_database(database) as url:
                runs.append(
                    run(url, args.orders, threads, args.timeout, args.account_calls_per_minute)
                )
            progress(runs[-1])
    growth = [int(n) for n in args.growth.split(",") if n]
    if growth and not args.no_sqlite:
        for size in growth:
            with scratch_database() as url:
                runs.append(
                    run(url, size, max(thread_counts), args.timeout, args.account_calls_per_minute)
                )
            progress(runs[-1])
    report(runs)


if __name__ == "__main__":
    main()
