"""What every chaos scenario shares: a database, the stack, orders, workers, the audit, figures.

The audit counts from both sides of every boundary: orders placed in the sandbox shop against
rows in our database, supplier orders in our database against orders the sandbox suppliers
created (by external reference), shipments against Shopify fulfillments.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from bench.common import machine_note
from integrator.db.database import Database
from integrator.db.migrate import upgrade
from integrator.db.models import Base, Job, LineItem, Order, Shipment, SupplierOrder
from integrator.domain.statuses import SupplierOrderStatus
from integrator.jobqueue.jobs import queue_stats
from integrator.jobqueue.worker import Worker
from integrator.sandbox.shopify import LineSpec
from integrator.sandbox.stack import Stack, StackOptions

# one SKU per supplier under config/routing.yaml (the sandbox shop ships to Berlin by default)
SKU_SUPPLIER = {
    "TEE-BLK-M-DTG": "printful",
    "CASE-IPHONE15-CLEAR": "printify",
    "CANVAS-30X40": "gelato",
    "MUG-11OZ-WHT": "prodigi",
}
SKUS = tuple(SKU_SUPPLIER)
DONE_STAGES = ("shipped", "delivered")
CLOSED_STAGES = ("shipped", "delivered", "failed", "cancelled", "on_hold", "returned")


@dataclass
class Figures:
    """What a run prints: the headline counts and whatever else the scenario measured."""

    scenario: str
    database: str
    orders: int = 0
    duplicates: int = 0
    lost: int = 0
    stuck: int = 0
    retries: int = 0
    duration_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def report(self) -> str:
        head = (
            f"{self.scenario} on {self.database}: orders={self.orders} "
            f"duplicates={self.duplicates} lost={self.lost} stuck={self.stuck} "
            f"retries={self.retries} duration={self.duration_seconds:.1f}s"
        )
        details = "\n".join(f"  {key}: {value}" for key, value in sorted(self.extra.items()))
        return head + ("\n" + details if details else "")

    def as_json(self) -> str:
        return json.dumps(asdict(self), default=str)


# --- databases -----------------------------------------------------------------------------


def database_kind(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def reset_database(url: str) -> None:
    """Empty every table (PostgreSQL) or migrate a fresh file (SQLite) before a run."""
    upgrade(url)
    if url.startswith("sqlite"):
        return
    database = Database.from_url(url)
    tables = ", ".join(table.name for table in reversed(Base.metadata.sorted_tables))
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    database.dispose()


@contextmanager
def scratch_url(url: str | None) -> Iterator[str]:
    """The given URL (emptied), or a fresh SQLite file that lives for the run."""
    if url:
        reset_database(url)
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="chaos-") as folder:
        path = Path(folder) / "integrator.db"
        fresh = f"sqlite:///{path}"
        upgrade(fresh)
        yield fresh


def start_stack(url: str, **options: Any) -> Stack:
    return Stack(StackOptions(database_url=url, migrate=False, **options))


# --- orders --------------------------------------------------------------------------------


def order_lines(rng: random.Random) -> list[LineSpec]:
    """One to three lines over one to three suppliers."""
    chosen = rng.sample(SKUS, rng.randint(1, 3))
    return [LineSpec(sku, rng.randint(1, 2)) for sku in chosen]


def place_orders(stack: Stack, count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [stack.place_order(order_lines(rng)) for _ in range(count)]


def shopify_url(stack: Stack) -> str:
    return f"{stack.integrator_url}/webhooks/shopify"


# --- workers -------------------------------------------------------------------------------


def queue_busy(db: Database) -> int:
    """Jobs still to run: queued (due or not) and running."""
    counts = queue_stats(db)["counts"]
    return int(counts.get("queued", 0)) + int(counts.get("running", 0))


@contextmanager
def running_worker(stack: Stack, threads: int = 4, **options: Any) -> Iterator[Worker]:
    """A worker running in background threads for the duration of the block."""
    worker = stack.worker(threads=threads, poll_interval=0.05, **options)
    thread = threading.Thread(target=worker.run, name="chaos-worker", daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(timeout=60)


def wait_until(
    condition: Callable[[], bool], timeout: float, interval: float = 0.2, settle: int = 2
) -> bool:
    """Poll ``condition`` until it holds ``settle`` times in a row, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    streak = 0
    while time.monotonic() < deadline:
        streak = streak + 1 if condition() else 0
        if streak >= settle:
            return True
        time.sleep(interval)
    return False


def wait_for_queue(db: Database, timeout: float) -> bool:
    return wait_until(lambda: queue_busy(db) == 0, timeout)


def waiting_at_suppliers(stack: Stack) -> int:
    """Supplier orders submitted and not yet shipped: what the suppliers' staff still owe."""
    waiting = (SupplierOrderStatus.SUBMITTED, SupplierOrderStatus.IN_PRODUCTION)
    with stack.db.read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(SupplierOrder)
                .where(SupplierOrder.status.in_(waiting))
            )
            or 0
        )


def advance_everything(stack: Stack, to: str) -> list[tuple[str, dict[str, Any]]]:
    """Move every submitted supplier order to ``to``; return (supplier, payload) posted."""
    posted: list[tuple[str, dict[str, Any]]] = []
    for supplier, remote_id, _reference in stack.supplier_orders():
        sandbox = stack.suppliers[supplier]
        if remote_id in sandbox.orders:
            posted.extend((supplier, payload) for payload in sandbox.advance(remote_id, to))
    return posted


# --- the audit -----------------------------------------------------------------------------


@dataclass
class Audit:
    orders_in_db: int
    missing_orders: int
    missing_items: int
    items_by_stage: dict[str, int]
    not_done_items: int
    items_in_two_live_orders: int
    orphan_remote_orders: int
    duplicate_details: list[str]
    duplicate_supplier_orders_remote: int
    duplicate_fulfillments: int
    shipments: int
    fulfillments: int
    unsynced_shipments: int
    jobs: dict[str, int]
    job_retries: int
    dead_reasons: list[str]

    @property
    def duplicates(self) -> int:
        return (
            self.items_in_two_live_orders
            + self.orphan_remote_orders
            + self.duplicate_supplier_orders_remote
            + self.duplicate_fulfillments
        )

    @property
    def lost(self) -> int:
        return self.missing_orders + self.missing_items

    def stuck(self, done_stages: Sequence[str] = DONE_STAGES) -> int:
        return self.not_done_items + self.jobs.get("queued", 0) + self.jobs.get("running", 0)


def audit(
    stack: Stack, placed: Sequence[dict[str, Any]], done_stages: Sequence[str] = DONE_STAGES
) -> Audit:
    placed_ids = {str(order["legacyResourceId"]): len(order["lineItems"]) for order in placed}
    with stack.db.read() as session:
        rows = session.execute(
            select(Order.shopify_order_id, func.count(LineItem.id))
            .join(LineItem, LineItem.order_id == Order.id, isouter=True)
            .group_by(Order.shopify_order_id)
        ).all()
        items_per_order = {str(order_id): int(count) for order_id, count in rows}
        stages: Counter[str] = Counter()
        for stage, count in session.execute(
            select(LineItem.stage, func.count()).group_by(LineItem.stage)
        ).all():
            stages[str(stage)] = int(count)
        supplier_rows = session.execute(
            select(
                SupplierOrder.supplier,
                SupplierOrder.external_ref,
                SupplierOrder.status,
                SupplierOrder.request_copy,
            )
        ).all()
        shipments_per_order = Counter(
            str(order_id)
            for order_id in session.scalars(
                select(Order.shopify_order_id).join(Shipment, Shipment.order_id == Order.id)
            )
        )
        unsynced = session.scalar(
            select(func.count()).select_from(Shipment).where(Shipment.sync_status != "synced")
        )
        job_counts = {
            str(status): int(count)
            for status, count in session.execute(
                select(Job.status, func.count()).group_by(Job.status)
            ).all()
        }
        retries = session.scalar(
            select(func.coalesce(func.sum(Job.attempts - 1), 0)).where(Job.attempts > 1)
        )
        dead = session.scalars(select(Job.last_error).where(Job.status == "dead")).all()
    missing_orders = sum(1 for order_id in placed_ids if order_id not in items_per_order)
    missing_items = sum(
        max(count - items_per_order.get(order_id, count), 0)
        for order_id, count in placed_ids.items()
    )
    remote_doubles = sum(
        max(count - 1, 0)
        for sandbox in stack.suppliers.values()
        for count in sandbox.created_per_ref.values()
    )
    fulfillments = {order_id: len(stack.shop.fulfillments_of(order_id)) for order_id in placed_ids}
    duplicate_fulfillments = sum(
        max(count - shipments_per_order.get(order_id, 0), 0)
        for order_id, count in fulfillments.items()
    )
    total_items = sum(stages.values())
    return Audit(
        orders_in_db=len(items_per_order),
        missing_orders=missing_orders,
        missing_items=missing_items,
        items_by_stage=dict(stages),
        not_done_items=total_items - sum(stages.get(stage, 0) for stage in done_stages),
        items_in_two_live_orders=items_in_two_live_orders(supplier_rows),
        orphan_remote_orders=orphan_remote_orders(stack, supplier_rows),
        duplicate_details=duplicate_details(stack, supplier_rows),
        duplicate_supplier_orders_remote=remote_doubles,
        duplicate_fulfillments=duplicate_fulfillments,
        shipments=sum(shipments_per_order.values()),
        fulfillments=sum(fulfillments.values()),
        unsynced_shipments=int(unsynced or 0),
        jobs={str(k): int(v) for k, v in job_counts.items()},
        job_retries=int(retries or 0),
        dead_reasons=[str(reason)[:160] for reason in dead],
    )


def items_in_two_live_orders(rows: Sequence[Any]) -> int:
    """Line items sent in more than one supplier order that is still live (made twice)."""
    sent: Counter[str] = Counter()
    for _supplier, _reference, status, copy in rows:
        if status in ("failed", "cancelled") or not copy:
            continue
        sent.update(str(line["line_item_id"]) for line in copy.get("lines", ()))
    return sum(count - 1 for count in sent.values() if count > 1)


def orphan_remote_orders(stack: Stack, rows: Sequence[Any]) -> int:
    """Orders a sandbox supplier made that we hold as failed or do not know (nobody tracks
    them; if their items were failed over, those items are made twice)."""
    live = {
        (supplier, reference)
        for supplier, reference, status, _c in rows
        if status not in ("failed", "cancelled")
    }
    orphans = 0
    for name, sandbox in stack.suppliers.items():
        with sandbox.lock:
            references = [ref for ref, count in sandbox.created_per_ref.items() if count]
        orphans += sum(1 for ref in references if (name, ref) not in live)
    return orphans


def duplicate_details(stack: Stack, rows: Sequence[Any]) -> list[str]:
    """Which supplier and reference each remote double or orphan is, with our record of it."""
    ours = {(supplier, reference): status for supplier, reference, status, _c in rows}
    details = []
    for name, sandbox in stack.suppliers.items():
        with sandbox.lock:
            counts = dict(sandbox.created_per_ref)
        for reference, count in counts.items():
            status = ours.get((name, reference), "unknown to us")
            if count > 1 or status in ("failed", "cancelled", "unknown to us"):
                details.append(f"{name} {reference}: created {count}x, ours {status}")
    return details


def figures_from(
    scenario: str,
    url: str,
    placed: Sequence[dict[str, Any]],
    found: Audit,
    started: float,
    done_stages: Sequence[str] = DONE_STAGES,
    **extra: Any,
) -> Figures:
    return Figures(
        scenario=scenario,
        database=database_kind(url),
        orders=len(placed),
        duplicates=found.duplicates,
        lost=found.lost,
        stuck=found.stuck(done_stages),
        retries=found.job_retries,
        duration_seconds=time.monotonic() - started,
        extra={
            "items_by_stage": found.items_by_stage,
            "duplicates_by_kind": {
                "same_reference_created_twice": found.duplicate_supplier_orders_remote,
                "item_in_two_live_supplier_orders": found.items_in_two_live_orders,
                "orphan_order_at_supplier": found.orphan_remote_orders,
                "fulfillments_beyond_shipments": found.duplicate_fulfillments,
            },
            **({"duplicate_details": found.duplicate_details} if found.duplicate_details else {}),
            "jobs": found.jobs,
            "shipments": found.shipments,
            "fulfillments": found.fulfillments,
            "unsynced_shipments": found.unsynced_shipments,
            **({"dead_reasons": sorted(set(found.dead_reasons))[:5]} if found.dead_reasons else {}),
            **extra,
        },
    )


# --- command line --------------------------------------------------------------------------


def quiet_servers() -> None:
    """Keep werkzeug's access log of the loopback servers out of the figures."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def command_line(
    description: str, default_orders: int, run: Callable[[str | None, int], Figures]
) -> None:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--orders", type=int, default=default_orders)
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL URL (emptied first); default: SQLite"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    arguments = parser.parse_args()
    print(machine_note(), flush=True)
    quiet_servers()
    figures = run(arguments.database_url, arguments.orders)
    print(figures.report())
    if arguments.json:
        print(figures.as_json())
