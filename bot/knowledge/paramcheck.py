"""Checks for dated parameters: unknown names, badly ordered periods, and texts that hard-code a value.

- `{param:NAME}` in a text, or `{param: NAME}` in a rule or derivation, must
  name a parameter (error, with a "did you mean" when a name is close).
- A parameter's periods must start on different days; a `date` parameter
  holds dates, an amount holds numbers (errors).
- A text that writes out a value some parameter holds ("700 000 kr",
  "31 december 2027", "31 December 2027", "2027-12-31") gets a warning naming
  the parameter to use instead. Source titles are quoted as the source has
  them and are not checked.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bot.knowledge.loaded import Knowledge
from bot.knowledge.model import Source, Text
from bot.knowledge.parameters import PLACEHOLDER, referenced, spellings
from bot.knowledge.rules import param_refs
from bot.knowledge.yamlfile import Problem, line_containing

#: Sections whose entries hold user-visible texts.
TEXT_SECTIONS = ("regulations", "agencies", "topics", "flows", "rules", "glossary", "out_of_scope", "parameters")


def check_parameters(k: Knowledge) -> list[Problem]:
    out: list[Problem] = []
    names = sorted(k.parameters)
    for pid, param in k.parameters.items():
        f, line = k.where[("parameters", pid)]
        starts = [v.from_ for v in param.values]
        if len(set(starts)) != len(starts):
            out.append(Problem(f, line, f"parameter '{pid}': two values start on the same day"))
        for v in param.values:
            if v.value is None:
                continue
            if (param.unit == "date") != isinstance(v.value, date):
                out.append(Problem(f, line, f"parameter '{pid}': value {v.value!r} does not fit unit '{param.unit}'"))
    for section, entry_id, entry in entries(k):
        f, line = k.where.get((section, entry_id), (str(k.directory), 0))
        raw = k.raw.get((section, entry_id))
        for text in texts_in(entry):
            for lang in ("sv", "en"):
                for name, _ in referenced(text.raw(lang)):
                    if name not in k.parameters:
                        at = exact_line(f, line_containing(raw, "{param:" + name) or line, "{param:" + name)
                        out.append(Problem(f, at, f"{section.rstrip('s')} '{entry_id}': unknown parameter '{name}'{did_you_mean(name, names)}"))
        conditions = [entry.when] if section == "rules" else [d.when for d in getattr(entry, "derive", [])] if section == "flows" else []
        for cond in conditions:
            for name in param_refs(cond):
                if name not in k.parameters:
                    at = line_containing(raw, name) or line
                    out.append(Problem(f, at, f"{section.rstrip('s')} '{entry_id}': unknown parameter '{name}'{did_you_mean(name, names)}"))
    out += hard_coded(k)
    return out


def hard_coded(k: Knowledge) -> list[Problem]:
    """Warnings for texts that write out a value a parameter holds."""
    # Several parameters may hold the same value (31 December 2027 ends both an MDR and an
    # IVDR transition): one warning per value and entry, naming every candidate.
    holders: dict[str, list[str]] = {}  # spelling -> parameters holding it
    for pid, param in k.parameters.items():
        for v in param.values:
            for s in spellings(param.unit, v.value):
                if pid not in holders.setdefault(s, []):
                    holders[s].append(pid)
    out: list[Problem] = []
    if not holders:
        return out
    # One pass per text finds whether any value occurs at all; most texts hold none (this runs on every load).
    anywhere = re.compile("|".join(re.escape(s) for s in sorted(holders, key=len, reverse=True)))
    for section, entry_id, entry in entries(k):
        if section == "parameters":
            continue
        f, line = k.where.get((section, entry_id), (str(k.directory), 0))
        raw = k.raw.get((section, entry_id))
        reported: set[tuple[str, ...]] = set()
        for text in texts_in(entry, quoted=False):
            for lang in ("sv", "en"):
                # A placeholder's own date (`@2024-01-01`) is not a written-out value, and a
                # date may be wrapped across lines ("31 december\n2027") in a block text.
                written = " ".join(PLACEHOLDER.sub(" ", text.raw(lang)).split())
                if not anywhere.search(written):
                    continue
                for needle, pids in holders.items():
                    group = tuple(pids)
                    if group in reported or not _contains_value(written, needle):
                        continue
                    reported.add(group)
                    at = exact_line(f, line_containing(raw, needle) or line, needle)
                    if len(pids) == 1:
                        pid = pids[0]
                        advice = f"a value of parameter '{pid}' – write {{param:{pid}}} (or {{param:{pid}@YYYY-MM-DD}} for a past value)"
                    else:
                        advice = "a value of parameters " + ", ".join(f"'{p}'" for p in pids) + " – write {param:…} with the one meant"
                    out.append(Problem(f, at, f"{section.rstrip('s')} '{entry_id}': the text writes out {needle!r}, {advice}", "warning"))
    return out


def _contains_value(text: str, needle: str) -> bool:
    """True if `needle` occurs as a whole number or date (not inside a longer number)."""
    start = text.find(needle)
    while start != -1:
        before = text[start - 1] if start > 0 else " "
        after = text[start + len(needle)] if start + len(needle) < len(text) else " "
        if not before.isdigit() and not (after.isdigit() or (after in " ,\u00a0" and text[start + len(needle) + 1 : start + len(needle) + 2].isdigit() and needle[-1].isdigit())):
            return True
        start = text.find(needle, start + 1)
    return False


def exact_line(file: str, line: int, needle: str, reach: int = 80) -> int:
    """The line at or after `line` that holds `needle` (a text block's own line, not its key's); `line` if none does."""
    try:
        lines = _file_lines(file)
    except OSError:
        return line
    for n in range(max(line, 1), min(line + reach, len(lines)) + 1):
        if needle in lines[n - 1]:
            return n
    return line


_CACHE: dict[str, tuple[float, list[str]]] = {}


def _file_lines(file: str) -> list[str]:
    path = Path(file)
    stamp = path.stat().st_mtime
    cached = _CACHE.get(file)
    if cached is None or cached[0] != stamp:
        cached = (stamp, path.read_text(encoding="utf-8").splitlines())
        _CACHE[file] = cached
    return cached[1]


def did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def entries(k: Knowledge) -> Iterator[tuple[str, str, Any]]:
    for section in TEXT_SECTIONS:
        if section == "rules":
            for rule in k.rules:
                yield section, rule.id, rule
        elif section == "parameters":
            for pid, p in k.parameters.items():
                yield section, pid, p
        else:
            for entry_id, entry in getattr(k, section).items():
                yield section, entry_id, entry


def texts_in(obj: Any, quoted: bool = True) -> Iterator[Text]:
    """Every `Text` inside a schema object; with `quoted=False` not the titles of sources (quoted, not ours to word)."""
    if isinstance(obj, Text):
        yield obj
    elif isinstance(obj, Source) and not quoted:
        return
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from texts_in(getattr(obj, name), quoted)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from texts_in(item, quoted)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from texts_in(item, quoted)
