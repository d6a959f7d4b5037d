"""`regellots eval`: how often the bot answers realistic questions correctly.

A question in scope is answered correctly when the bot answers (or starts a
flow) and the reply is about every expected regulation and agency id. An
out-of-scope question is handled correctly only by the fallback (or, for a personal
medical question, the urgent 1177 reply alone): a
clarification or an answer would be a confident guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.conversation.engine import Engine
from bot.understanding.pipeline import Incoming


@dataclass(frozen=True)
class Question:
    q: str
    lang: str
    regulations: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    out_of_scope: bool = False
    tags: tuple[str, ...] = ()


@dataclass
class Outcome:
    question: Question
    correct: bool
    kind: str
    got_regulations: list[str]
    got_agencies: list[str]
    target: str | None


@dataclass
class Result:
    outcomes: list[Outcome] = field(default_factory=list)

    def _acc(self, items: list[Outcome]) -> float:
        return sum(o.correct for o in items) / len(items) if items else 1.0

    @property
    def in_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.question.out_of_scope]

    @property
    def out_of_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.question.out_of_scope]

    @property
    def in_scope_accuracy(self) -> float:
        return self._acc(self.in_scope)

    @property
    def out_of_scope_accuracy(self) -> float:
        return self._acc(self.out_of_scope)

    def summary(self) -> dict[str, Any]:
        groups = {
            "overall": self.outcomes,
            "in_scope": self.in_scope,
            "out_of_scope": self.out_of_scope,
            "sv": [o for o in self.outcomes if o.question.lang == "sv"],
            "en": [o for o in self.outcomes if o.question.lang == "en"],
            "typo": [o for o in self.outcomes if "typo" in o.question.tags],
        }
        return {
            **{name: {"accuracy": round(self._acc(items), 4), "correct": sum(o.correct for o in items), "total": len(items)} for name, items in groups.items()},
            "misses": [
                {"q": o.question.q, "lang": o.question.lang, "expected": list(o.question.regulations + o.question.agencies) or "out of scope", "kind": o.kind, "target": o.target, "got": o.got_regulations + o.got_agencies}
                for o in self.outcomes
                if not o.correct
            ],
        }


def load_questions(path: Path) -> list[Question]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for item in data.get("questions", []):
        expect = item.get("expect") or {}
        out.append(
            Question(
                q=str(item["q"]),
                lang=item.get("lang", "sv"),
                regulations=tuple(expect.get("regulations") or ()),
                agencies=tuple(expect.get("agencies") or ()),
                out_of_scope=bool(item.get("out_of_scope", False)),
                tags=tuple(item.get("tags") or ()),
            )
        )
    return out


async def evaluate(engine: Engine, questions: list[Question]) -> Result:
    result = Result()
    for i, question in enumerate(questions):
        response = await engine.handle(f"eval-{i}", Incoming(text=question.q))
        target = response.topic or response.flow
        if question.out_of_scope:
            # The fallback, or (for a personal medical question) the urgent 1177 reply alone.
            correct = response.kind == "fallback" or (response.kind == "urgent" and response.urgent == "medical")
        else:
            correct = (
                response.kind in ("answer", "flow")
                and set(question.regulations) <= set(response.regulations)
                and set(question.agencies) <= set(response.agencies)
            )
        result.outcomes.append(Outcome(question, correct, response.kind, response.regulations, response.agencies, target))
    return result


def report(result: Result) -> str:
    s = result.summary()
    lines = ["Evaluation", ""]
    for name in ("overall", "in_scope", "out_of_scope", "sv", "en", "typo"):
        g = s[name]
        lines.append(f"  {name:<13} {g['accuracy']:7.1%}  ({g['correct']}/{g['total']})")
    if s["misses"]:
        lines += ["", f"Misses ({len(s['misses'])}):"]
        for m in s["misses"]:
            lines.append(f"  [{m['lang']}] {m['q']}")
            lines.append(f"       expected {m['expected']}; got {m['kind']} {m['target'] or ''} {m['got']}")
    return "\n".join(lines)
