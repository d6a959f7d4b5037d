"""`regellots review`: knowledge entries whose `reviewed` date is old enough to check again.

Reads the files one by one (not the assembled knowledge), so the list is
available even while a reference elsewhere is broken, and points at the
`reviewed:` line itself: that is the line to change after checking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.knowledge import read_files
from bot.knowledge.yamlfile import Problem

SECTIONS = (("regulations", "regulation"), ("agencies", "agency"), ("topics", "topic"))


@dataclass(frozen=True, order=True)
class Due:
    reviewed: date
    file: str
    line: int
    kind: str
    id: str
    title: str
    sources: tuple[str, ...]


def due_entries(directory: Path, cutoff: date) -> tuple[list[Due], list[Problem]]:
    """Entries reviewed before `cutoff`, oldest first; plus the problems of files that could not be read."""
    collected = read_files(directory)
    out: list[Due] = []
    for f in collected.files:
        for section, kind in SECTIONS:
            for i, entry in enumerate(getattr(f.content, section)):
                reviewed = entry.reviewed
                if reviewed is None or reviewed >= cutoff:
                    continue
                title = entry.title.sv if kind == "topic" else entry.name.sv
                out.append(Due(reviewed, f.label, f.line(section, i, "reviewed"), kind, entry.id, title, tuple(s.url for s in entry.sources)))
    errors = [p for p in collected.problems if p.severity == "error"]
    return sorted(out), errors


def report(due: list[Due], cutoff: date, today: date, errors: list[Problem]) -> str:
    lines: list[str] = []
    if errors:
        files = sorted({p.file for p in errors})
        lines += [f"note: {len(files)} file(s) could not be read and were skipped (run `regellots validate`): " + ", ".join(files), ""]
    if not due:
        lines.append(f"nothing due for review (everything was reviewed on or after {cutoff.isoformat()})")
        return "\n".join(lines)
    lines.append(f"{len(due)} entr{'y' if len(due) == 1 else 'ies'} due for review (reviewed before {cutoff.isoformat()}), oldest first:")
    for d in due:
        lines.append("")
        lines.append(f"{d.file}:{d.line}: {d.kind} '{d.id}' reviewed {d.reviewed.isoformat()} ({_age(d.reviewed, today)}) – {d.title}")
        lines += [f"    source: {url}" for url in d.sources]
    return "\n".join(lines)


def _age(day: date, today: date) -> str:
    days = (today - day).days
    if days >= 365:
        years = days // 365
        return f"{years} year{'s' if years > 1 else ''} ago"
    if days >= 60:
        return f"{days // 30} months ago"
    return f"{days} day{'s' if days != 1 else ''} ago"
