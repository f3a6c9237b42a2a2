"""Production time per supplier and product type, as figures and as server-drawn SVG bars.

The figures cover a window (orders paid in the last ``DEFAULT_WINDOW_DAYS`` days unless the
caller gives ``since``), read through the index on ``orders.paid_at``, and at most
``STUCK_ITEMS_SHOWN`` open stuck-item alerts: the page costs what the window holds, never
the whole history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from integrator.db.clock import utcnow
from integrator.db.database import Database
from integrator.pipeline.stats import StageTimes, production_times, stuck_items

DEFAULT_WINDOW_DAYS = 30
STUCK_ITEMS_SHOWN = 100

CHART_WIDTH = 640
LABEL_WIDTH = 220
VALUE_WIDTH = 120  # room right of the longest bar for its figures
BAR_HEIGHT = 14
ROW_HEIGHT = 40
TOP = 24


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    p50: float | None
    p90: float | None
    y: int
    p50_width: float
    p90_width: float


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    width: int
    height: int
    label_width: int
    plot_width: int
    ticks: list[tuple[float, str]]


def _nice_ceiling(value: float) -> float:
    """A round upper bound for the axis (1, 2, 5 × 10^n hours)."""
    if value <= 0:
        return 1.0
    magnitude = 1.0
    while magnitude * 10 < value:
        magnitude *= 10
    while magnitude > value:
        magnitude /= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def bar_chart(title: str, rows: list[tuple[str, int, float | None, float | None]]) -> BarChart:
    """Bars of p50 (inside) and p90 (behind) hours for each labelled row that has figures."""
    rows = [row for row in rows if row[1] > 0]
    plot_width = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    top = _nice_ceiling(max((p for _, _, a, b in rows for p in (a, b) if p is not None), default=0))
    bars = [
        Bar(
            label,
            count,
            p50,
            p90,
            TOP + index * ROW_HEIGHT,
            plot_width * (p50 or 0.0) / top,
            plot_width * (p90 or 0.0) / top,
        )
        for index, (label, count, p50, p90) in enumerate(rows)
    ]
    ticks = [(plot_width * step / 4, f"{top * step / 4:g} h") for step in range(5)]
    height = TOP + max(len(rows), 1) * ROW_HEIGHT + 10
    return BarChart(title, bars, CHART_WIDTH, height, LABEL_WIDTH, plot_width, ticks)


def _row(times: StageTimes) -> dict[str, Any]:
    return {
        "supplier": times.supplier,
        "product_type": times.product_type,
        "fulfillment_count": times.fulfillment_count,
        "fulfillment_p50_hours": times.fulfillment_p50_hours,
        "fulfillment_p90_hours": times.fulfillment_p90_hours,
        "shipping_count": times.shipping_count,
        "shipping_p50_hours": times.shipping_p50_hours,
        "shipping_p90_hours": times.shipping_p90_hours,
    }


def production_stats(db: Database, since: datetime | None = None) -> dict[str, Any]:
    """The figures the production page and ``GET /admin/api/stats`` show (default window:
    orders paid in the last 30 days)."""
    since = since or utcnow() - timedelta(days=DEFAULT_WINDOW_DAYS)
    return {
        "since": since,
        "production_times": [_row(t) for t in production_times(db, since=since)],
        "stuck_items": stuck_items(db, limit=STUCK_ITEMS_SHOWN),
    }


def charts(rows: list[dict[str, Any]]) -> list[BarChart]:
    def label(row: dict[str, Any]) -> str:
        return f"{row['supplier']} · {row['product_type'] or 'any'}"

    return [
        bar_chart(
            "Fulfillment time (paid → shipped), hours",
            [
                (
                    label(r),
                    r["fulfillment_count"],
                    r["fulfillment_p50_hours"],
                    r["fulfillment_p90_hours"],
                )
                for r in rows
            ],
        ),
        bar_chart(
            "Shipping time (shipped → delivered), hours",
            [
                (label(r), r["shipping_count"], r["shipping_p50_hours"], r["shipping_p90_hours"])
                for r in rows
            ],
        ),
    ]
