"""How long the replies are, per channel: every path of every flow, and the longest topic answers.

    python benchmarks/reply_sizes.py [--lang sv|en|both] [--json FILE] [--knowledge DIR]

Drives the real engine (in-memory store) through every path of every flow —
each choice pressed as a button, each amount question answered with the values
around the bounds its rules compare with — and renders what it sends with each
adapter's own renderer:

- Telegram: HTML messages (split at 4,096 UTF-16 units),
- Teams: the message activities (text plus any card text),
- console: the text the terminal shows (one "message" per engine reply).

Characters are *visible* characters: markup (HTML tags, Markdown marks, card
JSON) is not counted; link targets are not counted, link texts are. Reported
per flow: paths, the longest conclusion (total characters and messages), the
longest first message of a conclusion, the longest single message, and what
what "Varför?" / "Why?" after the conclusion sends (its first page; further pages come one by one on
"Next"), and the largest message of the other parts (all steps, agencies, sources: first pages).
Topics: the ten longest answers.

Before issue #14 the conclusion had no parts; its `why` was the typed command (`cmd:why`), which
then listed every finding at once. Both are what a user got for asking "why".

Targets (issue #14): the first message of a conclusion ≤ 1,000 visible
characters and exactly 1 message on Telegram and Teams; no single message over
1,500 characters unless the whole checklist was asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# -- every project import in one place (update here when modules move) ---------
from bot.conversation.engine import Engine, load_engine  # noqa: E402
from bot.conversation.replies import Response  # noqa: E402
from bot.knowledge.flowwalk import number_values  # noqa: E402
from bot.state import ConversationState, MemoryStore  # noqa: E402
from bot.understanding.pipeline import Incoming  # noqa: E402
from tests.support.sizes import CHANNELS, Sizes, measure  # noqa: E402

# ------------------------------------------------------------------------------

FIRST_LIMIT = 1000
MESSAGE_LIMIT = 1500

# -- walking the flows ------------------------------------------------------------


@dataclass
class PathResult:
    flow: str
    lang: str
    answers: list[str]
    conclusion: Sizes
    why: Sizes
    parts: list[Sizes]  #: the first page of each other part: all steps, agencies, sources


@dataclass
class Walker:
    engine: Engine
    lang: str
    counter: int = 0
    results: list[PathResult] = field(default_factory=list)

    def _cid(self) -> str:
        self.counter += 1
        return f"bench-{self.counter}"

    async def _fork(self, cid: str) -> str:
        raw = await self.engine.store.load(cid)
        new = self._cid()
        assert raw is not None
        await self.engine.store.save(new, raw)
        return new

    async def walk_flow(self, flow_id: str) -> None:
        cid = self._cid()
        await self.engine.handle(cid, Incoming(choice=f"lang:{self.lang}"))
        response = await self.engine.handle(cid, Incoming(choice=f"go:flow:{flow_id}"))
        await self._walk(flow_id, cid, response, [])

    async def _walk(self, flow_id: str, cid: str, response: Response, answers: list[str]) -> None:
        if response.kind == "conclusion":
            sizes = []
            for part in ("why", "steps", "agencies", "sources"):
                part_cid = await self._fork(cid)
                sizes.append(measure(await self.engine.handle(part_cid, Incoming(choice=f"res:{part}"))))
                await self.engine.store.save(part_cid, "")
            self.results.append(PathResult(flow_id, self.lang, answers, measure(response), sizes[0], sizes[1:]))
            return
        state = ConversationState.from_json(await self.engine.store.load(cid))
        assert state.flow is not None and not state.flow.done, f"{flow_id}: neither a question nor a conclusion after {answers}"
        node_id = state.flow.node
        if len(answers) > 50:
            raise RuntimeError(f"{flow_id}: a path longer than 50 answers: {answers}")
        choices = [o.value for o in response.options if o.value.startswith(f"ans:{flow_id}:{node_id}:")]
        node = self.engine.knowledge.node(flow_id, node_id)
        assert node is not None
        if choices:
            moves = [(value.rsplit(":", 1)[1], Incoming(choice=value)) for value in choices]
        elif node.number is not None:
            values = number_values(self.engine.knowledge.flows[flow_id], self.engine.knowledge.rules_for(flow_id), node.number.fact)
            moves = [(f"{v:.0f}", Incoming(text=f"{max(v, 0):.0f}")) for v in values if v >= 0]
        else:
            raise RuntimeError(f"{flow_id}/{node_id}: no answer buttons and not an amount question")
        for label, incoming in moves:
            branch = await self._fork(cid)
            await self._walk(flow_id, branch, await self.engine.handle(branch, incoming), [*answers, f"{node_id}={label}"])
            await self.engine.store.save(branch, "")  # free it


async def topics(engine: Engine, lang: str) -> list[tuple[str, Sizes]]:
    out = []
    for topic_id in engine.knowledge.topics:
        cid = f"topic-{lang}-{topic_id}"
        await engine.handle(cid, Incoming(choice=f"lang:{lang}"))
        out.append((topic_id, measure(await engine.handle(cid, Incoming(choice=f"go:topic:{topic_id}")))))
    return out


# -- the report ---------------------------------------------------------------------


def _cell(sizes: Sizes, channel: str) -> str:
    return f"{sizes.total(channel):,} / {sizes.count(channel)}"


def _max_by(items: list[PathResult], key: Callable[[PathResult], int]) -> PathResult:
    return max(items, key=key)


def report(paths: list[PathResult], topic_sizes: dict[str, list[tuple[str, Sizes]]], seconds: float) -> tuple[str, dict[str, Any]]:
    lines: list[str] = []
    data: dict[str, Any] = {"flows": [], "topics": [], "targets": {}}
    head = "| flow | lang | paths | longest conclusion: chars / msgs (Telegram · Teams · console) | max 1st msg (TG · Teams) | max msg (TG · Teams) | `why`: chars / msgs (TG · Teams) | largest part msg (TG · Teams) |"
    lines += [head, "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    flows = sorted({(p.flow, p.lang) for p in paths})
    for flow, lang in flows:
        mine = [p for p in paths if p.flow == flow and p.lang == lang]
        longest = _max_by(mine, lambda p: p.conclusion.total("telegram"))
        first_tg = max(p.conclusion.first["telegram"] for p in mine)
        first_tm = max(p.conclusion.first["teams"] for p in mine)
        max_tg = max(p.conclusion.largest("telegram") for p in mine)
        max_tm = max(p.conclusion.largest("teams") for p in mine)
        why = _max_by(mine, lambda p: p.why.total("telegram"))
        lines.append(
            f"| {flow} | {lang} | {len(mine)} | {_cell(longest.conclusion, 'telegram')} · {_cell(longest.conclusion, 'teams')} · "
            f"{_cell(longest.conclusion, 'console')} | {first_tg:,} · {first_tm:,} | {max_tg:,} · {max_tm:,} | "
            f"{_cell(why.why, 'telegram')} · {_cell(why.why, 'teams')} | "
            f"{max((s.largest('telegram') for p in mine for s in p.parts), default=0):,} · {max((s.largest('teams') for p in mine for s in p.parts), default=0):,} |"
        )
        data["flows"].append(
            {
                "flow": flow,
                "lang": lang,
                "paths": len(mine),
                "longest_path": longest.answers,
                "longest": {c: {"chars": longest.conclusion.total(c), "messages": longest.conclusion.count(c)} for c in CHANNELS},
                "max_first_message": {"telegram": first_tg, "teams": first_tm},
                "max_message": {"telegram": max_tg, "teams": max_tm},
                "why_longest": {c: {"chars": why.why.total(c), "messages": why.why.count(c)} for c in CHANNELS},
            }
        )
    lines += ["", "Ten longest topic answers (by Telegram characters): chars / msgs", ""]
    lines += ["| topic | lang | Telegram | Teams | console |", "| --- | --- | --- | --- | --- |"]
    for lang, items in topic_sizes.items():
        for topic_id, sizes in sorted(items, key=lambda x: -x[1].total("telegram"))[:10]:
            lines.append(f"| {topic_id} | {lang} | {_cell(sizes, 'telegram')} | {_cell(sizes, 'teams')} | {_cell(sizes, 'console')} |")
            data["topics"].append({"topic": topic_id, "lang": lang, **{c: {"chars": sizes.total(c), "messages": sizes.count(c)} for c in CHANNELS}})
    first_over = sum(1 for p in paths if max(p.conclusion.first["telegram"], p.conclusion.first["teams"]) > FIRST_LIMIT)
    not_one = sum(1 for p in paths if p.conclusion.first["telegram"] and (p.conclusion.count("telegram") != 1 or p.conclusion.count("teams") != 1))
    over = sum(1 for p in paths for s in (p.conclusion, p.why, *p.parts) for c in ("telegram", "teams") if s.largest(c) > MESSAGE_LIMIT)
    topic_over = sum(1 for items in topic_sizes.values() for _, s in items for c in ("telegram", "teams") if s.largest(c) > MESSAGE_LIMIT)
    data["targets"] = {
        "paths": len(paths),
        "conclusions_first_message_over_1000": first_over,
        "conclusions_not_exactly_one_message": not_one,
        "messages_over_1500_in_conclusions_and_their_parts": over,
        "topic_messages_over_1500": topic_over,
    }
    lines += [
        "",
        f"Targets over {len(paths):,} paths: conclusions whose first message is over {FIRST_LIMIT:,} visible characters: {first_over:,}; "
        f"conclusions not exactly one message on Telegram and Teams: {not_one:,}; messages over {MESSAGE_LIMIT:,} characters "
        f"(conclusions, `why` and the other parts, per channel): {over:,}; topic answer messages over {MESSAGE_LIMIT:,}: {topic_over}.",
        f"({seconds:.0f} s)",
    ]
    return "\n".join(lines), data


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lang", choices=("sv", "en", "both"), default="both")
    parser.add_argument("--json", type=Path, help="also write the numbers as JSON to this file")
    parser.add_argument("--knowledge", type=Path, default=None, help="knowledge directory (default: the shipped one)")
    parser.add_argument("--flow", action="append", help="only this flow (repeatable)")
    args = parser.parse_args()
    start = time.perf_counter()
    engine = load_engine(args.knowledge, MemoryStore(max_conversations=1_000_000), channel="bench")
    langs = ["sv", "en"] if args.lang == "both" else [args.lang]
    paths: list[PathResult] = []
    topic_sizes: dict[str, list[tuple[str, Sizes]]] = {}
    for lang in langs:
        walker = Walker(engine, lang)
        for flow_id in engine.knowledge.flows:
            if args.flow and flow_id not in args.flow:
                continue
            await walker.walk_flow(flow_id)
        paths += walker.results
        topic_sizes[lang] = await topics(engine, lang)
    text, data = report(paths, topic_sizes, time.perf_counter() - start)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    asyncio.run(main())
