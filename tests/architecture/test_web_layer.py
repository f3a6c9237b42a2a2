"""The read side lives in the core: webhooks/ renders what integrator/read_models/ (and the
services) return, and writes no query of its own. Its only use of SQLAlchemy is naming the
errors that mean the database is down."""

from __future__ import annotations

import ast

from tests.architecture.test_import_graph import imported_names, our_modules


def _is_sql(name: str) -> bool:
    """A name that builds queries or reads the tables (``sqlalchemy.exc``'s errors aside)."""
    parts = name.split(".")
    if parts[0] == "sqlalchemy":
        return parts[:2] != ["sqlalchemy", "exc"]
    return name.startswith("integrator.db.models")


def sql_imports(package: str) -> list[str]:
    found = set()
    for module, path in our_modules().items():
        if module == package or module.startswith(package + "."):
            tree = ast.parse(path.read_text())
            for name in imported_names(tree, module, path.name == "__init__.py"):
                if _is_sql(name):
                    found.add(f"{module} imports {name}")
    return sorted(found)


def test_the_search_sees_a_query_in_the_core() -> None:
    found = sql_imports("integrator.read_models")
    assert "integrator.read_models.queries imports sqlalchemy.select" in found
    assert "integrator.read_models.queries imports integrator.db.models.Job" in found


def test_the_web_layer_writes_no_query() -> None:
    assert sql_imports("webhooks") == []
