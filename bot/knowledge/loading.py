"""Read a knowledge directory, validate the whole, and only then build a `Knowledge`.

A reload builds a new one beside the old and swaps it in only if it
validated, so a broken edit never takes the bot down.
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from bot.knowledge.loaded import Knowledge, assemble
from bot.knowledge.loader import ParsedFile, knowledge_files, label_for, parse_file
from bot.knowledge.validation import validate
from bot.knowledge.yamlfile import Problem

#: The package the shipped knowledge base is installed as (the knowledge/ directory of the checkout).
SHIPPED_PACKAGE = "regellotsen_knowledge"


def shipped_directory() -> Path:
    """The shipped knowledge base, wherever Regellotsen is installed (a checkout, editable or a wheel).

    Read through importlib.resources; a zipped install is extracted once, to a directory that lives as
    long as the process (the loader and the file watch need real files)."""
    root = resources.files(SHIPPED_PACKAGE)
    if isinstance(root, Path):
        return root
    return Path(_KEEP.enter_context(resources.as_file(root)))


_KEEP = contextlib.ExitStack()
DEFAULT_DIR = shipped_directory()


def default_directory() -> Path:
    """$REGELLOTS_KNOWLEDGE, else the shipped knowledge base."""
    from bot.settings import load_settings

    return load_settings().knowledge or shipped_directory()


@dataclass
class _Collected:
    files: list[ParsedFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_files(directory: Path) -> _Collected:
    out = _Collected()
    if not directory.is_dir():
        out.problems.append(Problem(str(directory), 0, "knowledge directory not found"))
        return out
    files = knowledge_files(directory)
    if not files:
        out.problems.append(Problem(str(directory), 0, "no .yaml files in the knowledge directory"))
    for path in files:
        parsed, problems = parse_file(path, label_for(path))
        out.problems.extend(problems)
        if parsed is not None:
            out.files.append(parsed)
    return out


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """A load allocates about a million small objects, nearly all kept: the cyclic collector's passes over
    them found nothing and cost a third of the load. Paused for the load, as it was before."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def load_knowledge(
    directory: Path | None = None, *, check_collisions: bool = False, check_rules: bool = False
) -> tuple[Knowledge | None, list[Problem]]:
    """Load and validate. Returns (knowledge, problems); knowledge is None if any problem is an error.

    `check_collisions` and `check_rules` (the rule checker, which walks every flow) are for `regellots validate`
    and the tests; the running bot skips them on every reload."""
    with _collector_paused():
        return _load(directory or default_directory(), check_collisions, check_rules)


def _load(directory: Path, check_collisions: bool, check_rules: bool) -> tuple[Knowledge | None, list[Problem]]:
    collected = read_files(directory)
    problems = list(collected.problems)
    if any(p.severity == "error" for p in problems):
        # Still check the files that could be read, so one run reports every problem. References to entries in
        # the unreadable files are left out: they would only repeat the file's own error.
        if collected.files:
            partial = assemble(directory, collected.files)
            unread = _ids_in({p.file for p in problems if p.severity == "error"}, collected)
            problems += [p for p in validate(partial) if not any(f"refers to unknown {what}" in p.message and f"'{i}'" in p.message for i in unread for what in _WHATS)]
        return None, sorted(set(problems))
    knowledge = assemble(directory, collected.files)
    problems += validate(knowledge, check_collisions=check_collisions, check_rules=check_rules)
    problems = sorted(set(problems))
    if any(p.severity == "error" for p in problems):
        return None, problems
    return knowledge, problems


_WHATS = ("agency", "regulation", "topic or flow", "flow")
_ID_LINE = re.compile(r"^\s*-\s+id:\s*['\"]?([a-z0-9][a-z0-9-]*)", re.MULTILINE)


def _ids_in(labels: set[str], collected: _Collected) -> set[str]:
    """The ids written in files that could not be read (found textually), so references to them are not reported."""
    read = {f.label for f in collected.files}
    ids: set[str] = set()
    for label in labels - read:
        try:
            ids.update(_ID_LINE.findall(Path(label).read_text(encoding="utf-8")))
        except OSError:
            continue
    return ids
