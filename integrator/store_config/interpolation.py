"""Replace ``${VAR}`` and ``${VAR:-default}`` in configuration strings with the environment."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from integrator.store_config.problems import KeyPath

_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

MissingVariable = Callable[[KeyPath, str], None]


def interpolate(data: Any, environ: Mapping[str, str], on_missing: MissingVariable) -> Any:
    """Return ``data`` with every string's references resolved; ``$$`` is a literal ``$``.

    A reference to an unset variable without a default is reported through ``on_missing``
    (with the key path) and replaced by an empty string, so that checking can go on.
    """
    return _walk(data, (), environ, on_missing)


def _walk(data: Any, path: KeyPath, environ: Mapping[str, str], on_missing: MissingVariable) -> Any:
    if isinstance(data, str):
        return _substitute(data, path, environ, on_missing) if "$" in data else data
    if isinstance(data, dict):
        return {
            key: _walk(value, path + (str(key),), environ, on_missing)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [
            _walk(item, path + (index,), environ, on_missing) for index, item in enumerate(data)
        ]
    return data


def _substitute(
    text: str, path: KeyPath, environ: Mapping[str, str], on_missing: MissingVariable
) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        value = environ.get(name)
        if default is not None and not value:
            return default  # shell semantics: ":-" also replaces an empty value
        if value is None:
            on_missing(path, name)
            return ""
        return value

    return _REFERENCE.sub(replace, text)


def variables_by_path(data: Any, path: KeyPath = ()) -> dict[KeyPath, tuple[str, ...]]:
    """The environment variables each string of ``data`` refers to, by key path (for
    messages that tell the operator which variable to set)."""
    if isinstance(data, str):
        names = tuple(match.group(1) for match in _REFERENCE.finditer(data) if match.group(1))
        return {path: names} if names else {}
    found: dict[KeyPath, tuple[str, ...]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            found.update(variables_by_path(value, path + (str(key),)))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found.update(variables_by_path(item, path + (index,)))
    return found
