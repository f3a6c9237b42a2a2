"""Tracking sync: Shopify fulfillments per second against the sandbox's cost bucket, as a
fraction of the most that bucket allows, measured in the same run.

    python bench/tracking_sync.py [--orders 40] [--threads 4] [--pg URL]

The whole product runs on loopback (``Stack(loopback=True)``): sandbox Shopify with a
1000-point bucket restoring 100 points/s, sandbox suppliers, the web app and a worker with
``--threads`` threads sharing one Admin API client. Orders with one line per supplier are
paid, routed, submitted and put in production first; then, with the bucket full again, every
supplier order is shipped at once. Each ``shipped`` callback records a shipment and enqueues
``shopify.sync_shipment``, whose handler reads the order's fulfillment state and sends one
``fulfillmentCreate`` (the real job path, stage mirroring off so that nothing else spends
points).

The ceiling is computed from what the run measured: the points that the sync's operations
actually cost per fulfillment (``extensions.cost.actualQueryCost``, as Shopify charges after
its refund), the bucket's content at the start and the restore rate:

    most fulfillments in T seconds = (points available at start + restore rate x T) / cost

and the sustained ceiling is restore rate / cost. The run must end with zero failed syncs.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Callable, Iterator, Mapping  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from bench.common import (  # noqa: E402
    database_kind,
    machine_note,
    print_table,
    quiet_logs,
    scratch_database,
)
from integrator.db.models import Job, Shipment  # noqa: E402
from integrator.jobqueue.jobs import queue_stats  # noqa: E402
from integrator.sandbox.shopify import LineSpec  # noqa: E402
from integrator.sandbox.stack import Stack, StackOptions  # noqa: E402

BUCKET_SIZE = 1000.0
RESTORE_RATE = 100.0
AIM_FRACTION = 0.90
# one routable SKU per supplier under config/routing.yaml (the sandbox ships to Berlin)
ONE_PER_SUPPLIER = ("TEE-BLK-M-DTG", "CASE-IPHONE15-CLEAR", "CANVAS-30X40", "MUG-11OZ-WHT")


@dataclass
class CostLedger:
    """Points charged by Shopify per operation, read from the answers the client observed."""

    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    actual: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    requested: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, operation: str, extensions: Mapping[str, Any] | None) -> None:
        cost = (extensions or {}).get("cost") or {}
        with self.lock:
            self.calls[operation] += 1
            self.actual[operation] += float(cost.get("actualQueryCost") or 0.0)
            self.requested[operation] += float(cost.get("requestedQueryCost") or 0.0)

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.actual.clear()
            self.requested.clear()


def watch_costs(stack: Stack) -> CostLedger:
    """Record every answer's cost on the way into the client's own pacing."""
    ledger = CostLedger()
    throttles = stack.container.shopify.throttles
    observe: Callable[..., None] = throttles.observe

    def observing(shop: str, operation: str, extensions: Any, now: float) -> None:
        ledger.record(operation, extensions)
        observe(shop, operation, extensions, now)

    throttles.observe = observing  # type: ignore[method-assign]
    return ledger


@contextmanager
def running_worker(stack: Stack, threads: int) -> Iterator[None]:
    worker = stack.worker(threads=threads, poll_interval=0.05, lease_seconds=60)
    runner = threading.Thread(target=worker.run, name="bench-worker", daemon=True)
    runner.start()
    try:
        yield
    finally:
        worker.stop()
        runner.join(timeout=60)


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def queue_idle(stack: Stack) -> bool:
    counts = queue_stats(stack.db)["counts"]
    return int(counts.get("queued", 0)) + int(counts.get("running", 0)) == 0


def synced_shipments(stack: Stack) -> int:
    with stack.db.read() as session:
        count = session.scalar(
            select(func.count()).select_from(Shipment).where(Shipment.sync_status == "synced")
        )
    return int(count or 0)


def advance_all(stack: Stack, to: str) -> None:
    for supplier, remote_id, _reference in stack.supplier_orders():
        stack.suppliers[supplier].advance(remote_id, to)


@dataclass
class SyncRun:
    database: str
    orders: int
    shipments: int = 0
    synced: int = 0
    failed: int = 0
    seconds: float = 0.0
    start_points: float = 0.0
    cost_per_fulfillment: float = 0.0
    requested_per_fulfillment: float = 0.0
    throttle_waits: int = 0
    throttled_responses: int = 0
    operations: dict[str, tuple[int, float]] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.synced / self.seconds if self.seconds else 0.0

    @property
    def ceiling(self) -> float:
        """The most fulfillments per second the bucket allowed over this run's window."""
        allowed_points = self.start_points + RESTORE_RATE * self.seconds
        return allowed_points / self.cost_per_fulfillment / self.seconds

    @property
    def sustained_ceiling(self) -> float:
        return RESTORE_RATE / self.cost_per_fulfillment

    @property
    def fraction(self) -> float:
        return self.rate / self.ceiling if self.ceiling else float("nan")


def run(url: str, orders: int, threads: int) -> SyncRun:
    stack = Stack(
        StackOptions(
            database_url=url,
            loopback=True,
            bucket_size=BUCKET_SIZE,
            restore_rate=RESTORE_RATE,
            mirror_stage=False,
            migrate=False,
        )
    )
    result = SyncRun(database_kind(url), orders)
    try:
        ledger = watch_costs(stack)
        placed = [
            stack.place_order([LineSpec(sku, 1) for sku in ONE_PER_SUPPLIER]) for _ in range(orders)
        ]
        with running_worker(stack, threads):
            for order in placed:
                stack.send_webhook("orders/paid", order)
            if not wait_until(lambda: queue_idle(stack), timeout=120 + orders):
                raise RuntimeError("orders were not submitted in time")
            advance_all(stack, "in_production")
            if not wait_until(lambda: queue_idle(stack), timeout=120 + orders):
                raise RuntimeError("in_production callbacks were not applied in time")
            # start the window with the bucket full, as a shop that has been quiet for a while
            wait_until(
                lambda: stack.shop.bucket.status().currently_available >= BUCKET_SIZE - 1,
                timeout=BUCKET_SIZE / RESTORE_RATE + 5,
            )
            client = stack.container.shopify
            waits, throttled = client.throttle_waits, client.throttled_responses
            ledger.reset()
            result.start_points = stack.shop.bucket.status().currently_available
            expected = len(stack.supplier_orders())
            started = time.monotonic()
            advance_all(stack, "shipped")
            done = wait_until(
                lambda: synced_shipments(stack) >= expected and queue_idle(stack),
                timeout=60 + expected * 2,
            )
            result.seconds = time.monotonic() - started
            if not done:
                print(f"! not every shipment synced in time ({synced_shipments(stack)}/{expected})")
            result.throttle_waits = client.throttle_waits - waits
            result.throttled_responses = client.throttled_responses - throttled
        with stack.db.read() as session:
            result.shipments = int(session.scalar(select(func.count()).select_from(Shipment)) or 0)
            dead = session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.kind == "shopify.sync_shipment", Job.status != "done")
            )
        result.synced = synced_shipments(stack)
        result.failed = (result.shipments - result.synced) + int(dead or 0)
        fulfillments = sum(len(stack.shop.fulfillments_of(o["id"])) for o in placed)
        result.failed += abs(fulfillments - result.synced)
        result.operations = {
            op: (ledger.calls[op], ledger.actual[op] / max(ledger.calls[op], 1))
            for op in sorted(ledger.calls)
        }
        result.cost_per_fulfillment = sum(ledger.actual.values()) / max(result.synced, 1)
        result.requested_per_fulfillment = sum(ledger.requested.values()) / max(result.synced, 1)
    finally:
        stack.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=40, help="orders of 4 shipments each")
    parser.add_argument("--threads", type=int, default=4, help="worker threads")
    parser.add_argument("--pg", help="run on this PostgreSQL URL (emptied first) instead")
    args = parser.parse_args()
    quiet_logs()
    print(machine_note())
    print(
        f"sandbox bucket {BUCKET_SIZE:.0f} points restoring {RESTORE_RATE:.0f}/s; "
        f"{args.orders} orders x 4 suppliers; worker threads {args.threads}",
        flush=True,
    )
    with scratch_database(args.pg) as url:
        result = run(url, args.orders, args.threads)
    print_table(
        ["operation in the window", "calls", "actual points per call"],
        [[op, calls, cost] for op, (calls, cost) in result.operations.items()],
    )
    print()
    print_table(
        [
            "db",
            "shipments",
            "synced",
            "failed",
            "seconds",
            "points/fulfillment (actual, requested)",
            "fulfillments/s",
            "ceiling/s (window)",
            "ceiling/s (sustained)",
            "fraction",
            "throttle waits / THROTTLED",
        ],
        [
            [
                result.database,
                result.shipments,
                result.synced,
                result.failed,
                result.seconds,
                f"{result.cost_per_fulfillment:.1f}, {result.requested_per_fulfillment:.1f}",
                result.rate,
                result.ceiling,
                result.sustained_ceiling,
                f"{result.fraction:.2f}",
                f"{result.throttle_waits} / {result.throttled_responses}",
            ]
        ],
    )
    met = result.fraction >= AIM_FRACTION and result.failed == 0
    print(
        f"start points {result.start_points:.0f}; aim ≥{AIM_FRACTION:.0%} of the ceiling with zero"
        f" failed syncs → {'met' if met else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
