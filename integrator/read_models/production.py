"""Production time per supplier and product type, as figures and as server-drawn SVG bars.

The axis unit follows the data (seconds to days, integrator.domain.durations); figures are
written the way a person says them (``2 d 4 h``). Items whose timestamps run backwards are
counted as clock problems and shown as such, never drawn.

The figures cover a window (orders paid in the last ``DEFAULT_WINDOW_DAYS`` days unless the
caller gives ``since``), read through the index on ``orders.paid_at``, and at most
``STUCK_ITEMS_SHOWN`` open stuck-item alerts: the page costs what the window holds, never
the whole history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from integrator.db.database import Database
from integrator.db.timestamps import utcnow
from integrator.domain.durations import axis_for
from integrator.read_models.production_times import StageTimes, open_stuck_alerts, production_times

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
    p50: int | None  # seconds
    p90: int | None
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
    ticks: list[tuple[float, str]]  # (x, label)
    clock_problems: int  # items of this chart left out: a later stage dated earlier


Row = tuple[str, int, int | None, int | None, int]  # label, count, p50, p90, clock problems


def bar_chart(title: str, rows: list[Row]) -> BarChart:
    """Bars of p50 (inside) and p90 (behind) seconds for each labelled row that has figures."""
    problems = sum(row[4] for row in rows)
    drawn = [row for row in rows if row[1] > 0]
    plot_width = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    largest = max((p for _, _, a, b, _ in drawn for p in (a, b) if p is not None), default=0)
    axis = axis_for(largest)
    bars = [
        Bar(
            label,
            count,
            p50,
            p90,
            TOP + index * ROW_HEIGHT,
            plot_width * (p50 or 0) / axis.top,
            plot_width * (p90 or 0) / axis.top,
        )
        for index, (label, count, p50, p90, _) in enumerate(drawn)
    ]
    ticks = [(plot_width * seconds / axis.top, label) for seconds, label in axis.ticks()]
    height = TOP + max(len(drawn), 1) * ROW_HEIGHT + 10
    return BarChart(title, bars, CHART_WIDTH, height, LABEL_WIDTH, plot_width, ticks, problems)


def production_stats(db: Database, since: datetime | None = None) -> dict[str, Any]:
    """The figures ``GET /admin/api/stats`` gives (default window: orders paid in the last
    30 days)."""
    since = since or utcnow() - timedelta(days=DEFAULT_WINDOW_DAYS)
    return {
        "since": since,
        "production_times": [t.as_json() for t in production_times(db, since=since)],
        "stuck_items": open_stuck_alerts(db, limit=STUCK_ITEMS_SHOWN),
    }


def production_page(db: Database) -> dict[str, Any]:
    """What the production page shows: the figures of orders paid in the last 30 days, their
    two charts and the newest stuck items."""
    since = utcnow() - timedelta(days=DEFAULT_WINDOW_DAYS)
    times = production_times(db, since=since)
    return {
        "since": since,
        "times": times,
        "charts": charts(times),
        "stuck_items": open_stuck_alerts(db, limit=STUCK_ITEMS_SHOWN),
    }


def charts(times: list[StageTimes]) -> list[BarChart]:
    def label(row: StageTimes) -> str:
        return f"{row.supplier} · {row.product_type or 'any'}"

    return [
        bar_chart(
            "Fulfillment time (paid → shipped)",
            [
                (
                    label(t),
                    t.fulfillment_count,
                    t.fulfillment_p50_seconds,
                    t.fulfillment_p90_seconds,
                    t.fulfillment_clock_problems,
                )
                for t in times
            ],
        ),
        bar_chart(
            "Shipping time (shipped → delivered)",
            [
                (
                    label(t),
                    t.shipping_count,
                    t.shipping_p50_seconds,
                    t.shipping_p90_seconds,
                    t.shipping_clock_problems,
                )
                for t in times
            ],
        ),
    ]
