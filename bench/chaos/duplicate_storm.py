"""Duplicate storm: every orders/paid webhook delivered three times at once, every supplier
callback posted twice, while a worker runs → one supplier order per (order, supplier), one
Shopify fulfillment per shipment.

    python bench/chaos/duplicate_storm.py [--orders 1000] [--database-url URL]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from typing import Any  # noqa: E402

from bench.chaos.common import (  # noqa: E402
    Figures,
    advance_everything,
    audit,
    command_line,
    figures_from,
    place_orders,
    running_worker,
    scratch_url,
    shopify_url,
    start_stack,
    wait_for_queue,
)
from integrator.sandbox.stack import Stack  # noqa: E402

COPIES = 3
SENDERS = 8


def storm_webhooks(stack: Stack, placed: list[dict[str, Any]]) -> dict[int | None, int]:
    """Deliver orders/paid for every order ``COPIES`` times concurrently; count the answers."""
    answers: dict[int | None, int] = {}

    def one(order: dict[str, Any]) -> list[int | None]:
        delivery = stack.sender.prepare(
            "orders/paid", stack.shop.webhook_payload(order["id"]), stack.options.shop
        )
        outcomes = stack.sender.storm(shopify_url(stack), delivery, COPIES)
        return [status for outcome in outcomes for status in outcome.statuses]

    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        for statuses in pool.map(one, placed):
            for status in statuses:
                answers[status] = answers.get(status, 0) + 1
    return answers


def advance_twice(stack: Stack, to: str) -> int:
    """Advance every supplier order, then post each callback again, concurrently."""
    posted = advance_everything(stack, to)

    def again(item: tuple[str, dict[str, Any]]) -> int:
        supplier, payload = item
        return stack.suppliers[supplier].post_callback(payload)

    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        list(pool.map(again, posted))
    return len(posted) * 2


def run(database_url: str | None, orders: int, *, threads: int = 4) -> Figures:
    with scratch_url(database_url) as url:
        stack = start_stack(url)
        try:
            started = time.monotonic()
            placed = place_orders(stack, orders)
            callbacks = 0
            with running_worker(stack, threads=threads):
                answers = storm_webhooks(stack, placed)
                wait_for_queue(stack.db, timeout=60 + orders)
                for stage in ("in_production", "shipped"):
                    callbacks += advance_twice(stack, stage)
                    wait_for_queue(stack.db, timeout=60 + orders)
            found = audit(stack, placed)
            return figures_from(
                "duplicate storm",
                url,
                placed,
                found,
                started,
                webhook_deliveries=sum(answers.values()),
                webhook_answers=answers,
                supplier_callbacks_posted=callbacks,
                supplier_orders=len(stack.supplier_orders()),
            )
        finally:
            stack.close()


if __name__ == "__main__":
    command_line(__doc__ or "", 1000, run)
