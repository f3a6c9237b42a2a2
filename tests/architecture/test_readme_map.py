"""The README's "How it works" map matches the tree: every path it names exists, and it names
every room (each package and module at the top of integrator/, and webhooks/)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
SECTION = "## How it works"
# a path in backticks: `integrator/pipeline/`, `inbox.py`, `reconcile/`
NAMED = re.compile(r"`([\w./-]+(?:\.py|/))`")
# a path in the flow diagram or a link: webhooks/shopify.py, (docs/adr/)
BARE = re.compile(r"(?<![\w/])((?:integrator|webhooks|tests|docs)/[\w./-]*[\w/])")
ROOTS = ("integrator/", "webhooks/", "tests/", "docs/", "bench/")


def section(readme: str) -> list[str]:
    lines = readme.split(SECTION + "\n", 1)[1].splitlines()
    end = next((i for i, line in enumerate(lines) if line.startswith("## ")), len(lines))
    return lines[:end]


def named_paths(lines: list[str]) -> set[str]:
    """Every path the lines name. A name without a top folder belongs to the top-level item it
    is listed under (``- `integrator/pipeline/` ... `inbox.py```)."""
    paths: set[str] = set()
    base = ""
    for line in lines:
        if line.startswith("- "):
            first = NAMED.search(line)
            base = first.group(1) if first and first.group(1).endswith("/") else ""
        for name in NAMED.findall(line):
            paths.add(name if name.startswith(ROOTS) else base + name)
        paths.update(BARE.findall(line))
    return paths


def rooms() -> set[str]:
    top = ROOT / "integrator"
    packages = {f"integrator/{p.name}/" for p in top.iterdir() if (p / "__init__.py").exists()}
    modules = {f"integrator/{p.name}" for p in top.glob("*.py") if p.name != "__init__.py"}
    return packages | modules | {"webhooks/"}


def test_the_reading_sees_nested_and_bare_names() -> None:
    lines = [
        "Shopify ─▶ webhooks/shopify.py: checks",
        "- `integrator/pipeline/` — handlers:",
        "  - `inbox.py` (store), `reconcile/` (passes);",
        "- `integrator/db/` — rows. Decisions: [docs/adr/](docs/adr/).",
    ]
    assert named_paths(lines) == {
        "webhooks/shopify.py",
        "integrator/pipeline/",
        "integrator/pipeline/inbox.py",
        "integrator/pipeline/reconcile/",
        "integrator/db/",
        "docs/adr/",
    }


def test_every_path_the_map_names_exists() -> None:
    named = named_paths(section((ROOT / "README.md").read_text()))
    assert len(named) > 20
    assert sorted(path for path in named if not (ROOT / path).exists()) == []


def test_the_map_names_every_room() -> None:
    named = named_paths(section((ROOT / "README.md").read_text()))
    assert sorted(rooms() - named) == []
