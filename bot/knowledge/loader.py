"""Read knowledge files into schema objects, with file:line for every problem."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.knowledge.kinds import SECTIONS
from bot.knowledge.model import KnowledgeFile
from bot.knowledge.yamlfile import LineDict, Problem, line_of, load_yaml


@dataclass(frozen=True)
class ParsedFile:
    """One knowledge file: its validated content and the raw data (for line numbers)."""

    label: str
    content: KnowledgeFile
    raw: Any

    def line(self, *loc: Any) -> int:
        return line_of(self.raw, loc)


def label_for(path: Path) -> str:
    """How a file is named in messages: relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def knowledge_files(directory: Path) -> list[Path]:
    """All YAML files below `directory`, skipping names starting with '_' or '.'."""
    files = []
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory)
        if any(part.startswith(("_", ".")) for part in rel.parts):
            continue
        if path.is_file() and path.suffix in (".yaml", ".yml"):
            files.append(path)
    return files


def parse_file(path: Path, label: str) -> tuple[ParsedFile | None, list[Problem]]:
    data, problems = load_yaml(path, label)
    if problems and data is None:
        return None, problems
    if data is None:
        data = LineDict()
        data.line, data.key_lines = 1, {}
    if not isinstance(data, dict):
        return None, [*problems, Problem(label, getattr(data, "line", 1), "the file must be a mapping of sections: " + ", ".join(SECTIONS))]
    try:
        content = KnowledgeFile.model_validate(data)
    except ValidationError as exc:
        problems += [Problem(label, line_of(data, _data_loc(err["loc"])), _message(err)) for err in exc.errors()]
        return None, sorted(set(problems))
    return ParsedFile(label, content, data), problems


def _data_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-branch markers (e.g. 'str', 'Text') from an error path."""
    return tuple(p for p in loc if isinstance(p, int) or p in _KNOWN_KEYS or not _is_type_name(p))


_KNOWN_KEYS: set[str] = set()


def _is_type_name(part: Any) -> bool:
    return isinstance(part, str) and (part[:1].isupper() or part in ("str", "int", "float", "bool", "constrained-str", "function-after"))


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in _data_loc(loc):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(err: Any) -> str:
    loc, kind, where = err["loc"], err["type"], _path(err["loc"])
    last = _data_loc(loc)[-1] if _data_loc(loc) else ""
    if kind == "missing":
        if last in ("sv", "en"):
            return f"{where}: missing translation ('{last}')"
        return f"{where}: required field missing"
    if kind == "extra_forbidden":
        parent = _data_loc(loc)[-2] if len(_data_loc(loc)) > 1 else ""
        if parent in ("label", "title", "ask", "name", "text", "help", "term"):
            return f"{where}: unknown field '{last}' (a comma inside {{sv: …, en: …}} splits the text: put the text in quotes)"
        return f"{where}: unknown field '{last}' (check the spelling)"
    if kind == "string_pattern_mismatch":
        return f"{where}: {err['input']!r} is not valid here ({err['ctx']['pattern']})"
    msg = err["msg"].removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def _collect_keys() -> None:
    """Field names of every model, so error paths keep them (they look like type names otherwise)."""
    from bot.knowledge import model

    for obj in vars(model).values():
        if isinstance(obj, type) and hasattr(obj, "model_fields"):
            for name, field in obj.model_fields.items():
                _KNOWN_KEYS.add(field.alias or name)


_collect_keys()

