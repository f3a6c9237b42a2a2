"""How long something took, measured across clocks, and said in units a person reads.

Suppliers date their events to the whole second (Printful sends unix seconds, Gelato and
Printify ISO times without a fraction), while our clock and Shopify's carry fractions. Set
side by side, an item shipped 0.3 s after it was paid looks 0.7 s *earlier* when the supplier's
time is cut to the second. So every duration is measured between whole seconds: cutting both
ends keeps every true order (truncation never swaps two instants), and a duration still below
zero is a clock or parsing problem, never a figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


def seconds_between(start: datetime, end: datetime) -> int:
    """Whole seconds from ``start`` to ``end``; below zero when ``end`` is dated earlier."""
    return int((end.replace(microsecond=0) - start.replace(microsecond=0)).total_seconds())


@dataclass(frozen=True)
class Unit:
    symbol: str
    seconds: int


SECOND = Unit("s", 1)
MINUTE = Unit("min", 60)
HOUR = Unit("h", 3_600)
DAY = Unit("d", 86_400)
UNITS: tuple[Unit, ...] = (SECOND, MINUTE, HOUR, DAY)
TICK_INTERVALS = 4


def unit_for(seconds: float) -> Unit:
    """The largest unit of which ``seconds`` is at least one: 59 s, 1.5 min, 23 h, 3 d."""
    chosen = SECOND
    for unit in UNITS:
        if seconds >= unit.seconds:
            chosen = unit
    return chosen


@dataclass(frozen=True)
class Axis:
    """A chart axis from 0 to ``top`` seconds, with ticks at whole multiples of ``step``."""

    unit: Unit
    step: int  # in ``unit``

    @property
    def top(self) -> int:
        """The axis end, in seconds."""
        return self.step * TICK_INTERVALS * self.unit.seconds

    def ticks(self) -> list[tuple[int, str]]:
        """(seconds, label) from 0 to the top: ``0 min``, ``5 min`` … ``20 min``."""
        return [
            (n * self.step * self.unit.seconds, f"{n * self.step} {self.unit.symbol}")
            for n in range(TICK_INTERVALS + 1)
        ]


def axis_for(largest_seconds: float) -> Axis:
    """The unit the largest value reads in, and the smallest 1-2-5 step whose four intervals
    reach it, so that every tick is a whole number of that unit."""
    unit = unit_for(largest_seconds)
    needed = max(largest_seconds, 0) / unit.seconds / TICK_INTERVALS
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if step >= needed:
                return Axis(unit, step)
        magnitude *= 10


def human(seconds: float | None) -> str:
    """``3 d 4 h``, ``2 h 5 min``, ``4 min 10 s``, ``40 s``: two units at most, rounded down."""
    if seconds is None:
        return "—"
    whole = int(seconds)
    if whole < 0:
        raise ValueError(f"a duration below zero is not a figure: {seconds} s")
    days, rest = divmod(whole, DAY.seconds)
    hours, rest = divmod(rest, HOUR.seconds)
    minutes, secs = divmod(rest, MINUTE.seconds)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"
