"""Durations across clocks (whole seconds), the unit an axis reads in, and figures for people."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from integrator.domain.durations import axis_for, human, seconds_between, unit_for
from integrator.read_models.production_times import percentile

MINUTE, HOUR, DAY = 60, 3600, 86400


@pytest.mark.parametrize(
    ("start", "end", "seconds"),
    [
        # paid at .6 by our clock, shipped in the same second by a supplier that drops fractions
        ("10:00:00.600000", "10:00:00", 0),
        ("10:00:00.600000", "10:00:01", 1),
        ("10:00:00", "10:00:00.999999", 0),
        ("10:00:00.999999", "10:00:02.000001", 2),
        ("10:00:00", "12:30:15", 2 * HOUR + 30 * MINUTE + 15),
        # a whole second or more backwards stays below zero: a clock or parsing problem
        ("10:00:01.000000", "10:00:00.999999", -1),
        ("12:00:00", "10:00:00", -2 * HOUR),
    ],
)
def test_durations_are_measured_between_whole_seconds(start: str, end: str, seconds: int) -> None:
    def at(clock: str) -> datetime:
        return datetime.fromisoformat(f"2026-11-27T{clock}")

    assert seconds_between(at(start), at(end)) == seconds


# the largest value on a chart → the unit it reads in, and the axis ticks
AXES = [
    (0, ["0 s", "1 s", "2 s", "3 s", "4 s"]),
    (0.4, ["0 s", "1 s", "2 s", "3 s", "4 s"]),
    (4, ["0 s", "1 s", "2 s", "3 s", "4 s"]),
    (10, ["0 s", "5 s", "10 s", "15 s", "20 s"]),
    (59, ["0 s", "20 s", "40 s", "60 s", "80 s"]),
    (60, ["0 min", "1 min", "2 min", "3 min", "4 min"]),
    (90, ["0 min", "1 min", "2 min", "3 min", "4 min"]),
    (50 * MINUTE, ["0 min", "20 min", "40 min", "60 min", "80 min"]),
    (HOUR, ["0 h", "1 h", "2 h", "3 h", "4 h"]),
    (5 * HOUR, ["0 h", "2 h", "4 h", "6 h", "8 h"]),
    (23 * HOUR, ["0 h", "10 h", "20 h", "30 h", "40 h"]),
    (2 * DAY, ["0 d", "1 d", "2 d", "3 d", "4 d"]),
    (80 * HOUR, ["0 d", "1 d", "2 d", "3 d", "4 d"]),
    (12 * DAY, ["0 d", "5 d", "10 d", "15 d", "20 d"]),
    (40 * DAY, ["0 d", "10 d", "20 d", "30 d", "40 d"]),
    (400 * DAY, ["0 d", "100 d", "200 d", "300 d", "400 d"]),
]


@pytest.mark.parametrize(("largest", "labels"), AXES)
def test_the_axis_unit_and_ticks_follow_the_data(largest: float, labels: list[str]) -> None:
    axis = axis_for(largest)

    assert [label for _seconds, label in axis.ticks()] == labels
    assert axis.ticks()[-1][0] == axis.top >= largest


@pytest.mark.parametrize(
    ("seconds", "unit"),
    [
        (0, "s"),
        (59.9, "s"),
        (60, "min"),
        (HOUR - 1, "min"),
        (HOUR, "h"),
        (DAY - 1, "h"),
        (DAY, "d"),
        (365 * DAY, "d"),
    ],
)
def test_the_unit_is_the_largest_the_value_holds_once(seconds: float, unit: str) -> None:
    assert unit_for(seconds).symbol == unit


@pytest.mark.parametrize("exponent", range(-7, 9))
def test_no_axis_tick_is_a_fraction_or_in_scientific_notation(exponent: int) -> None:
    for mantissa in (1.0, 2.5, 9.99):
        axis = axis_for(mantissa * 10.0**exponent)

        for _seconds, label in axis.ticks():
            assert re.fullmatch(r"\d+ (s|min|h|d)", label), label


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (None, "—"),
        (0, "0 s"),
        (0.9, "0 s"),
        (59, "59 s"),
        (61, "1 min 1 s"),
        (HOUR + MINUTE, "1 h 1 min"),
        (2 * DAY, "2 d 0 h"),
        (DAY + HOUR + MINUTE + 1, "1 d 1 h"),
    ],
)
def test_figures_are_said_in_two_units_at_most(seconds: float | None, said: str) -> None:
    assert human(seconds) == said


def test_a_duration_below_zero_is_never_said_as_a_figure() -> None:
    with pytest.raises(ValueError, match="below zero"):
        human(-1)


@pytest.mark.parametrize(
    ("values", "p50", "p90"),
    [
        ([], None, None),
        ([7], 7, 7),
        ([7, 5], 5, 7),
        ([3, 1, 2], 2, 3),
        ([1, 2, 3, 4], 2, 4),
        (list(range(1, 11)), 5, 9),
        (list(range(1, 101)), 50, 90),
    ],
)
def test_nearest_rank_percentiles_are_values_that_happened(
    values: list[int], p50: int | None, p90: int | None
) -> None:
    assert (percentile(values, 0.5), percentile(values, 0.9)) == (p50, p90)
