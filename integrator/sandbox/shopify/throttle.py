"""Shopify's calculated-query-cost leaky bucket, one per shop.

Shopify takes the requested cost of a query before running it, refunds the difference to
the actual cost afterwards, and restores ``restore_rate`` points per second up to the bucket
size. A query that asks for more than is currently available is answered ``THROTTLED``.
https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float

    def as_json(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum_available,
            "currentlyAvailable": round(self.currently_available, 3),
            "restoreRate": self.restore_rate,
        }


class LeakyBucket:
    def __init__(self, maximum: float, restore_rate: float, clock: Clock) -> None:
        self.maximum = float(maximum)
        self.restore_rate = float(restore_rate)
        self._clock = clock
        self._available = float(maximum)
        self._updated_at = clock()
        self._lock = threading.Lock()

    def take(self, cost: float) -> bool:
        """Take ``cost`` points if the bucket holds them now; False means throttled."""
        with self._lock:
            self._restore()
            if cost > self._available:
                return False
            self._available -= cost
            return True

    def refund(self, points: float) -> None:
        with self._lock:
            self._restore()
            self._available = min(self.maximum, self._available + max(points, 0.0))

    def status(self) -> ThrottleStatus:
        with self._lock:
            self._restore()
            return ThrottleStatus(self.maximum, self._available, self.restore_rate)

    def _restore(self) -> None:
        now = self._clock()
        elapsed = max(now - self._updated_at, 0.0)
        self._available = min(self.maximum, self._available + elapsed * self.restore_rate)
        self._updated_at = now
