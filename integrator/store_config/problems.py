"""Configuration problems, collected so that one run names every one of them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in a configuration file, where it is and what is wrong."""

    file: str
    key_path: str  # e.g. "rules[2].match.product_type", "" for the whole file
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        key = self.key_path or "(file)"
        return f"{where}: {key}: {self.message}"


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` lists everything found, in file order."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = sorted(problems, key=_file_order)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def _file_order(problem: ConfigProblem) -> tuple[str, int, str]:
    return (problem.file, problem.line or 0, problem.key_path)


KeyPath = tuple[str | int, ...]


def format_key_path(path: KeyPath) -> str:
    """Render ``("rules", 2, "match")`` as ``rules[2].match``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text
