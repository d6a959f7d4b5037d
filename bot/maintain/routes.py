"""`regellots eval-routes`: how first messages, as people really write them, are routed.

Each item names every knowledge entry that would be a correct first reply
(`accept`, as "kind:id"), or says it is out of scope. Outcomes:

- correct: the bot answered or started a flow, and the entry is among `accept`;
- confidently wrong: it answered or started a flow with an entry NOT among `accept`
  (for an out-of-scope item: any in-scope entry);
- clarify: it asked which of a few entries was meant (`clarify_hit` when one of
  them is acceptable);
- fallback: it said plainly that it does not know (right for out of scope).

Out of scope is handled correctly by a fallback or by the matching
out-of-scope entry. Items marked `gap` (in scope, no fitting entry yet) are
reported apart: for them any confident answer is wrong.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.conversation.engine import Engine
from bot.conversation.replies import Response
from bot.understanding.pipeline import Incoming

ANSWERED = ("answer", "flow")


@dataclass(frozen=True)
class RouteItem:
    id: str
    text: str
    lang: str
    accept: tuple[str, ...]
    out_of_scope: bool
    gap: bool
    shape: str
    category: str


@dataclass(frozen=True)
class RouteOutcome:
    item: RouteItem
    kind: str  # correct | wrong | clarify | fallback
    target: str | None
    clarify_hit: bool = False


def load_items(path: Path) -> list[RouteItem]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [
        RouteItem(
            id=str(i["id"]),
            text=str(i["text"]),
            lang=str(i.get("lang", "sv")),
            accept=tuple(i.get("accept") or ()),
            out_of_scope=bool(i.get("out_of_scope")),
            gap=bool(i.get("gap")),
            shape=str(i.get("shape", "short")),
            category=str(i.get("category", "")),
        )
        for i in data.get("items", [])
    ]


def judge(item: RouteItem, response: Response) -> RouteOutcome:
    target = response.target
    if item.out_of_scope:
        if response.kind == "fallback" or (target or "").startswith("out_of_scope:") or (response.kind == "urgent" and response.urgent == "medical"):
            return RouteOutcome(item, "correct", target)  # the urgent 1177 reply alone is how a personal medical question is declined
        if response.kind in ANSWERED:
            return RouteOutcome(item, "wrong", target)
        return RouteOutcome(item, response.kind if response.kind in ("clarify", "fallback") else "fallback", target)
    if response.kind in ANSWERED and target:
        if target.startswith("out_of_scope:"):
            return RouteOutcome(item, "wrong", target)
        return RouteOutcome(item, "correct" if target in item.accept else "wrong", target)
    if response.kind == "clarify":
        offered = {o.value.removeprefix("go:") for o in response.options}
        return RouteOutcome(item, "clarify", None, clarify_hit=bool(offered & set(item.accept)))
    return RouteOutcome(item, "fallback", target)


@dataclass
class RouteResult:
    outcomes: list[RouteOutcome] = field(default_factory=list)

    def _of(self, *, oos: bool, gap: bool = False) -> list[RouteOutcome]:
        return [o for o in self.outcomes if o.item.out_of_scope == oos and o.item.gap == gap]

    def summary(self) -> dict[str, Any]:
        ins, oos, gaps = self._of(oos=False), self._of(oos=True), self._of(oos=False, gap=True)

        def share(items: list[RouteOutcome], kind: str) -> float:
            return round(sum(o.kind == kind for o in items) / len(items), 4) if items else 0.0

        every = ins + oos + gaps
        return {
            "items": len(every),
            "in_scope": len(ins),
            "in_scope_accuracy": share(ins, "correct"),
            "out_of_scope": len(oos),
            "out_of_scope_accuracy": share(oos, "correct"),
            "confidently_wrong": round(sum(o.kind == "wrong" for o in every) / len(every), 4) if every else 0.0,
            "fallback_rate_in_scope": share(ins, "fallback"),
            "clarify_rate_in_scope": share(ins, "clarify"),
            "clarify_with_a_right_option": round(sum(o.clarify_hit for o in ins) / len(ins), 4) if ins else 0.0,
            "gaps": len(gaps),
            "gaps_answered_confidently": sum(o.kind == "wrong" for o in gaps),
            "by_language": {
                lang: share([o for o in ins if o.item.lang == lang], "correct") for lang in sorted({o.item.lang for o in ins})
            },
            "by_shape": {
                shape: share([o for o in ins if o.item.shape == shape], "correct") for shape in sorted({o.item.shape for o in ins})
            },
        }


async def evaluate_routes(engine: Engine, items: list[RouteItem]) -> RouteResult:
    result = RouteResult()
    for n, item in enumerate(items):
        response = await engine.handle(f"route-{n}", Incoming(text=item.text))
        result.outcomes.append(judge(item, response))
    return result


def report(result: RouteResult, *, misses: bool = True) -> str:
    s = result.summary()
    lines = [
        f"items {s['items']}: in scope {s['in_scope']}, out of scope {s['out_of_scope']}, gaps {s['gaps']}",
        f"in-scope accuracy      {s['in_scope_accuracy']:.1%}   (sv {s['by_language'].get('sv', 0):.1%}, en {s['by_language'].get('en', 0):.1%}; "
        f"short {s['by_shape'].get('short', 0):.1%}, multi {s['by_shape'].get('multi', 0):.1%})",
        f"out-of-scope accuracy  {s['out_of_scope_accuracy']:.1%}",
        f"confidently wrong      {s['confidently_wrong']:.1%}   (of all items; gaps answered confidently: {s['gaps_answered_confidently']})",
        f"in scope: fallback {s['fallback_rate_in_scope']:.1%}, clarify {s['clarify_rate_in_scope']:.1%} "
        f"(with a right option {s['clarify_with_a_right_option']:.1%})",
    ]
    if misses:
        counts = Counter(o.kind for o in result.outcomes)
        lines.append(f"outcomes: {dict(counts)}")
        for o in result.outcomes:
            if o.kind != "correct":
                lines.append(f"  {o.kind:8} {o.item.id} -> {o.target or '-'}  | want {', '.join(o.item.accept[:3]) or 'out of scope'} | {o.item.text[:90]}")
    return "\n".join(lines)
