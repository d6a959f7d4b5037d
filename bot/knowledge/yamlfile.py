"""Safe YAML loading that remembers line numbers, so errors can say file:line.

PyYAML's SafeLoader builds plain dicts and lists; we build subclasses that
also carry the line of each value and each key. Duplicate keys, which PyYAML
silently overwrites, are reported as problems instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml


@dataclass(frozen=True, order=True)
class Problem:
    """One finding of loading or validation, printed as `file:line: message`."""

    file: str
    line: int
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}: {prefix}{self.message}"


class LineDict(dict):
    """A mapping that knows the line it starts on and the line of each key."""

    line: int = 0
    key_lines: dict[Any, int]


class LineList(list):
    line: int = 0
    item_lines: list[int]


# libyaml's parser when available: the pure-Python scanner is most of the load time.
_SafeBase: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeBase):
    """A safe loader (no arbitrary objects) that records lines and duplicate keys."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:
        self.flatten_mapping(node)
        result = LineDict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in result:
                self.duplicates.append((key_node.start_mark.line + 1, str(key)))
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = key_node.start_mark.line + 1
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:
        result = LineList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _LineLoader.construct_sequence)


_INDENTATION = re.compile(r"expected '-' indicator|expected <block end>|mapping values are not allowed here|could not find expected ':'")


def load_yaml(path: Path, label: str) -> tuple[Any, list[Problem]]:
    """Parse one YAML file. Returns (data or None, problems)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(label, 1, f"not UTF-8 text: {exc.reason}")]
    except OSError as exc:
        return None, [Problem(label, 1, f"cannot read: {exc.strerror}")]
    from bot.knowledge import parsecache  # here: parsecache reads this module's types

    cached = parsecache.get(text)
    if cached is not None:
        return cached, []  # only files that parsed without problems are kept
    loader = _LineLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        message = f"YAML syntax: {exc.problem or exc.context}"
        if "expected ',' or '}'" in message or "expected ',' or ']'" in message:
            message += " (inside {…} or […], put text containing ? : , [ ] { } in quotes)"
        elif _INDENTATION.search(str(exc.problem or "")) or _INDENTATION.search(str(exc.context or "")):
            message = (
                f"the lines around line {line} do not line up: check the indentation (each entry of a list starts "
                f"with '- ' in the same column as its neighbours, and a key sits under the key it belongs to), "
                f"or whether a '- ' is missing (YAML said: {exc.problem or exc.context})"
            )
        return None, [Problem(label, line, message)]
    except yaml.YAMLError as exc:
        return None, [Problem(label, 1, f"YAML: {exc}")]
    finally:
        loader.dispose()
    problems = [Problem(label, line, f"duplicate key '{key}'") for line, key in loader.duplicates]
    if not problems and data is not None:
        parsecache.put(text, data)
    return data, problems


def line_of(data: Any, loc: Iterable[Any]) -> int:
    """The line of the deepest element of `data` reachable by the path `loc`."""
    line = getattr(data, "line", 1) or 1
    node = data
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
    return line


def line_containing(data: Any, needle: str) -> int | None:
    """The line of the first key or list item (below `data`) whose text value contains `needle`."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str) and needle in value:
                return getattr(data, "key_lines", {}).get(key)
            found = line_containing(value, needle)
            if found is not None:
                return found
    elif isinstance(data, list):
        lines = getattr(data, "item_lines", [])
        for i, value in enumerate(data):
            if isinstance(value, str) and needle in value:
                return lines[i] if i < len(lines) else None
            found = line_containing(value, needle)
            if found is not None:
                return found
    return None
