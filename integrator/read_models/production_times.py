"""Production time from the timeline: fulfillment time (paid → shipped) and shipping time
(shipped → delivered), p50 and p90, per supplier and product type.

Paid is Shopify's time for the order; shipped and delivered are the supplier's. Durations are
whole seconds (integrator.domain.durations explains why); one below zero means a clock or a
parser is wrong, so it is counted apart as a clock problem and never enters a percentile.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy import Row, select

from integrator.db.database import Database
from integrator.db.models import Alert, ItemEvent, LineItem, Order
from integrator.domain.durations import HOUR, seconds_between

_ORDERS_PER_QUERY = 500
# item id, supplier, product type, paid at, event stage, event time
StageRow: TypeAlias = "Row[int, str | None, str | None, datetime | None, str, datetime]"


@dataclass(frozen=True)
class StageTimes:
    supplier: str
    product_type: str
    fulfillment_count: int
    fulfillment_p50_seconds: int | None
    fulfillment_p90_seconds: int | None
    shipping_count: int
    shipping_p50_seconds: int | None
    shipping_p90_seconds: int | None
    # items whose later stage is dated before the earlier one (left out of the figures)
    fulfillment_clock_problems: int = 0
    shipping_clock_problems: int = 0

    def as_json(self) -> dict[str, Any]:
        """The row ``GET /admin/api/stats`` and ``integrator stats --json`` give."""
        return {
            "supplier": self.supplier,
            "product_type": self.product_type,
            "fulfillment_count": self.fulfillment_count,
            "fulfillment_p50_hours": _hours(self.fulfillment_p50_seconds),
            "fulfillment_p90_hours": _hours(self.fulfillment_p90_seconds),
            "fulfillment_clock_problems": self.fulfillment_clock_problems,
            "shipping_count": self.shipping_count,
            "shipping_p50_hours": _hours(self.shipping_p50_seconds),
            "shipping_p90_hours": _hours(self.shipping_p90_seconds),
            "shipping_clock_problems": self.shipping_clock_problems,
        }


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else seconds / HOUR.seconds


def percentile(values: list[int], fraction: float) -> int | None:
    """Nearest-rank percentile, the value at rank ⌈fraction·n⌉ (no interpolation: a figure
    that really happened); the median of two values is the smaller one."""
    if not values:
        return None
    ordered = sorted(values)
    # rounded first so that 0.9 · 10 (9.000000000000002 in floating point) is rank 9
    rank = max(1, min(len(ordered), math.ceil(round(fraction * len(ordered), 9))))
    return ordered[rank - 1]


@dataclass
class _Durations:
    """One (supplier, product type)'s measured durations and its clock problems."""

    fulfillment: list[int] = field(default_factory=list)
    shipping: list[int] = field(default_factory=list)
    fulfillment_problems: int = 0
    shipping_problems: int = 0

    def add_fulfillment(self, seconds: int) -> None:
        if seconds < 0:
            self.fulfillment_problems += 1
        else:
            self.fulfillment.append(seconds)

    def add_shipping(self, seconds: int) -> None:
        if seconds < 0:
            self.shipping_problems += 1
        else:
            self.shipping.append(seconds)


def _stage_rows(db: Database, since: datetime | None) -> Iterator[StageRow]:
    """(item, supplier, product type, paid at, stage, at) of every shipped/delivered event.

    With ``since``, the orders paid in the window are found first (index ``ix_order_paid``)
    and their items and events read by order id, so the cost follows the window and never
    the history (a planner without statistics, SQLite's, would otherwise start from the
    events table).
    """
    query = (
        select(
            LineItem.id,
            LineItem.supplier,
            LineItem.product_type,
            Order.paid_at,
            ItemEvent.stage,
            ItemEvent.occurred_at,
        )
        .join(Order, Order.id == LineItem.order_id)
        .join(ItemEvent, ItemEvent.line_item_id == LineItem.id)
        .where(ItemEvent.stage.in_(("shipped", "delivered")), LineItem.supplier.is_not(None))
    )
    with db.read() as session:
        if since is None:
            yield from session.execute(query)
            return
        order_ids = list(session.scalars(select(Order.id).where(Order.paid_at >= since)))
        for start in range(0, len(order_ids), _ORDERS_PER_QUERY):
            chunk = order_ids[start : start + _ORDERS_PER_QUERY]
            yield from session.execute(query.where(LineItem.order_id.in_(chunk)))


def production_times(db: Database, *, since: datetime | None = None) -> list[StageTimes]:
    """Per (supplier, product type): p50/p90 of paid → shipped and shipped → delivered."""
    first: dict[int, dict[str, Any]] = {}
    for item_id, supplier, product_type, paid_at, stage, occurred_at in _stage_rows(db, since):
        facts = first.setdefault(item_id, {"key": (supplier, product_type or "—"), "paid": paid_at})
        if stage not in facts or occurred_at < facts[stage]:
            facts[stage] = occurred_at
    measured: dict[tuple[str, str], _Durations] = defaultdict(_Durations)
    for facts in first.values():
        shipped, delivered, paid = facts.get("shipped"), facts.get("delivered"), facts["paid"]
        if shipped and paid:
            measured[facts["key"]].add_fulfillment(seconds_between(paid, shipped))
        if shipped and delivered:
            measured[facts["key"]].add_shipping(seconds_between(shipped, delivered))
    return [
        StageTimes(
            supplier,
            product_type,
            len(durations.fulfillment),
            percentile(durations.fulfillment, 0.5),
            percentile(durations.fulfillment, 0.9),
            len(durations.shipping),
            percentile(durations.shipping, 0.5),
            percentile(durations.shipping, 0.9),
            durations.fulfillment_problems,
            durations.shipping_problems,
        )
        for (supplier, product_type), durations in sorted(measured.items())
    ]


def open_stuck_alerts(db: Database, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Open stuck-item alerts, newest first (index ``ix_alert_open``), at most ``limit``."""
    with db.read() as session:
        rows = session.scalars(
            select(Alert)
            .where(Alert.kind == "stuck_item", Alert.resolved_at.is_(None))
            .order_by(Alert.created_at.desc())
            .limit(limit)
        ).all()
        return [
            {
                "id": a.id,
                "line_item_id": a.line_item_id,
                "order_id": a.order_id,
                "message": a.message,
                "created_at": a.created_at.isoformat(),
                "posted": a.posted,
            }
            for a in rows
        ]
