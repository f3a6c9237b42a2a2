"""Read a YAML file into plain data plus the line of every key path, for error messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from integrator.store_config.problems import ConfigProblem, KeyPath, format_key_path


@dataclass
class YamlDocument:
    """Plain data from one file and a map from key path to its 1-based line."""

    file: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    # True when the file could not be read or parsed: its contents are not checked further
    unreadable: bool = False
    # the environment variables each value referred to before interpolation
    variables: dict[KeyPath, tuple[str, ...]] = field(default_factory=dict)

    def line_of(self, path: KeyPath) -> int | None:
        """Return the line of ``path``, or of its nearest ancestor the file mentions."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None

    def problem(self, path: KeyPath, message: str) -> ConfigProblem:
        return ConfigProblem(self.file, format_key_path(path), self.line_of(path), message)


def parse_yaml(text: str, file: str, problems: list[ConfigProblem]) -> YamlDocument:
    """Parse ``text``; a syntax error becomes a problem and the document is empty."""
    try:
        node, data = _compose(text, fast=True)
    except yaml.YAMLError:
        try:  # the pure-Python parser again, for its message and line (what the tests pin)
            node, data = _compose(text, fast=False)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            reason = f"not valid YAML: {_yaml_reason(error)}"
            problems.append(ConfigProblem(file, "", line, reason))
            return YamlDocument(file, None, unreadable=True)
    document = YamlDocument(file, data)
    if node is not None:
        _record_lines(node, (), document, problems)
    return document


def _compose(text: str, *, fast: bool) -> tuple[yaml.Node | None, Any]:
    """The node tree (with lines) and the plain data of ``text``.

    ``fast`` uses libyaml when PyYAML has it (about 8 times faster: every process start and
    every test's container reads the configuration), after the pure reader's character check,
    so that it accepts exactly the characters the pure parser accepts.
    """
    loader: yaml.SafeLoader | yaml.CSafeLoader | None = None
    try:
        if fast and yaml.__with_libyaml__:
            yaml.reader.Reader(text)  # raises on characters YAML does not allow
            loader = yaml.CSafeLoader(text)
        else:
            # the reader checks characters as soon as it is built: keep it inside the try
            loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        if loader is not None:
            loader.dispose()
    return node, data


def _yaml_reason(error: yaml.YAMLError) -> str:
    reason = getattr(error, "problem", None)
    return str(reason) if reason else str(error).splitlines()[0]


def _record_lines(
    node: yaml.Node, path: KeyPath, document: YamlDocument, problems: list[ConfigProblem]
) -> None:
    document.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                problems.append(
                    ConfigProblem(
                        document.file,
                        format_key_path(path + (key,)),
                        key_node.start_mark.line + 1,
                        "duplicate key",
                    )
                )
            seen.add(key)
            document.lines[path + (key,)] = key_node.start_mark.line + 1
            _record_lines(value_node, path + (key,), document, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, path + (index,), document, problems)
