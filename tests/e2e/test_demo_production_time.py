"""``integrator demo``'s own run: every item measured in whole seconds, none dated backwards,
and the timelines it prints never run backwards either."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from integrator.cli.demo import print_result
from integrator.demo import Demo, DemoResult
from integrator.read_models.production_times import production_times


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Demo, DemoResult]]:
    runner = Demo(workdir=tmp_path, say=lambda _line: None)
    try:
        yield runner, runner.run()
    finally:
        runner.stop()


@pytest.mark.slow
def test_the_demo_measures_every_supplier_without_a_clock_problem(
    demo: tuple[Demo, DemoResult],
) -> None:
    runner, result = demo
    assert result.ok, result.problems

    rows = production_times(runner.stack.db)

    assert {row.supplier for row in rows} == {"printful", "printify", "gelato", "prodigi"}
    for row in rows:
        assert (row.fulfillment_clock_problems, row.shipping_clock_problems) == (0, 0), row
        assert row.fulfillment_count > 0 and row.fulfillment_p50_seconds is not None, row
        assert 0 <= row.fulfillment_p50_seconds <= (row.fulfillment_p90_seconds or 0), row
    printed = Console(width=400, record=True, file=None)
    with printed.capture() as captured:
        print_result(printed, result)
    offsets = re.findall(r"\+(-?\d+) s", captured.get())
    assert offsets and all(not offset.startswith("-") for offset in offsets)
    assert "clock?" not in captured.get()
