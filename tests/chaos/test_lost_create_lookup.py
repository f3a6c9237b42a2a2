"""RELIABILITY.md open problem 2: a lost Gelato create that Gelato is still making.

Gelato gives ``orderReferenceId`` no uniqueness, so ``submit`` searches for our reference and
creates when nothing is found. When a create's answer is lost (our read timeout) while Gelato
is still making the order, a retry's search finds nothing and a second order is made. The
sandbox's "timeout" fault is exactly that: Gelato answers only after ``timeout_sleep_seconds``
and makes the order then, long after we stopped waiting.

Here our timeout is 1 s and Gelato makes the order 3.5 s after we gave up;
``lookup_delay_seconds: 6`` tells us Gelato may take that long. Before the fix, the job's own
retry (backoff 1–2 s) and a second submit job for the same order (a reconciliation pass)
each searched too early and made a second order.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select

from bench.chaos.common import start_stack
from bench.chaos.supplier_outage import fast_timeout_config
from integrator.db.models import Job, LineItem, SupplierOrder
from integrator.db.timestamps import utcnow
from integrator.jobqueue.jobs import enqueue
from integrator.sandbox.shopify import LineSpec
from integrator.sandbox.stack import Stack

CANVAS = LineSpec("CANVAS-30X40", 1)  # Gelato, for a German address
GELATO_LOOKUP_DELAY_SECONDS = 6


@contextmanager
def slow_gelato_stack(database_url: str, making_seconds: float) -> Iterator[Stack]:
    """1 s supplier timeouts; Gelato's next create answers (and makes the order) only after
    ``making_seconds``."""
    with fast_timeout_config() as config_dir:
        routing = config_dir / "routing.yaml"
        routing.write_text(
            re.sub(
                r"(\n(\s*)adapter: gelato\n)",
                rf"\1\2lookup_delay_seconds: {GELATO_LOOKUP_DELAY_SECONDS}\n",
                routing.read_text(),
            )
        )
        stack = start_stack(database_url, config_dir=Path(config_dir))
    try:
        gelato = stack.suppliers["gelato"]
        gelato.faults.timeout_sleep_seconds = making_seconds
        gelato.faults.fail_next("timeout", method="POST", path="/v4/orders")
        yield stack
    finally:
        stack.close()


def submit_jobs(stack: Stack) -> list[Job]:
    with stack.db.read() as session:
        rows = list(session.scalars(select(Job).where(Job.kind == "supplier.submit")))
        session.expunge_all()
        return rows


def run_until_submitted(stack: Stack, seconds: float = 20.0) -> None:
    """Let every retry and snooze come due (they wait for Gelato, not for us)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        stack.drain()
        if all(job.status in ("done", "dead") for job in submit_jobs(stack)):
            break
        time.sleep(0.2)
    assert stack.suppliers["gelato"].wait_idle()


def the_one_order(stack: Stack) -> tuple[str, SupplierOrder, LineItem]:
    gelato = stack.suppliers["gelato"]
    with stack.db.read() as session:
        (row,) = session.scalars(select(SupplierOrder))
        (item,) = session.scalars(select(LineItem))
        session.expunge_all()
    assert gelato.created_count(row.external_ref) == 1, list(gelato.orders)
    (remote,) = gelato.orders
    return remote, row, item


def test_the_retry_of_a_lost_create_waits_until_gelato_has_made_the_order(
    database_url: str,
) -> None:
    with slow_gelato_stack(database_url, making_seconds=4.5) as stack:
        stack.send_webhook("orders/paid", stack.place_order([CANVAS]))
        stack.drain()  # the create times out at our end; Gelato is still making the order

        run_until_submitted(stack)

        remote, row, item = the_one_order(stack)
        assert (row.status, row.supplier_order_id, row.create_sent_at) == (
            "submitted", remote, None)  # fmt: skip
        assert (item.stage, item.supplier) == ("submitted", "gelato")


def test_a_second_submit_job_does_not_search_while_the_lost_create_may_be_in_progress(
    database_url: str,
) -> None:
    with slow_gelato_stack(database_url, making_seconds=4.5) as stack:
        stack.send_webhook("orders/paid", stack.place_order([CANVAS]))
        stack.drain()  # the create times out at our end; Gelato is still making the order
        with stack.db.write() as session:
            (row,) = session.scalars(select(SupplierOrder))
            assert row.status == "pending"
            # what reconcile.py's pass over pending supplier orders enqueues
            enqueue(
                session,
                "supplier.submit",
                {"supplier_order_id": row.id},
                unique_key=f"submit:{row.id}:reconcile-slot",
                run_at=utcnow(),
            )
        stack.drain()  # runs the second job at once: it waits instead of searching

        assert len(stack.suppliers["gelato"].orders) == 0  # still being made, none doubled
        run_until_submitted(stack)

        remote, row, item = the_one_order(stack)
        assert (row.status, row.supplier_order_id) == ("submitted", remote)
        assert item.stage == "submitted"
