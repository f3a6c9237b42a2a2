"""The last attempt of a supplier create goes unanswered (our read timeout; the supplier makes
the order after we stopped waiting) and the job gives up: the supplier order stays "maybe
created", so no operator action sends the item to a second supplier or makes a second order.

Earlier attempts failed without reaching the supplier (connection refused), so only the last
attempt says the order may exist (commit 65d1c9b; before it, the give-up dropped that)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from bench.chaos.supplier_outage import fast_timeout_config, reset_breakers
from integrator.db.models import Job
from integrator.db.timestamps import utcnow
from integrator.domain.statuses import SupplierOrderStatus
from integrator.jobqueue.status import JobStatus
from integrator.pipeline.job_kinds import JobKind
from integrator.pipeline.operator import OperatorError, release_item, retry_item
from integrator.sandbox.stack import DEMO_CONFIG_DIR, Stack, StackOptions
from integrator.suppliers.http import circuit_breaker

from .conftest import INGEST_ONLY, items_of, jobs_of, paid_order, supplier_orders_of

CANVAS = "CANVAS-30X40"  # Gelato (wall art to Germany), fallback Prodigi
CREATE = {"method": "POST", "path": "/v4/orders"}
MAKING_SECONDS = 2.0  # Gelato answers (and makes the order) this long after the create


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    """Supplier calls time out after 1 s."""
    with fast_timeout_config(DEMO_CONFIG_DIR, seconds=1) as config_dir:
        running = Stack(
            StackOptions(database_url=database_url, migrate=False, config_dir=config_dir)
        )
    reset_breakers()
    try:
        yield running
    finally:
        running.close()
        reset_breakers()


def run_due(stack: Stack, seconds: float = 15.0) -> None:
    """Run every queued job now, again until none is left (retries and snoozes included)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with stack.db.write() as session:
            session.execute(
                update(Job).where(Job.status == JobStatus.QUEUED).values(run_at=utcnow())
            )
        stack.drain()
        if all(job.status != JobStatus.QUEUED for job in jobs_of(stack, JobKind.SUPPLIER_SUBMIT)):
            return
        time.sleep(0.2)


def give_up_after_an_unanswered_last_create(stack: Stack) -> str:
    """Two attempts: the first refused (nothing sent), the last unanswered while Gelato makes
    the order. Return Gelato's id of the order it made."""
    gelato = stack.suppliers["gelato"]
    paid_order(stack, [CANVAS], kinds=INGEST_ONLY)
    with stack.db.write() as session:
        session.execute(
            update(Job).where(Job.kind == JobKind.SUPPLIER_SUBMIT).values(max_attempts=2)
        )
    gelato.faults.timeout_sleep_seconds = MAKING_SECONDS
    gelato.faults.fail_next("down", **CREATE)
    gelato.faults.fail_next("timeout", **CREATE)

    run_due(stack)
    assert gelato.wait_idle()

    (job,) = jobs_of(stack, JobKind.SUPPLIER_SUBMIT)
    assert (job.status, job.attempts) == (JobStatus.DEAD, 2)
    (made,) = gelato.orders
    (row,) = supplier_orders_of(stack)
    assert gelato.created_count(row.external_ref) == 1
    assert (row.status, row.supplier_order_id) == (SupplierOrderStatus.FAILED, None)
    assert row.maybe_created
    assert [item.stage for item in items_of(stack)] == ["failed"]
    return made


def test_an_operator_retry_during_an_outage_waits_for_the_supplier_instead_of_failing_over(
    stack: Stack,
) -> None:
    made = give_up_after_an_unanswered_last_create(stack)
    (item,) = items_of(stack)
    breaker = circuit_breaker("gelato")
    for _ in range(breaker.threshold):
        breaker.record_failure()  # Gelato is out when the operator retries

    assert retry_item(stack.container, item.id) == "routed"
    stack.drain()

    assert len(stack.suppliers["prodigi"].orders) == 0  # not sent to the fallback supplier
    (item,) = items_of(stack)
    assert (item.stage, item.supplier) == ("routed", "gelato")

    reset_breakers()  # Gelato is back: the retry looks our reference up and finds its order
    run_due(stack)

    assert list(stack.suppliers["gelato"].orders) == [made]
    assert len(stack.suppliers["prodigi"].orders) == 0
    (row,) = supplier_orders_of(stack)
    assert (row.status, row.supplier_order_id, row.maybe_created) == (
        SupplierOrderStatus.SUBMITTED,
        made,
        False,
    )
    (item,) = items_of(stack)
    assert (item.stage, item.supplier_order_id) == ("submitted", row.id)


def test_releasing_the_item_asks_the_supplier_and_is_refused(stack: Stack) -> None:
    made = give_up_after_an_unanswered_last_create(stack)
    (item,) = items_of(stack)

    with pytest.raises(OperatorError, match="still has this item"):
        release_item(stack.container, item.id)
    stack.drain()

    assert list(stack.suppliers["gelato"].orders) == [made]
    assert len(stack.suppliers["prodigi"].orders) == 0
    assert [item.stage for item in items_of(stack)] == ["failed"]
