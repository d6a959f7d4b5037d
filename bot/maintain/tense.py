"""Texts that speak of a date in the wrong tense: as coming when it has passed, or as past when it is ahead.

"Gäller från 2 augusti 2026" was right when written and quietly wrong after
that day. `regellots review` lists such texts (rendered for the day, so a
`{param:…}` date counts too) with the entry's source to check, so a maintainer
sees what to rephrase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.knowledge.loaded import Knowledge
from bot.knowledge.paramcheck import entries, exact_line, texts_in
from bot.knowledge.parameters import render

_MONTHS = {
    **{m: i + 1 for i, m in enumerate(["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober", "november", "december"])},
    **{m: i + 1 for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"])},
}
DATE = re.compile(r"\b(\d{1,2}) (" + "|".join(_MONTHS) + r") (\d{4})\b", re.IGNORECASE)
#: Words just before a date that make it coming (future) or done (past).
FUTURE = re.compile(
    r"\b(kommer att gälla(?: från)?|ska gälla från|ska börja gälla(?: den)?|börjar gälla(?: den)?|träder i kraft(?: den)?|föreslås gälla från"
    r"|will apply from|will apply on|will enter into force on|will take effect on|comes into force on|is due to apply from|will)\s+(?:den\s+|the\s+|on\s+)?$",
    re.IGNORECASE,
)
PAST = re.compile(
    r"\b(sedan|gällde(?: från)?|trädde i kraft(?: den)?|började gälla(?: den)?|since|applied from|entered into force on|took effect on)\s+(?:den\s+|the\s+|on\s+)?$",
    re.IGNORECASE,
)
WINDOW = 40


@dataclass(frozen=True, order=True)
class Tense:
    file: str
    line: int
    kind: str
    id: str
    day: date
    says: str  # "future" or "past"
    excerpt: str
    source: str


def wrong_tense(k: Knowledge, today: date) -> list[Tense]:
    out: set[Tense] = set()
    for section, entry_id, entry in entries(k):
        if section == "parameters":
            continue
        f, line = k.where.get((section, entry_id), (str(k.directory), 0))
        source = _first_source(entry)
        for text in texts_in(entry):
            for lang in ("sv", "en"):
                rendered = render(text.raw(lang), lang)
                for m in DATE.finditer(rendered):
                    day = _day(m)
                    if day is None:
                        continue
                    before = rendered[max(0, m.start() - WINDOW) : m.start()]
                    says = "future" if FUTURE.search(before) else "past" if PAST.search(before) else None
                    if says == "future" and day < today or says == "past" and day > today:
                        at = exact_line(f, line, m.group(0))
                        excerpt = " ".join(rendered[max(0, m.start() - WINDOW) : m.end()].split())
                        out.add(Tense(f, at, section.rstrip("s"), entry_id, day, says, excerpt, source))
    return sorted(out)


def report(found: list[Tense], today: date) -> str:
    if not found:
        return f"no text speaks of a date in the wrong tense (as of {today.isoformat()})"
    lines = [f"{len(found)} text(s) speak of a date in the wrong tense (as of {today.isoformat()}) – rephrase them:"]
    for t in found:
        wrong = "as coming, but it has passed" if t.says == "future" else "as past, but it is still ahead"
        lines += ["", f"{t.file}:{t.line}: {t.kind} '{t.id}' speaks of {t.day.isoformat()} {wrong}: “…{t.excerpt}”"]
        if t.source:
            lines.append(f"    source: {t.source}")
    return "\n".join(lines)


def _day(m: re.Match[str]) -> date | None:
    try:
        return date(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
    except ValueError:
        return None


def _first_source(entry: Any) -> str:
    sources = getattr(entry, "sources", None) or getattr(getattr(entry, "conclude", None), "sources", None) or []
    return sources[0].url if sources else ""
