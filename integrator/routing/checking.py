"""Turn pydantic validation errors into located configuration problems."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from integrator.routing.problems import ConfigProblem, KeyPath
from integrator.routing.yaml_document import YamlDocument

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


def is_web_url(value: str) -> bool:
    return value.startswith(("https://", "http://")) and len(value) > len("https://")
