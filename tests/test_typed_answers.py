"""Typed answers to flow questions (tests/eval/realistic/typed_answers.yaml), through the engine.

Each item: start its flow by deep link, walk to its node by pressing choices (the shortest path from
the flow's start), type the text, and read what the engine did from the saved state. Accuracy must
be at least 95 % on each half; every item that must not be understood must re-ask the same node.

    .venv/bin/python -m tests.test_typed_answers [tune|report]   # accuracy and the misses
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.conversation.engine import Engine
from bot.conversation.replies import Response
from bot.knowledge import Knowledge, load_knowledge
from bot.state import MemoryStore
from bot.state.records import ConversationState
from bot.understanding.pipeline import Incoming

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "tests" / "eval" / "realistic" / "typed_answers.yaml"
TARGET = 0.95


def items() -> list[dict[str, Any]]:
    data = yaml.safe_load(SET.read_text(encoding="utf-8"))
    return list(data["items"])


def path_to(k: Knowledge, flow_id: str, node_id: str) -> list[tuple[str, str | None]]:
    """The steps from the flow's start to the node: (node id, choice id or None for a number node)."""
    flow = k.flows[flow_id]
    nodes = {n.id: n for n in flow.nodes}
    seen = {flow.start: [] }  # type: dict[str, list[tuple[str, str | None]]]
    queue = deque([flow.start])
    while queue:
        here = queue.popleft()
        if here == node_id:
            return seen[here]
        node = nodes[here]
        edges = [(c.id, c.next) for c in node.choices] if node.choices else [(None, node.number.next)] if node.number else []
        for choice_id, nxt in edges:
            if nxt in nodes and nxt not in seen:
                seen[nxt] = seen[here] + [(here, choice_id)]
                queue.append(nxt)
    raise LookupError(f"{flow_id}: no path to {node_id}")


def expected(k: Knowledge, item: dict[str, Any]) -> Any:
    """The choice id, the amount, or 'not_understood' the item expects (a bare number → that option)."""
    if "expect_amount" in item:
        return float(item["expect_amount"])
    want = str(item["expect"])
    if want.isdecimal():
        node = k.node(item["flow"], item["node"])
        assert node is not None and node.choices
        return node.choices[int(want) - 1].id
    return want


@dataclass
class Outcome:
    got: Any  # a choice id, an amount, "not_understood" (re-asked), or a description of what happened
    reasked: bool
    response: Response


async def run_item(engine: Engine, item: dict[str, Any], conversation: str) -> Outcome:
    k = engine.knowledge
    locale = "en-GB" if item.get("lang") == "en" else "sv-SE"
    flow_id, node_id = item["flow"], item["node"]

    async def send(**kw: Any) -> Response:
        return await engine.handle(conversation, Incoming(locale=locale, **kw))

    await send(text=f"/start {flow_id}")
    for at, choice_id in path_to(k, flow_id, node_id):
        if choice_id is None:
            await send(text="1000")
        else:
            await send(choice=f"ans:{flow_id}:{at}:{choice_id}")
    before = ConversationState.from_json(await engine.store.load(conversation))
    assert before.flow is not None and before.flow.node == node_id, f"{item['id']}: could not walk to {node_id}"
    steps = len(before.flow.history)
    response = await send(text=item["text"])
    after = ConversationState.from_json(await engine.store.load(conversation))
    fs = after.flow
    if fs is not None and fs.flow == flow_id and len(fs.history) == steps + 1 and fs.history[-1]["node"] == node_id:
        answer = fs.history[-1]["answer"]
        return Outcome(float(answer) if isinstance(answer, (int, float)) else answer, False, response)
    node = k.node(flow_id, node_id)
    assert node is not None
    # Re-asked: the same node, nothing answered, its question shown, and its options first with the same numbers.
    own = [f"ans:{flow_id}:{node_id}:{c.id}" for c in node.choices or []]
    reasked = (
        fs is not None and not fs.done and not fs.paused and fs.flow == flow_id and fs.node == node_id
        and len(fs.history) == steps and response.kind == "question"
        and any(node.ask.get(response.lang).strip() in r.text for r in response.replies)
        and [o.value for o in response.options][: len(own)] == own
    )
    if reasked:
        return Outcome("not_understood", True, response)
    return Outcome(f"{response.kind}:{response.topic or response.flow or ''}", False, response)


def correct(want: Any, outcome: Outcome) -> bool:
    if isinstance(want, float):
        return isinstance(outcome.got, float) and abs(outcome.got - want) <= max(1.0, abs(want) * 1e-6)
    return bool(outcome.got == want)


async def evaluate(k: Knowledge, half: str) -> tuple[int, int, list[str], list[str]]:
    """(right, total, misses, not-understood items that were not re-asked)."""
    engine = Engine(k, MemoryStore())
    right, total, misses, not_reasked = 0, 0, [], []
    for n, item in enumerate(i for i in items() if i["half"] == half):
        want = expected(k, item)
        outcome = await run_item(engine, item, f"{half}-{n}")
        total += 1
        if correct(want, outcome):
            right += 1
        else:
            misses.append(f"{item['id']} {item['flow']}/{item['node']} {item['text']!r}: want {want!r}, got {outcome.got!r}")
        if want == "not_understood" and not outcome.reasked:
            not_reasked.append(item["id"])
    return right, total, misses, not_reasked


@pytest.fixture(scope="module")
def shipped_kb() -> Knowledge:
    knowledge, problems = load_knowledge(ROOT / "knowledge")
    assert knowledge is not None, problems
    return knowledge


def test_every_item_is_well_formed(shipped_kb: Knowledge) -> None:
    for item in items():
        assert item["half"] in ("tune", "report"), item["id"]
        node = shipped_kb.node(item["flow"], item["node"])
        assert node is not None, item["id"]
        want = expected(shipped_kb, item)
        if isinstance(want, float):
            assert node.number is not None, item["id"]
        elif want != "not_understood":
            assert node.choices and want in {c.id for c in node.choices}, item["id"]
        path_to(shipped_kb, item["flow"], item["node"])


@pytest.mark.parametrize("half", ["tune", "report"])
def test_typed_answer_accuracy(shipped_kb: Knowledge, half: str) -> None:
    right, total, misses, not_reasked = asyncio.run(evaluate(shipped_kb, half))
    assert total > 100
    assert not not_reasked, f"not understood but not re-asked: {not_reasked}"
    assert right / total >= TARGET, f"{half}: {right}/{total} = {right / total:.1%}\n" + "\n".join(misses)


def main() -> None:
    knowledge, problems = load_knowledge(ROOT / "knowledge")
    assert knowledge is not None, problems
    for half in sys.argv[1:] or ["tune"]:
        right, total, misses, not_reasked = asyncio.run(evaluate(knowledge, half))
        print(f"typed answers, {half} half: {right}/{total} = {right / total:.1%}")
        for miss in misses:
            print("  miss:", miss)
        if not_reasked:
            print("  not re-asked:", " ".join(not_reasked))


if __name__ == "__main__":
    main()
