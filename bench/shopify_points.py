"""Shopify points per order: what each Admin API operation of an order's life costs, requested
and actual, and how many orders a minute a standard-plan shop (100 points/s) can sustain.

    python bench/shopify_points.py [--orders 10] [--sku TEE-BLK-M-DTG]

The whole product runs in one process (``Stack``): sandbox Shopify, which prices every query by
Shopify's published rules (requested cost before it runs, actual cost from what it returned),
sandbox suppliers, the web app and a worker. The bucket is made large enough never to wait,
so that only cost is measured, not pacing. ``--orders`` one-line, one-supplier orders go
through their whole life, phase by phase, each phase drained before the next:

1. paid: ``orders/paid`` webhook → enrichment → routing → submission;
2. in production: the supplier's ``in_production`` callback;
3. shipped: the ``shipped`` callback → ``fulfillmentCreate`` with tracking;
4. re-labelled: the supplier gives the parcel a new tracking number (written on the shipment
   as the callback path does, then the ``shopify.update_tracking`` job) → the tracking update;
5. delivered: the ``delivered`` callback.

It runs twice: with the shipped configuration (stage mirror off) and with the stage mirror on.
Points per order are actual points over the orders; orders/min = 60 × 100 / points per order
(a re-label is not every order's: the totals are given with and without it).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import os  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

from sqlalchemy import select  # noqa: E402

from bench.common import machine_note, print_table, quiet_logs, scratch_database  # noqa: E402
from bench.shopify_cost import CostLedger, watch_costs  # noqa: E402
from integrator.db.models import Job, Shipment  # noqa: E402
from integrator.jobqueue.jobs import enqueue  # noqa: E402
from integrator.sandbox.shopify import LineSpec  # noqa: E402
from integrator.sandbox.stack import Stack, StackOptions  # noqa: E402

RESTORE_RATE = 100.0  # Shopify's standard plan
UNLIMITED = 1e9  # bucket size and restore rate that never make a call wait
RELABELLED = "re-labelled"
PHASES = ("paid", "in production", "shipped", RELABELLED, "delivered")


@dataclass
class OperationCost:
    phase: str
    operation: str
    calls: int
    requested: float  # total
    actual: float  # total
    largest_requested: float


@dataclass
class PointsRun:
    mirror: bool
    orders: int
    costs: list[OperationCost] = field(default_factory=list)
    dead_jobs: int = 0

    def per_order(self, *, with_relabel: bool = True) -> float:
        spent = sum(c.actual for c in self.costs if with_relabel or c.phase != RELABELLED)
        return spent / self.orders

    def orders_per_minute(self, *, with_relabel: bool = True) -> float:
        return 60 * RESTORE_RATE / self.per_order(with_relabel=with_relabel)


def relabel_every_shipment(stack: Stack) -> None:
    """What a supplier's second ``shipped`` callback with a new number does to a shipment."""
    with stack.db.write() as session:
        for shipment in session.scalars(select(Shipment)):
            shipment.tracking_number = f"{shipment.tracking_number}-R"
            enqueue(
                session,
                "shopify.update_tracking",
                {"shipment_id": shipment.id},
                unique_key=f"tracking:{shipment.id}:{shipment.tracking_number}",
            )


def record_phase(run: PointsRun, phase: str, ledger: CostLedger) -> None:
    for operation, (calls, requested, actual, largest) in ledger.snapshot().items():
        run.costs.append(OperationCost(phase, operation, calls, requested, actual, largest))
    ledger.reset()


def run(url: str, orders: int, sku: str, mirror: bool) -> PointsRun:
    stack = Stack(
        StackOptions(
            database_url=url,
            bucket_size=UNLIMITED,
            restore_rate=UNLIMITED,
            mirror_stage=mirror,
            migrate=False,
        )
    )
    result = PointsRun(mirror, orders)
    try:
        ledger = watch_costs(stack)
        placed = [stack.place_order([LineSpec(sku, 1)]) for _ in range(orders)]
        for order in placed:
            stack.send_webhook("orders/paid", order)
        stack.drain()
        record_phase(result, "paid", ledger)
        for phase, target in (("in production", "in_production"), ("shipped", "shipped")):
            stack.advance_all(target)
            stack.drain()
            record_phase(result, phase, ledger)
        relabel_every_shipment(stack)
        stack.drain()
        record_phase(result, RELABELLED, ledger)
        stack.advance_all("delivered")
        stack.drain()
        record_phase(result, "delivered", ledger)
        with stack.db.read() as session:
            result.dead_jobs = len(
                session.scalars(select(Job.id).where(Job.status == "dead")).all()
            )
        fulfilled = sum(len(stack.shop.fulfillments_of(order["id"])) for order in placed)
        if fulfilled != orders:
            raise RuntimeError(f"{fulfilled} fulfillments for {orders} orders")
    finally:
        stack.close()
    return result


def print_run(result: PointsRun) -> None:
    mirror = "stage mirror on" if result.mirror else "stage mirror off (shipped config)"
    print(f"\n{mirror}: {result.orders} one-line, one-supplier orders")
    rows: list[Sequence[object]] = [
        [
            c.phase,
            c.operation,
            f"{c.calls / result.orders:.2f}",
            f"{c.requested / c.calls:.1f}",
            f"{c.largest_requested:.0f}",
            f"{c.actual / c.calls:.1f}",
            f"{c.actual / result.orders:.1f}",
        ]
        for c in result.costs
    ]
    print_table(
        [
            "phase",
            "operation",
            "calls/order",
            "requested/call",
            "largest requested",
            "actual/call",
            "actual/order",
        ],
        rows,
    )
    print(
        f"actual points per order: {result.per_order():.1f} with a re-label, "
        f"{result.per_order(with_relabel=False):.1f} without; at {RESTORE_RATE:.0f} points/s: "
        f"{result.orders_per_minute():.0f} orders/min with a re-label, "
        f"{result.orders_per_minute(with_relabel=False):.0f} without; dead jobs {result.dead_jobs}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10)
    parser.add_argument("--sku", default="TEE-BLK-M-DTG", help="the one line's SKU")
    args = parser.parse_args()
    quiet_logs()
    print(machine_note())
    results = []
    for mirror in (False, True):
        with scratch_database(None) as url:
            results.append(run(url, args.orders, args.sku, mirror))
    for result in results:
        print_run(result)
    largest = max(c.largest_requested for r in results for c in r.costs)
    print(
        f"\nlargest requested cost of any call: {largest:.0f} points "
        f"({largest / RESTORE_RATE:.2f} s of a standard plan's restore)"
    )
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
