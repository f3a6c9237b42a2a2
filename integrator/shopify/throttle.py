"""Pacing against Shopify's cost-based leaky bucket, one bucket per shop.

Every Admin GraphQL answer carries ``extensions.cost``: the query's requested and actual cost
and ``throttleStatus {maximumAvailable, currentlyAvailable, restoreRate}``. The bucket here
mirrors that state between answers: a query is sent only once the bucket holds its expected
(last requested) cost, which is then taken; otherwise the caller is told how long to wait, so
the query is never sent just to be answered ``THROTTLED``. https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float

    @classmethod
    def from_extensions(cls, extensions: Mapping[str, Any] | None) -> ThrottleStatus | None:
        status = ((extensions or {}).get("cost") or {}).get("throttleStatus")
        if not status:
            return None
        return cls(
            maximum_available=float(status["maximumAvailable"]),
            currently_available=float(status["currentlyAvailable"]),
            restore_rate=float(status["restoreRate"]),
        )


def requested_cost(extensions: Mapping[str, Any] | None) -> float | None:
    cost = ((extensions or {}).get("cost") or {}).get("requestedQueryCost")
    return float(cost) if cost is not None else None


class CostBucket:
    """One shop's bucket as last reported, restored at ``restore_rate`` points per second."""

    def __init__(self, status: ThrottleStatus, now: float) -> None:
        self.maximum = status.maximum_available
        self.restore_rate = status.restore_rate
        self._available = status.currently_available
        self._as_of = now

    def available_at(self, now: float) -> float:
        restored = self._available + max(0.0, now - self._as_of) * self.restore_rate
        return min(self.maximum, restored)

    def try_take(self, cost: float, now: float) -> float:
        """Take ``cost`` points if they are there (return 0), else return the seconds to wait.

        Nothing is held while a caller waits, so a fresher ``observe`` (another thread's answer,
        with Shopify's refund of unused cost) shortens everyone's wait.
        """
        cost = min(cost, self.maximum)  # Shopify never asks for more than the bucket holds
        available = self.available_at(now)
        if available >= cost:
            self._available = available - cost
            self._as_of = now
            return 0.0
        if self.restore_rate <= 0:
            return 0.0  # nothing to wait for; let Shopify decide
        return (cost - available) / self.restore_rate

    def observe(self, status: ThrottleStatus, now: float) -> None:
        """Replace the estimate with what Shopify reported."""
        self.maximum = status.maximum_available
        self.restore_rate = status.restore_rate
        self._available = status.currently_available
        self._as_of = now


class ShopThrottles:
    """The buckets of every shop, and the remembered cost of every operation; thread-safe."""

    def __init__(self, default_cost: float = 50.0) -> None:
        self._default_cost = default_cost
        self._buckets: dict[str, CostBucket] = {}
        self._costs: dict[str, float] = {}
        self._lock = threading.Lock()

    def try_take(self, shop: str, operation: str, now: float) -> float:
        """Take the operation's expected cost from the shop's bucket, or say how long to wait."""
        with self._lock:
            bucket = self._buckets.get(shop)
            if bucket is None:  # nothing known yet: the first answer will tell
                return 0.0
            return bucket.try_take(self._costs.get(operation, self._default_cost), now)

    def observe(
        self, shop: str, operation: str, extensions: Mapping[str, Any] | None, now: float
    ) -> None:
        """Record the bucket state and the operation's requested cost from an answer."""
        status = ThrottleStatus.from_extensions(extensions)
        cost = requested_cost(extensions)
        with self._lock:
            if cost is not None:
                self._costs[operation] = cost
            if status is None:
                return
            bucket = self._buckets.get(shop)
            if bucket is None:
                self._buckets[shop] = CostBucket(status, now)
            else:
                bucket.observe(status, now)

    def expected_cost(self, operation: str) -> float:
        with self._lock:
            return self._costs.get(operation, self._default_cost)

    def available(self, shop: str, now: float) -> float | None:
        with self._lock:
            bucket = self._buckets.get(shop)
            return bucket.available_at(now) if bucket else None
