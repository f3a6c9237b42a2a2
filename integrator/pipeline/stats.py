"""Production time from the timeline: fulfillment time (paid → shipped) and shipping time
(shipped → delivered), p50 and p90, per supplier and product type."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy import Row, select

from integrator.db.database import Database
from integrator.db.models import Alert, ItemEvent, LineItem, Order

_ORDERS_PER_QUERY = 500
# item id, supplier, product type, paid at, event stage, event time
StageRow: TypeAlias = "Row[int, str | None, str | None, datetime | None, str, datetime]"


@dataclass(frozen=True)
class StageTimes:
    supplier: str
    product_type: str
    fulfillment_count: int
    fulfillment_p50_hours: float | None
    fulfillment_p90_hours: float | None
    shipping_count: int
    shipping_p50_hours: float | None
    shipping_p90_hours: float | None


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (no interpolation: a figure that really happened)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


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
    fulfillment: dict[tuple[str, str], list[float]] = defaultdict(list)
    shipping: dict[tuple[str, str], list[float]] = defaultdict(list)
    for facts in first.values():
        shipped, delivered, paid = facts.get("shipped"), facts.get("delivered"), facts["paid"]
        if shipped and paid:
            fulfillment[facts["key"]].append(_hours(paid, shipped))
        if shipped and delivered:
            shipping[facts["key"]].append(_hours(shipped, delivered))
    keys = sorted(set(fulfillment) | set(shipping))
    return [
        StageTimes(
            supplier,
            product_type,
            len(fulfillment[(supplier, product_type)]),
            percentile(fulfillment[(supplier, product_type)], 0.5),
            percentile(fulfillment[(supplier, product_type)], 0.9),
            len(shipping[(supplier, product_type)]),
            percentile(shipping[(supplier, product_type)], 0.5),
            percentile(shipping[(supplier, product_type)], 0.9),
        )
        for supplier, product_type in keys
    ]


def stuck_items(db: Database, *, limit: int | None = None) -> list[dict[str, Any]]:
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
