from __future__ import annotations

import time

from bench.chaos.common import start_stack
from bench.chaos.supplier_outage import SUPPLIER_TIMEOUT_SECONDS, fast_timeout_config, run
from integrator.db.models import LineItem
from integrator.jobqueue.jobs import BACKOFF_BASE_SECONDS
from integrator.sandbox.shopify import LineSpec
from integrator.suppliers.http import circuit_breaker


def test_faults_and_an_outage_double_nothing_and_dead_jobs_keep_their_reason(
    database_url: str,
) -> None:
    figures = run(database_url, 12, down_seconds=3.0, threads=3, bad_every=6)

    assert figures.duplicates == 0, figures.report()
    assert figures.lost == 0, figures.report()
    # every item shipped, or failed for a stated reason
    assert figures.stuck == 0, figures.report()
    assert figures.extra["dead_jobs"] == figures.extra["bad_address_orders"] == 2
    assert figures.extra["dead_reasons"] == [
        "printful rejected the order: recipient: city is required (BadRequest)"
    ]
    assert figures.extra["failed_items"] == {
        "printful rejected the order: recipient: city is required (BadRequest)": 2
    }


# regression (found by the outage run): failed-over items stayed "received" for good
def test_an_item_failed_over_by_an_open_circuit_is_submitted_to_the_fallback(
    database_url: str,
) -> None:
    stack = start_stack(database_url)
    try:
        breaker = circuit_breaker("gelato")
        for _ in range(breaker.threshold):
            breaker.record_failure()
        order = stack.place_order([LineSpec("CANVAS-30X40", 1)])
        stack.send_webhook("orders/paid", order)
        stack.drain()
        with stack.db.read() as session:
            item = session.query(LineItem).one()
            assert (item.supplier, item.stage) == ("prodigi", "submitted")
        assert len(stack.suppliers["prodigi"].orders) == 1
    finally:
        stack.close()


def test_failover_after_a_timed_out_create_leaves_no_orphan_order(database_url: str) -> None:
    with fast_timeout_config() as config_dir:
        stack = start_stack(database_url, config_dir=config_dir)
    try:
        gelato = stack.suppliers["gelato"]
        gelato.faults.timeout_sleep_seconds = SUPPLIER_TIMEOUT_SECONDS + 0.5
        gelato.faults.fail_next("timeout", method="POST", path="/v4/orders")
        order = stack.place_order([LineSpec("CANVAS-30X40", 1)])
        stack.send_webhook("orders/paid", order)
        stack.drain()  # the create times out at our end and succeeds at Gelato
        assert gelato.wait_idle()
        breaker = circuit_breaker("gelato")
        for _ in range(breaker.threshold):
            breaker.record_failure()  # Gelato then goes down for a while
        time.sleep(BACKOFF_BASE_SECONDS + 0.5)  # the submit job's first backoff
        stack.drain()
        with stack.db.read() as session:
            supplier = session.query(LineItem.supplier).scalar()
        made_at_gelato = [o for o in gelato.orders.values() if o.get("status") != "canceled"]
        assert supplier == "gelato" or not made_at_gelato
    finally:
        stack.close()
