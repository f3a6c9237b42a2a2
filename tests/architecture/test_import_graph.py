"""No import circle in integrator/ and webhooks/: every module's imports (at the top or inside a
function, anything but ``if TYPE_CHECKING:``) form a graph without a cycle, so each room can be
read, tested and moved without the rooms that use it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).parents[2]
PACKAGES = ("integrator", "webhooks")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def our_modules() -> dict[str, Path]:
    return {
        module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    }


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Every module name an import statement names, skipping ``if TYPE_CHECKING:`` bodies."""
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        pending.extend(ast.iter_child_nodes(node))


def import_graph() -> dict[str, set[str]]:
    """Module → the modules of ours it makes Python import. Importing ``a.b.c`` also runs
    ``a/__init__`` and ``a/b/__init__``, except those the importer lives in (already running)."""
    modules = our_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for name in imported_names(ast.parse(path.read_text()), module, is_package):
            parts = name.split(".")
            for end in range(1, len(parts) + 1):
                target = ".".join(parts[:end])
                if target in modules and target != module and not _is_ancestor(target, module):
                    targets.add(target)
        graph[module] = targets
    return graph


def _is_ancestor(package: str, module: str) -> bool:
    return module.startswith(package + ".")


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path (first module repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_sees_imports_of_every_kind() -> None:
    graph = import_graph()
    # a top-level import, a package's re-export, a relative import and one inside a function
    assert "integrator.db.database" in graph["integrator.bootstrap"]
    assert "integrator.routing.router" in graph["integrator.routing"]
    assert "integrator.cli.processes" not in graph["integrator.cli.main"]  # named as a string
    assert "integrator.pipeline.callbacks" in graph["integrator.pipeline.handlers"]


def test_the_search_finds_a_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_circle_outside_type_checking() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " → ".join(cycle or [])


def test_the_rooms_never_import_the_benchmarks_or_the_tests() -> None:
    """bench/ and tests/ import the rooms, never the other way: no circle can pass through
    them, so the graph above (integrator/ and webhooks/ alone) is the whole story."""
    outside = ("bench", "tests")
    found = sorted(
        f"{module} imports {name}"
        for module, path in our_modules().items()
        for name in imported_names(ast.parse(path.read_text()), module, path.name == "__init__.py")
        if name.split(".")[0] in outside
    )
    assert found == []
