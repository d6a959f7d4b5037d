"""`regellots coverage`: which parts of the knowledge no test or evaluation question reaches.

Reached means: a topic was answered, a flow question was asked (flow/node),
a rule's conclusion was given. Conversation tests reach all three; evaluation
questions (each the first message of a new conversation) reach the topics
they are answered with and the first question of the flows they start.
Nothing here fails a build: the list tells maintainers where a test is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.conversation.engine import Engine
from bot.knowledge import Knowledge, read_files
from bot.maintain.convtests import FileResult, Reached
from bot.maintain.evaluation import Question
from bot.state import ConversationState, MemoryStore
from bot.understanding.pipeline import Incoming


async def reached_by_questions(knowledge: Knowledge, questions: list[Question]) -> Reached:
    store = MemoryStore()
    engine = Engine(knowledge, store, channel="eval")
    reached = Reached()
    for i, question in enumerate(questions):
        conversation = f"coverage-{i}"
        response = await engine.handle(conversation, Incoming(text=question.q))
        reached.observe(response, ConversationState.from_json(await store.load(conversation)))
    return reached


@dataclass
class Part:
    """One kind of thing (topics, flow nodes, rules): all of them, and where the unreached ones are."""

    name: str
    total: list[str]
    missed: list[tuple[str, str]] = field(default_factory=list)  # (id, file:line)

    @property
    def reached(self) -> int:
        return len(self.total) - len(self.missed)

    @property
    def percent(self) -> float:
        return 100.0 * self.reached / len(self.total) if self.total else 100.0


def _node_lines(knowledge: Knowledge) -> dict[tuple[str, str], str]:
    """(flow, node) → file:line, read from the files (the assembled knowledge keeps only entry lines)."""
    out: dict[tuple[str, str], str] = {}
    for f in read_files(knowledge.directory).files:
        for i, flow in enumerate(f.content.flows):
            for j, node in enumerate(flow.nodes):
                out.setdefault((flow.id, node.id), f"{f.label}:{f.line('flows', i, 'nodes', j)}")
    return out


def compute(knowledge: Knowledge, reached: Reached) -> list[Part]:
    def at(kind: str, entry_id: str) -> str:
        file, line = knowledge.where.get((kind, entry_id), ("?", 0))
        return f"{file}:{line}"

    nodes = [(flow.id, node.id) for flow in knowledge.flows.values() for node in flow.nodes]
    node_at = _node_lines(knowledge)
    topics = Part("topics", list(knowledge.topics), [(t, at("topics", t)) for t in knowledge.topics if t not in reached.topics])
    flow_nodes = Part("flow nodes", [f"{f}/{n}" for f, n in nodes], [(f"{f}/{n}", node_at.get((f, n), at("flows", f))) for f, n in nodes if (f, n) not in reached.nodes])
    rules = Part("rules", [r.id for r in knowledge.rules], [(r.id, at("rules", r.id)) for r in knowledge.rules if r.id not in reached.rules])
    return [topics, flow_nodes, rules]


def report(parts: list[Part], sources: list[str], results: list[FileResult]) -> str:
    lines = ["Coverage by " + " and ".join(sources), ""]
    for p in parts:
        lines.append(f"  {p.name:<11} {p.reached:>4}/{len(p.total):<4} {p.percent:5.1f}%   ({len(p.missed)} not reached)")
    failed = [r for r in results if not r.passed]
    if failed:
        lines += ["", f"note: {len(failed)} conversation test file(s) failed or are invalid; they count only up to the failing turn (run `regellots test`)."]
    for p in parts:
        if not p.missed:
            continue
        lines += ["", f"Not reached – {p.name} ({len(p.missed)}):"]
        width = max(len(i) for i, _ in p.missed)
        lines += [f"  {i:<{width}}  {where}" for i, where in p.missed]
    if all(not p.missed for p in parts):
        lines += ["", "Everything is reached by at least one test or question."]
    return "\n".join(lines)


def default_path(relative: str) -> Path:
    """A path under the working directory if it exists there, else under the repository."""
    here = Path(relative)
    return here if here.exists() else Path(__file__).resolve().parent.parent / relative
