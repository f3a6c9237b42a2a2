"""Services ask, they do not inspect: only the supplier adapters know they have a circuit
breaker. The pipeline asks ``adapter.can_take_work()``; nothing outside integrator/suppliers/
reads an adapter's ``breaker``."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[2]
ROOMS = ("integrator", "webhooks")
OWNER = ROOT / "integrator" / "suppliers"


def breaker_reads(path: Path) -> list[int]:
    """The lines of ``path`` that read an attribute named ``breaker``."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr == "breaker"
    ]


def test_the_search_sees_a_look_at_the_breaker(tmp_path: Path) -> None:
    inspecting = tmp_path / "inspecting.py"
    inspecting.write_text("def go(adapter):\n    return adapter.breaker.is_open()\n")
    assert breaker_reads(inspecting) == [2]


def test_nothing_outside_the_adapters_looks_at_a_breaker() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for room in ROOMS
        for path in sorted((ROOT / room).rglob("*.py"))
        if not path.is_relative_to(OWNER)
        for line in breaker_reads(path)
    ]
    assert found == []
    assert breaker_reads(ROOT / "integrator" / "suppliers" / "base.py")  # the owner still does
