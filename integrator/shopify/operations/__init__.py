"""GraphQL documents the integrator sends to Shopify, one ``<name>.graphql`` file each."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load_operation(name: str) -> str:
    """Return the document in ``operations/<name>.graphql``.

    :raises FileNotFoundError: for an unknown name.
    """
    if not name.replace("_", "").isalnum():
        raise FileNotFoundError(f"no GraphQL operation named {name!r}")
    return resources.files(__package__).joinpath(f"{name}.graphql").read_text(encoding="utf-8")


def operation_names() -> list[str]:
    """Every operation shipped with the package."""
    entries = resources.files(__package__).iterdir()
    return sorted(e.name.removesuffix(".graphql") for e in entries if e.name.endswith(".graphql"))
