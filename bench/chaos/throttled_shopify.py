"""Throttled Shopify: tracking sync of many shipments against a small cost bucket that
restores 100 points/s → zero failed syncs; the client's throttle waits are counted.

Each order has one line per supplier, so each shipped order makes four shipments, and every
shipment is one fulfillmentCreate (the FO lines come from enrichment) against the bucket,
while four worker threads share one Admin API client.

    python bench/chaos/throttled_shopify.py [--orders 500] [--database-url URL] [--bucket 200]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import time  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from bench.chaos.common import (  # noqa: E402
    SKUS,
    Figures,
    advance_everything,
    audit,
    figures_from,
    quiet_servers,
    running_worker,
    scratch_url,
    start_stack,
    wait_for_queue,
)
from bench.common import machine_note  # noqa: E402
from integrator.db.models import Job  # noqa: E402
from integrator.sandbox.shopify import LineSpec  # noqa: E402

RESTORE_RATE = 100.0


def run(
    database_url: str | None,
    orders: int,
    *,
    bucket: float = 200.0,
    threads: int = 4,
    restore_rate: float = RESTORE_RATE,
) -> Figures:
    quiet_servers()
    with scratch_url(database_url) as url:
        stack = start_stack(url, bucket_size=bucket, restore_rate=restore_rate)
        try:
            started = time.monotonic()
            placed: list[dict[str, Any]] = [
                stack.place_order([LineSpec(sku, 1) for sku in SKUS]) for _ in range(orders)
            ]
            with running_worker(stack, threads=threads):
                for order in placed:
                    stack.send_webhook("orders/paid", order)
                drained = wait_for_queue(stack.db, timeout=120 + orders * 2)
                advance_everything(stack, "in_production")
                drained = wait_for_queue(stack.db, timeout=120 + orders * 2) and drained
                client = stack.container.shopify
                waits_before = client.throttle_waits
                seconds_before = client.throttle_wait_seconds
                sync_started = time.monotonic()
                advance_everything(stack, "shipped")
                drained = wait_for_queue(stack.db, timeout=120 + orders * 4) and drained
                sync_seconds = time.monotonic() - sync_started
            found = audit(stack, placed)
            with stack.db.read() as session:
                failed_syncs = session.scalar(
                    select(func.count())
                    .select_from(Job)
                    .where(Job.kind == "shopify.sync_shipment", Job.status == "dead")
                )
            return figures_from(
                "throttled Shopify",
                url,
                placed,
                found,
                started,
                bucket_points=bucket,
                restore_points_per_second=restore_rate,
                failed_syncs=int(failed_syncs or 0) + found.unsynced_shipments,
                sync_phase_seconds=round(sync_seconds, 1),
                throttle_waits_total=client.throttle_waits,
                throttle_wait_seconds_total=round(client.throttle_wait_seconds, 1),
                throttle_waits_during_sync=client.throttle_waits - waits_before,
                throttle_wait_seconds_during_sync=round(
                    client.throttle_wait_seconds - seconds_before, 1
                ),
                throttled_responses=client.throttled_responses,
                client_retries=client.retries,
                drained=drained,
            )
        finally:
            stack.close()


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--bucket", type=float, default=200.0)
    arguments = parser.parse_args()
    print(machine_note(), flush=True)
    print(run(arguments.database_url, arguments.orders, bucket=arguments.bucket).report())


if __name__ == "__main__":
    main()
