"""`regellots unanswered`: what users asked that the bot could not answer, grouped.

The engine records every fallback and clarification (the text already
redacted of personal data, language, channel, time, and sometimes a salted
hash of the user). Similar questions are grouped greedily: each question, most
frequent first, joins the first group whose representative it resembles
(rapidfuzz token_set_ratio on normalised text), or starts a new group. The
report never shows user hashes: only redacted text and counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz

from bot.understanding.textnorm import plain

THRESHOLD = 80.0


@dataclass
class Group:
    key: str  # the normalised text of the representative
    texts: Counter[str] = field(default_factory=Counter)
    langs: Counter[str] = field(default_factory=Counter)
    channels: Counter[str] = field(default_factory=Counter)
    types: Counter[str] = field(default_factory=Counter)
    first: float = float("inf")
    last: float = 0.0

    @property
    def count(self) -> int:
        return sum(self.texts.values())

    @property
    def representative(self) -> str:
        return self.texts.most_common(1)[0][0]

    def add(self, event: dict[str, Any]) -> None:
        self.texts[str(event.get("text", ""))] += 1
        self.langs[str(event.get("lang") or "?")] += 1
        self.channels[str(event.get("channel") or "?")] += 1
        self.types[str(event.get("type") or "?")] += 1
        when = float(event.get("time") or 0.0)
        self.first, self.last = min(self.first, when), max(self.last, when)

    def as_dict(self) -> dict[str, Any]:
        """For --json: counts and redacted texts only (never user hashes)."""
        return {
            "count": self.count,
            "question": self.representative,
            "variants": [t for t, _ in self.texts.most_common()],
            "languages": dict(self.langs),
            "channels": dict(self.channels),
            "kinds": dict(self.types),
            "first_seen": _when(self.first),
            "last_seen": _when(self.last),
        }


def group(events: list[dict[str, Any]], threshold: float = THRESHOLD) -> list[Group]:
    """Greedy clustering of similar questions; the most frequent groups first."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        text = str(event.get("text") or "").strip()
        if text:
            by_key.setdefault(plain(text) or text.lower(), []).append(event)
    groups: list[Group] = []
    # Most frequent wordings first, so each group is represented by its commonest form.
    for key, items in sorted(by_key.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        best, best_score = None, threshold
        for g in groups:
            score = fuzz.token_set_ratio(key, g.key)
            if score >= best_score:
                best, best_score = g, score
                if score == 100:
                    break
        if best is None:
            best = Group(key)
            groups.append(best)
        for event in items:
            best.add(event)
    return sorted(groups, key=lambda g: (-g.count, -g.last, g.key))


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts and ts != float("inf") else "-"


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counter.most_common())


def report(groups: list[Group], since_text: str, limit: int) -> str:
    total = sum(g.count for g in groups)
    if not groups:
        return f"no unanswered questions recorded{since_text}"
    lines = [f"{total} unanswered question{'s' if total != 1 else ''}{since_text}, in {len(groups)} group{'s' if len(groups) != 1 else ''}, most frequent first:"]
    for g in groups[:limit]:
        lines.append("")
        lines.append(f"{g.count:>5}×  {g.representative}")
        lines.append(f"        languages: {_counts(g.langs)} · channels: {_counts(g.channels)} · {_counts(g.types)}")
        lines.append(f"        first seen {_when(g.first)}, last seen {_when(g.last)}")
        others = [t for t, _ in g.texts.most_common() if t != g.representative]
        if others:
            shown = "; ".join(others[:3]) + (f" (+{len(others) - 3} more)" if len(others) > 3 else "")
            lines.append(f"        also asked as: {shown}")
    if len(groups) > limit:
        lines += ["", f"… and {len(groups) - limit} more group(s) (use --limit)"]
    return "\n".join(lines)
