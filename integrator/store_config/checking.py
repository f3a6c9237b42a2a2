"""Turn pydantic validation errors into located configuration problems."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from integrator.store_config.problems import ConfigProblem, KeyPath
from integrator.store_config.yaml_document import YamlDocument

Model = TypeVar("Model", bound=BaseModel)

_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "missing required key",
}


def check_section(
    model: type[Model],
    data: Any,
    path: KeyPath,
    document: YamlDocument,
    problems: list[ConfigProblem],
) -> Model | None:
    """Validate ``data`` found at ``path``; on failure record every error and return None."""
    try:
        return model.model_validate({} if data is None else data)
    except ValidationError as error:
        for detail in error.errors():
            location = tuple(part for part in detail["loc"] if part != "[key]")
            message = _MESSAGES.get(detail["type"], detail["msg"])
            problems.append(document.problem(path + location, message))
        return None


class SectionChecker:
    """Carries the document and the problem list through the section checks."""

    def __init__(self, document: YamlDocument, problems: list[ConfigProblem]) -> None:
        self.document = document
        self.problems = problems

    def report(self, path: KeyPath, message: str) -> None:
        self.problems.append(self.document.problem(path, message))

    def supplier_reference(self, path: KeyPath, name: str, declared: Collection[str]) -> None:
        """Report ``name`` at ``path`` unless it is a supplier under ``suppliers:``."""
        if name not in declared:
            self.report(
                path,
                f"unknown supplier {name!r} (configured: {', '.join(sorted(declared)) or 'none'})",
            )


def is_web_url(value: str) -> bool:
    return value.startswith(("https://", "http://")) and len(value) > len("https://")
