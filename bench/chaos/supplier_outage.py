"""Supplier outage: 30 % of supplier calls answer 5xx or time out, then one supplier is fully
down for a while, then everything recovers → every order completes; the down supplier's
items fail over where the rules name a fallback; retries back off (calls are counted); a
terminal 4xx rejection leaves its job dead with the supplier's reason.

Timeouts are real: the supplier timeout is set to 1 s in a copy of config/ and the sandbox
answers "timeout" requests after 1.5 s, having done the work (the ambiguous case: the
retry must find the order, not create a second one).

    python bench/chaos/supplier_outage.py [--orders 300] [--database-url URL] [--down-seconds 60]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from bench.chaos.common import (  # noqa: E402
    Figures,
    advance_everything,
    audit,
    figures_from,
    order_lines,
    quiet_servers,
    running_worker,
    scratch_url,
    shopify_url,
    start_stack,
    wait_for_queue,
)
from bench.common import machine_note  # noqa: E402
from integrator.db.models import Job, LineItem  # noqa: E402
from integrator.sandbox.shopify import AddressSpec, LineSpec  # noqa: E402
from integrator.sandbox.stack import Stack  # noqa: E402
from integrator.sandbox.suppliers.base import SandboxSupplier  # noqa: E402
from integrator.suppliers import http as supplier_http  # noqa: E402

DOWN_SUPPLIER = "gelato"  # canvases fall back to prodigi under config/routing.yaml
SUPPLIER_TIMEOUT_SECONDS = 1
BAD_ADDRESS_EVERY = 20  # one order in 20 has no city: printful refuses it for good


@contextmanager
def fast_timeout_config(source: Path = Path("config")) -> Iterator[Path]:
    """A copy of the configuration with a 1 s timeout for every supplier."""
    with tempfile.TemporaryDirectory(prefix="chaos-config-") as folder:
        target = Path(folder) / "config"
        shutil.copytree(source, target)
        routing = target / "routing.yaml"
        document = re.sub(r"\n\s*timeout_seconds: *\d+", "", routing.read_text())
        document = re.sub(
            r"(\n(\s*)callback_secret: [^\n]*)",
            rf"\1\n\2timeout_seconds: {SUPPLIER_TIMEOUT_SECONDS}",
            document,
        )
        routing.write_text(document)
        yield target


class CallLog:
    """Every API call each sandbox supplier received: (monotonic time, method, path)."""

    def __init__(self) -> None:
        self.calls: dict[str, list[tuple[float, str, str]]] = {}
        self.lock = threading.Lock()

    def watch(self, name: str, sandbox: SandboxSupplier) -> None:
        answer = sandbox.answer
        self.calls[name] = []

        def counted(request: Any, *, in_process: bool) -> Any:
            with self.lock:
                self.calls[name].append((time.monotonic(), request.method, request.path))
            return answer(request, in_process=in_process)

        sandbox.answer = counted  # type: ignore[method-assign]

    def between(self, name: str, start: float, end: float) -> int:
        with self.lock:
            return sum(1 for at, _m, _p in self.calls[name] if start <= at < end)

    def total(self) -> int:
        with self.lock:
            return sum(len(calls) for calls in self.calls.values())


def is_bad(number: int, bad_every: int) -> bool:
    return number % bad_every == bad_every - 1


def place_mixed_orders(stack: Stack, count: int, bad_every: int) -> list[dict[str, Any]]:
    rng = random.Random(5)
    placed = []
    for number in range(count):
        if is_bad(number, bad_every):
            placed.append(
                stack.place_order([LineSpec("TEE-BLK-M-DTG", 1)], address=AddressSpec(city=""))
            )
        else:
            placed.append(stack.place_order(order_lines(rng)))
    return placed


def reset_breakers() -> None:
    """Circuit breakers are process-wide: close them so that runs do not leak into each other."""
    for breaker in list(supplier_http._breakers.values()):
        breaker.record_success()


def run(
    database_url: str | None,
    orders: int,
    *,
    down_seconds: float = 60.0,
    fault_rate: float = 0.3,
    threads: int = 4,
    bad_every: int = BAD_ADDRESS_EVERY,
) -> Figures:
    quiet_servers()
    reset_breakers()
    with scratch_url(database_url) as url, fast_timeout_config() as config_dir:
        stack = start_stack(url, config_dir=config_dir)
        calls = CallLog()
        for name, sandbox in stack.suppliers.items():
            calls.watch(name, sandbox)
            sandbox.faults.error_rate = fault_rate / 2
            sandbox.faults.timeout_rate = fault_rate / 2
            sandbox.faults.timeout_sleep_seconds = SUPPLIER_TIMEOUT_SECONDS + 0.5
        try:
            started = time.monotonic()
            placed = place_mixed_orders(stack, orders, bad_every)
            with running_worker(stack, threads=threads):
                half = len(placed) // 2
                for order in placed[:half]:
                    stack.sender.deliver(
                        shopify_url(stack),
                        stack.sender.prepare(
                            "orders/paid",
                            stack.shop.webhook_payload(order["id"]),
                            stack.options.shop,
                        ),
                    )
                # the outage: one supplier fully down while the second half arrives
                stack.suppliers[DOWN_SUPPLIER].faults.down = True
                down_from = time.monotonic()
                for order in placed[half:]:
                    stack.send_webhook("orders/paid", order)
                time.sleep(max(down_seconds - (time.monotonic() - down_from), 0))
                for sandbox in stack.suppliers.values():
                    sandbox.faults.clear()
                down_until = time.monotonic()
                drained = wait_for_queue(stack.db, timeout=300 + orders)
                for stage in ("in_production", "shipped"):
                    advance_everything(stack, stage)
                    drained = wait_for_queue(stack.db, timeout=300 + orders) and drained
            found = audit(stack, placed, done_stages=("shipped", "failed"))
            with stack.db.read() as session:
                submit_attempts = session.scalar(
                    select(func.coalesce(func.sum(Job.attempts), 0)).where(
                        Job.kind == "supplier.submit"
                    )
                )
                failed_over = session.scalar(
                    select(func.count())
                    .select_from(LineItem)
                    .where(LineItem.sku == "CANVAS-30X40", LineItem.supplier != DOWN_SUPPLIER)
                )
                stuck_after_failover = session.scalar(
                    select(func.count())
                    .select_from(LineItem)
                    .where(LineItem.stage == "received", LineItem.reason.like("%failover%"))
                )
                failed_items = Counter(
                    str(reason)[:80]
                    for reason in session.scalars(
                        select(LineItem.reason).where(LineItem.stage == "failed")
                    )
                )
            bad_orders = sum(1 for n in range(orders) if is_bad(n, bad_every))
            return figures_from(
                "supplier outage",
                url,
                placed,
                found,
                started,
                done_stages=("shipped", "failed"),
                drained=drained,
                fault_rate=fault_rate,
                down_supplier=DOWN_SUPPLIER,
                down_seconds=round(down_until - down_from, 1),
                calls_to_down_supplier_while_down=calls.between(
                    DOWN_SUPPLIER, down_from, down_until
                ),
                supplier_calls_total=calls.total(),
                supplier_orders_created=sum(
                    len(sandbox.created_per_ref) for sandbox in stack.suppliers.values()
                ),
                submit_attempts=int(submit_attempts or 0),
                canvas_items_failed_over=int(failed_over or 0),
                items_stuck_after_failover=int(stuck_after_failover or 0),
                bad_address_orders=bad_orders,
                failed_items=dict(failed_items),
                dead_jobs=found.jobs.get("dead", 0),
            )
        finally:
            stack.close()
            reset_breakers()


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--down-seconds", type=float, default=60.0)
    arguments = parser.parse_args()
    print(machine_note(), flush=True)
    print(
        run(arguments.database_url, arguments.orders, down_seconds=arguments.down_seconds).report()
    )


if __name__ == "__main__":
    main()
