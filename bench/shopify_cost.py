"""What Shopify charged: every Admin API answer's ``extensions.cost``, per operation.

The ledger hooks the Admin client's own pacing (``ShopThrottles.observe``), which sees the
cost block of every answer, so it records exactly what the shop's bucket was charged.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from integrator.sandbox.stack import Stack


@dataclass
class CostLedger:
    """Points charged by Shopify per operation, read from the answers the client observed."""

    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    actual: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    requested: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    largest_requested: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, operation: str, extensions: Mapping[str, Any] | None) -> None:
        cost = (extensions or {}).get("cost") or {}
        requested = float(cost.get("requestedQueryCost") or 0.0)
        with self.lock:
            self.calls[operation] += 1
            self.actual[operation] += float(cost.get("actualQueryCost") or 0.0)
            self.requested[operation] += requested
            self.largest_requested[operation] = max(self.largest_requested[operation], requested)

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.actual.clear()
            self.requested.clear()
            self.largest_requested.clear()

    def snapshot(self) -> dict[str, tuple[int, float, float, float]]:
        """operation → (calls, requested total, actual total, largest requested)."""
        with self.lock:
            return {
                op: (
                    self.calls[op],
                    self.requested[op],
                    self.actual[op],
                    self.largest_requested[op],
                )
                for op in sorted(self.calls)
            }


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
